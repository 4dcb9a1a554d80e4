/**
 * Examples 06–08 of the raw-tier course run as a user would run them, so none of them rots:
 * 06-fixed-buffers copies a file, 07-sqpoll shows zero enters in steady state, 08-multishot-echo
 * serves 100 concurrent clients.
 */
import { afterAll, beforeAll, expect } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { describeKernel, kernelTest as test, tempDir, REPO, runBun } from "./helpers.ts";

const repo = REPO;

const runExample = runBun;

describeKernel("examples 06–08", () => {
  let dir: ReturnType<typeof tempDir>;
  beforeAll(() => {
    dir = tempDir("bun-uring-course-");
  });
  afterAll(() => dir.cleanup());

  test("06-fixed-buffers copies a file byte for byte, double-buffered, and reports a missing source", () => {
    for (const size of [0, 1, 65536, 300_001]) {
      const src = join(dir.path, `src-${size}`);
      const dst = join(dir.path, `dst-${size}`);
      writeFileSync(src, randomBytes(size));
      const r = runExample("examples/06-fixed-buffers.ts", src, dst);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      expect(r.out).toContain(`copied ${size} bytes`);
      expect(Buffer.compare(readFileSync(dst), readFileSync(src))).toBe(0);
    }
    const bad = runExample("examples/06-fixed-buffers.ts", join(dir.path, "nope"), join(dir.path, "x"));
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("no such file or directory");
  });

  test("07-sqpoll: zero io_uring_enter calls in steady state, one to wake the sleeping poller", () => {
    const r = runExample("examples/07-sqpoll.ts", "2000");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("steady state: 2000 NOPs, 0 io_uring_enter calls");
    expect(r.out).toMatch(/waking it took 1 io_uring_enter call/);
  });

  test("08-multishot-echo serves 100 concurrent clients: every byte echoed, then it exits cleanly", async () => {
    const server = Bun.spawn(["bun", "examples/08-multishot-echo.ts", "0", "--max", "100"], { cwd: repo, stdout: "pipe", stderr: "pipe" });
    const reader = server.stdout.getReader();
    const dec = new TextDecoder();
    let head = "";
    while (!head.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      head += dec.decode(value);
    }
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(head)?.[1]);
    expect(port).toBeGreaterThan(0);
    const client = (i: number) =>
      new Promise<string>((resolve, reject) => {
        const msg = `client ${i} says hello; `.repeat(1 + (i % 40)); // up to ~1 KiB, several buffers for some
        const s = connect(port, "127.0.0.1", () => s.write(msg));
        let got = "";
        s.on("data", (d) => {
          got += d;
          if (got.length >= msg.length) s.end();
        });
        s.on("close", () => resolve(got === msg ? "ok" : `client ${i}: got ${got.length} of ${msg.length} bytes`));
        s.on("error", reject);
      });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => client(i)));
    expect(results.filter((r) => r !== "ok")).toEqual([]);
    let tail = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      tail += dec.decode(value);
    }
    expect(await server.exited).toBe(0);
    expect(await new Response(server.stderr).text()).toBe("");
    const expected = Array.from({ length: 100 }, (_, i) => `client ${i} says hello; `.length * (1 + (i % 40))).reduce((a, b) => a + b, 0);
    expect(tail).toContain(`served 100 connections, echoed ${expected} bytes`);
  }, 30_000);
});
