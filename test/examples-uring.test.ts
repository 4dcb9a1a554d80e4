/**
 * The Promise-tier examples run as a user would run them: 03-cat-async, echo-server, 10-1000-reads.
 * They are subprocesses: an example may call process.exit(), and its output is the thing under test.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { kernelTest, tempDir, REPO, runBun } from "./helpers.ts";

const repo = REPO;

const run = runBun;

describe("examples/03-cat-async.ts", () => {
  let dir: ReturnType<typeof tempDir>;
  // 16 MiB + 5 bytes: more than one 16 MiB window of 64 KiB reads, and not a multiple of the block size.
  const huge = randomBytes(16 * 1024 * 1024 + 5);
  // 1 MiB + 123 bytes: 17 blocks of 64 KiB, the last one partial, all in one Promise.all.
  const big = randomBytes(1024 * 1024 + 123);
  const small = randomBytes(5000);
  let hugePath: string;
  let bigPath: string;
  let smallPath: string;
  let emptyPath: string;

  beforeAll(() => {
    dir = tempDir("bun-uring-examples-uring-");
    hugePath = join(dir.path, "huge.bin");
    bigPath = join(dir.path, "big.bin");
    smallPath = join(dir.path, "small.bin");
    emptyPath = join(dir.path, "empty");
    writeFileSync(hugePath, huge);
    writeFileSync(bigPath, big);
    writeFileSync(smallPath, small);
    writeFileSync(emptyPath, "");
  });
  afterAll(() => dir.cleanup());

  kernelTest("reproduces a file of more than 1 MiB, byte for byte", () => {
    const r = run("examples/03-cat-async.ts", bigPath);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(big.length);
    expect(Buffer.compare(r.stdout, big)).toBe(0);
  });

  kernelTest("a file bigger than one 16 MiB window comes out whole", () => {
    const r = run("examples/03-cat-async.ts", hugePath);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(huge.length);
    expect(Buffer.compare(r.stdout, huge)).toBe(0);
  });

  kernelTest("an empty file gives empty output", () => {
    const r = run("examples/03-cat-async.ts", emptyPath);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(0);
  });

  kernelTest("several files come out concatenated, in argument order", () => {
    const r = run("examples/03-cat-async.ts", smallPath, emptyPath, bigPath, smallPath);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(Buffer.compare(r.stdout, Buffer.concat([small, big, small]))).toBe(0);
  });

  kernelTest("a missing file: ENOENT on stderr naming it, exit 1, the other files still written", () => {
    const missing = join(dir.path, "does-not-exist");
    const r = run("examples/03-cat-async.ts", smallPath, missing, smallPath);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(`03-cat-async: ${missing}: ENOENT (no such file or directory)`);
    expect(Buffer.compare(r.stdout, Buffer.concat([small, small]))).toBe(0);
  });

  kernelTest("a directory: the rejected read is reported as EISDIR", () => {
    const r = run("examples/03-cat-async.ts", dir.path);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`03-cat-async: ${dir.path}: EISDIR`);
  });

  test("no arguments: a usage line and exit 2", () => {
    const r = run("examples/03-cat-async.ts");
    expect(r.code).toBe(2);
    expect(r.err).toContain("usage: bun examples/03-cat-async.ts FILE...");
  });
});

/** Start the echo server; resolves once it has printed `listening on HOST:PORT`. */
async function startEchoServer(...extra: string[]): Promise<{ proc: Bun.Subprocess<"ignore", "pipe", "pipe">; host: string; port: number }> {
  const proc = Bun.spawn(["bun", "examples/echo-server.ts", "--port", "0", ...extra], {
    cwd: repo,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`echo-server exited before listening: ${await new Response(proc.stderr).text()}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const m = /^listening on (\S+):(\d+)\n/.exec(text);
  if (!m) throw new Error(`unexpected first line from echo-server: ${JSON.stringify(text)}`);
  const port = Number(m[2]);
  expect(port).toBeGreaterThan(0); // --port 0: the real port the kernel picked
  return { proc, host: m[1]!, port };
}

/** SIGTERM the server; it must exit 0 within 5 s, and say why it stopped. */
async function stopEchoServer(proc: Bun.Subprocess<"ignore", "pipe", "pipe">): Promise<void> {
  proc.kill("SIGTERM");
  const code = await Promise.race([proc.exited, Bun.sleep(5000).then(() => "timeout" as const)]);
  const stderr = await new Response(proc.stderr).text();
  expect(code).toBe(0);
  expect(stderr).toContain("SIGTERM: stopping");
}

/** Connect, send `messages` one after another, and resolve with everything echoed once it adds up. The socket stays open. */
function echoClient(host: string, port: number, messages: Uint8Array[]): Promise<{ socket: Socket; echoed: Buffer }> {
  const total = messages.reduce((s, m) => s + m.length, 0);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const socket = connect({ host, port }, async () => {
      for (const m of messages) {
        // Respect backpressure, one message at a time, so the server sees several separate sends.
        if (!socket.write(m)) await new Promise((r) => socket.once("drain", r));
      }
    });
    socket.on("data", (d: Buffer) => {
      chunks.push(d);
      received += d.length;
      if (received >= total) resolve({ socket, echoed: Buffer.concat(chunks) });
    });
    socket.on("error", reject);
    socket.on("close", () => reject(new Error(`closed after ${received} of ${total} bytes`)));
  });
}

/** 20 clients at once, each sending several messages (one of 256 KiB); every byte must come back, in order. */
async function twentyClients(host: string, port: number): Promise<{ socket: Socket; echoed: Buffer }[]> {
  const clients = Array.from({ length: 20 }, (_, i) => [
    Buffer.from(`hello from client ${i}\n`),
    randomBytes(1 + i * 97),
    randomBytes(256 * 1024), // more than the server's 16 KiB receive buffers and the socket buffers
    Buffer.from(`bye ${i}`),
  ]);
  const results = await Promise.all(clients.map((messages) => echoClient(host, port, messages)));
  for (let i = 0; i < clients.length; i++) {
    const sent = Buffer.concat(clients[i]!);
    expect(results[i]!.echoed.length).toBe(sent.length);
    expect(Buffer.compare(results[i]!.echoed, sent)).toBe(0);
  }
  return results;
}

describe("examples/echo-server.ts", () => {
  kernelTest(
    "20 concurrent clients get their bytes back, a reset peer only loses its own connection, SIGTERM exits 0",
    async () => {
      const { proc, host, port } = await startEchoServer();
      try {
        // A peer that vanishes with a RST mid-echo: the server must only close that connection.
        await new Promise<void>((resolve, reject) => {
          const s = connect({ host, port }, () => {
            s.write(randomBytes(256 * 1024));
            setTimeout(() => {
              s.resetAndDestroy();
              resolve();
            }, 20);
          });
          s.on("error", reject);
        });

        const results = await twentyClients(host, port);

        // Half the clients hang up; the other half are still connected when SIGTERM arrives.
        for (const r of results.slice(0, 10)) r.socket.end();
        const stillOpen = results.slice(10).map(
          (r) =>
            new Promise<void>((resolve) => {
              r.socket.removeAllListeners("close");
              r.socket.removeAllListeners("error");
              r.socket.on("error", () => undefined);
              r.socket.on("close", () => resolve());
            }),
        );
        await stopEchoServer(proc);
        // The server closed the connections that were still open.
        await Promise.race([Promise.all(stillOpen), Bun.sleep(2000).then(() => Promise.reject(new Error("clients not closed")))]);
      } finally {
        proc.kill("SIGKILL");
      }
    },
    15000,
  );

  // A CQ of 4 entries overflows all the time, and the kernel then ends multishot accepts and recvs
  // with a successful CQE that lacks IORING_CQE_F_MORE: the server must re-arm, not hang up.
  kernelTest(
    "a tiny ring (--entries 2) whose CQ overflows constantly still echoes every byte",
    async () => {
      const { proc, host, port } = await startEchoServer("--entries", "2");
      try {
        const results = await twentyClients(host, port);
        for (const r of results) r.socket.destroy();
        await stopEchoServer(proc);
      } finally {
        proc.kill("SIGKILL");
      }
    },
    15000,
  );

  // Every open connection holds a multishot recv in the kernel for its whole life; past the CQ size
  // (512 by default) nothing may get stuck behind them.
  kernelTest(
    "600 idle connections, then one message on each: all are echoed",
    async () => {
      const { proc, host, port } = await startEchoServer();
      const sockets: Socket[] = [];
      try {
        await Promise.all(
          Array.from({ length: 600 }, () =>
            new Promise<void>((resolve, reject) => {
              const s = connect({ host, port }, () => resolve());
              s.on("error", reject);
              sockets.push(s);
            }),
          ),
        );
        await Bun.sleep(200); // let the server accept them all and arm 600 multishot recvs
        const echoed = await Promise.all(
          sockets.map(
            (s, i) =>
              new Promise<string>((resolve) => {
                let got = "";
                const msg = `ping ${i}`;
                s.on("data", (d: Buffer) => {
                  got += d.toString();
                  if (got.length >= msg.length) resolve(got);
                });
                s.write(msg);
                setTimeout(() => resolve(got), 5000);
              }),
          ),
        );
        expect(echoed).toEqual(sockets.map((_, i) => `ping ${i}`));
        await stopEchoServer(proc);
      } finally {
        for (const s of sockets) s.destroy();
        proc.kill("SIGKILL");
      }
    },
    15000,
  );

  test("a bad --port: a usage line and exit 2", () => {
    const r = run("examples/echo-server.ts", "--port", "70000");
    expect(r.code).toBe(2);
    expect(r.err).toContain("usage: bun examples/echo-server.ts");
  });
});

describe("examples/10-1000-reads.ts", () => {
  kernelTest("the table lists every method, and all of them read identical bytes", () => {
    const r = run("examples/10-1000-reads.ts", "--size-mib", "4", "--repeat", "2");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("1000 reads of 4096 B");
    for (const method of ["io_uring (Uring)", "readSync loop", "16× Worker readSync", "fs.promises read"]) {
      expect(r.out).toMatch(new RegExp(`^${method.replace(/[()]/g, "\\$&")}\\s+\\d+\\.\\d+ ms\\s+[\\d,]+\\s+\\d+\\.\\d\\s+\\d+\\.\\d+ ms\\s+\\d+\\.\\d+ ms\\s+[0-9a-f]{12}`, "m"));
    }
    expect(r.out).toContain("verification: all 4 methods read identical bytes");
    // The temp file (and its directory) is gone.
    const file = /in (\S+) \(4\.0 MiB\)/.exec(r.out)?.[1];
    expect(file).toBeDefined();
    expect(existsSync(join(file!, ".."))).toBe(false);
  });

  test("a bad option: a usage line and exit 2", () => {
    const r = run("examples/10-1000-reads.ts", "--size-mib", "0");
    expect(r.code).toBe(2);
    expect(r.err).toContain("usage: bun examples/10-1000-reads.ts");
  });
});
