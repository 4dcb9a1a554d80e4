/**
 * soak — the library under load for N minutes: an echo server and its clients on two Urings,
 * and tree copies (copyTree with verify) in a loop, printing operations, errors, RSS and open
 * fds over time. Not part of `bun test`.
 *
 * Usage: bun run soak [--minutes N] [--interval S] [--clients N] [--files N]
 *        (defaults: --minutes 5 --interval 10 --clients 16 --files 300)
 *
 * Exit status 0 when nothing failed and neither fds nor RSS kept growing; 1 otherwise.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { copyTree, MSG_NOSIGNAL, Uring, type UringError } from "../../lib/index.ts";
import { prng } from "../prng.ts";

const Args = z.object({
  minutes: z.coerce.number().positive().max(24 * 60),
  interval: z.coerce.number().positive().max(3600),
  clients: z.coerce.number().int().min(1).max(1024),
  files: z.coerce.number().int().min(1).max(100_000),
});

function cli(): z.infer<typeof Args> {
  try {
    const { values } = parseArgs({
      options: {
        minutes: { type: "string", default: "5" },
        interval: { type: "string", default: "10" },
        clients: { type: "string", default: "16" },
        files: { type: "string", default: "300" },
      },
    });
    return Args.parse(values);
  } catch (e) {
    const why = e instanceof z.ZodError ? e.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("; ") : (e as Error).message;
    console.error(`soak: ${why}\nusage: bun run soak [--minutes N] [--interval S] [--clients N] [--files N]`);
    process.exit(2);
  }
}

const args = cli();
const deadline = performance.now() + args.minutes * 60_000;
const stats = { echoes: 0, echoBytes: 0, copies: 0, copiedFiles: 0, copiedBytes: 0, errors: 0 };
const errors: string[] = [];
const fail = (what: string, e: unknown) => {
  stats.errors++;
  if (errors.length < 20) errors.push(`${what}: ${(e as Error)?.message ?? String(e)}`);
};
const fds = () => readdirSync("/proc/self/fd").length;
const MiB = 1024 * 1024;

// ---------------------------------------------------------------- echo server and clients

const server = new Uring({ entries: 256 });
const clientIo = new Uring({ entries: 256 });
const { fd: listenFd, address } = await server.listenTcp("127.0.0.1", 0);
const stopServer = new AbortController();
const conns = new Set<Promise<void>>();

async function sendAll(io: Uring, fd: number, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length; ) done += await io.send(fd, bytes.subarray(done), MSG_NOSIGNAL);
}

async function serve(fd: number): Promise<void> {
  try {
    for await (const chunk of server.recvMany(fd, { signal: stopServer.signal, buffers: 16 })) await sendAll(server, fd, chunk);
  } catch (e) {
    if ((e as Error).name !== "AbortError" && !["ECONNRESET", "EPIPE"].includes((e as UringError).code)) fail(`server fd ${fd}`, e);
  } finally {
    await server.closeFd(fd).catch(() => {});
  }
}

const acceptLoop = (async () => {
  try {
    for await (const fd of server.acceptMany(listenFd, { signal: stopServer.signal })) {
      const p = serve(fd);
      conns.add(p);
      void p.finally(() => conns.delete(p));
    }
  } catch (e) {
    if ((e as Error).name !== "AbortError") fail("accept", e);
  }
})();

/** One client: connect, then echo random payloads until the deadline; reconnect every 200 round trips. */
async function client(id: number): Promise<void> {
  const r = prng(id + 1);
  while (performance.now() < deadline) {
    let fd = -1;
    try {
      fd = await clientIo.socket();
      await clientIo.connect(fd, { host: "127.0.0.1", port: address.port });
      for (let k = 0; k < 200 && performance.now() < deadline; k++) {
        const len = 1 + Math.floor(r() * 16384);
        const out = new Uint8Array(len);
        for (let i = 0; i < len; i += 97) out[i] = (r() * 256) | 0;
        await sendAll(clientIo, fd, out);
        const back = new Uint8Array(len);
        for (let got = 0; got < len; ) {
          const n = await clientIo.recv(fd, back.subarray(got));
          if (n === 0) throw new Error("server closed the connection");
          got += n;
        }
        if (Buffer.compare(out, back) !== 0) throw new Error(`echo of ${len} bytes came back different`);
        stats.echoes++;
        stats.echoBytes += len;
      }
    } catch (e) {
      fail(`client ${id}`, e);
      await Bun.sleep(50);
    } finally {
      if (fd >= 0) await clientIo.closeFd(fd).catch(() => {});
    }
  }
}

// ---------------------------------------------------------------- tree copies

const root = join(tmpdir(), `bun-uring-soak-${process.pid}`);
const src = join(root, "src");

function makeTree(): Map<string, string> {
  const r = prng(42);
  const sums = new Map<string, string>();
  for (let k = 0; k < args.files; k++) {
    const dir = join(src, `d${k % 17}`, `e${k % 5}`);
    mkdirSync(dir, { recursive: true });
    const size = r() < 0.05 ? Math.floor(r() * 4 * MiB) : Math.floor(r() * 64 * 1024);
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) bytes[i] = (r() * 256) | 0;
    const rel = join(`d${k % 17}`, `e${k % 5}`, `f${k}`);
    writeFileSync(join(src, rel), bytes);
    sums.set(rel, createHash("sha256").update(bytes).digest("hex"));
  }
  return sums;
}

async function copier(sums: Map<string, string>): Promise<void> {
  let n = 0;
  while (performance.now() < deadline) {
    const dst = join(root, `dst${n++ % 2}`);
    try {
      const summary = await copyTree(src, dst, { verify: n % 4 === 0 });
      stats.copies++;
      stats.copiedFiles += summary.files;
      stats.copiedBytes += summary.bytes;
      if (summary.errors.length) fail("copyTree", new Error(summary.errors[0]!.message));
      // spot-check a few files against the source checksums
      let k = 0;
      for (const [rel, sum] of sums) {
        if (k++ % 50 !== n % 50) continue;
        const got = createHash("sha256").update(readFileSync(join(dst, rel))).digest("hex");
        if (got !== sum) fail("copy check", new Error(`${rel} differs from its source`));
      }
    } catch (e) {
      fail("copyTree", e);
    } finally {
      rmSync(dst, { recursive: true, force: true });
    }
  }
}

// ---------------------------------------------------------------- the run

rmSync(root, { recursive: true, force: true });
const sums = makeTree();
const t0 = performance.now();
const samples: { rss: number; fds: number }[] = [];
const sample = () => {
  const rss = process.memoryUsage().rss;
  const f = fds();
  samples.push({ rss, fds: f });
  const s = ((performance.now() - t0) / 1000).toFixed(0).padStart(5);
  console.log(
    `${s}s  echoes ${String(stats.echoes).padStart(9)} (${(stats.echoBytes / MiB).toFixed(0).padStart(6)} MiB)  ` +
      `copies ${String(stats.copies).padStart(5)} (${String(stats.copiedFiles).padStart(8)} files, ${(stats.copiedBytes / MiB).toFixed(0).padStart(6)} MiB)  ` +
      `errors ${stats.errors}  rss ${(rss / MiB).toFixed(1)} MiB  fds ${f}`,
  );
};
console.log(`soak: ${args.minutes} min, ${args.clients} echo clients on 127.0.0.1:${address.port}, copies of ${args.files} files (pid ${process.pid})`);
sample();
const timer = setInterval(sample, args.interval * 1000);
await Promise.all([...Array.from({ length: args.clients }, (_, i) => client(i)), copier(sums)]);
clearInterval(timer);
stopServer.abort();
await acceptLoop;
await Promise.all(conns);
await clientIo.close();
await server.close();
await server.closeFd(listenFd).catch(() => {});
rmSync(root, { recursive: true, force: true });
Bun.gc(true);
sample();

// growth: compare the last sample with the one a quarter of the way in (after warm-up)
const base = samples[Math.max(1, Math.floor(samples.length / 4))] ?? samples[0]!;
const last = samples.at(-1)!;
const rssGrowth = last.rss - base.rss;
console.log(
  `soak: done — ${stats.echoes} echoes, ${stats.copies} tree copies, ${stats.errors} errors; ` +
    `RSS ${(base.rss / MiB).toFixed(1)} → ${(last.rss / MiB).toFixed(1)} MiB, fds ${samples[0]!.fds} → ${last.fds}`,
);
for (const e of errors) console.log(`  error: ${e}`);
const ok = stats.errors === 0 && last.fds <= samples[0]!.fds && rssGrowth < 128 * MiB && stats.echoes > 0 && stats.copies > 0;
process.exit(ok ? 0 : 1);
