/**
 * Rings in SharedArrayBuffers shared with a Worker: one submitter thread, one
 * reaper thread, each the only writer of its index.
 */
import { expect } from "bun:test";
import { IoUring, prepNop } from "../lib/index.ts";
import { describeKernel, kernelTest as test } from "./helpers.ts";

describeKernel("shared rings", () => {
  test("share() hands a role away, and the giver can no longer use it", () => {
    using ring = new IoUring(4, { memory: "shared" });
    const shared = ring.share("reaper");
    expect(shared.rings.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(shared.role).toBe("reaper");
    expect(() => ring.peekCqe()).toThrow(expect.objectContaining({ code: "ERR_URING_ROLE" }));
    expect(() => ring.share("reaper")).toThrow(expect.objectContaining({ code: "ERR_URING_ROLE" }));
    // the submitter role stays here
    prepNop(ring.getSqe()!);
    expect(ring.submit()).toBe(1);
    const reaper = IoUring.attach(shared);
    expect(() => reaper.getSqe()).toThrow(expect.objectContaining({ code: "ERR_URING_ROLE" }));
    const cqe = reaper.waitCqe();
    expect(cqe.res).toBe(0);
    reaper.cqeSeen(cqe);
    expect(ring.cqReady()).toBe(0); // the submitter sees the reaper's head
    reaper.close();
    expect(ring.closed).toBe(false); // an attached handle never closes the owner's fd
  });

  test("share() refuses mmap rings, SINGLE_ISSUER submitters and DEFER_TASKRUN rings", () => {
    using mm = new IoUring(2, { memory: "mmap" });
    expect(() => mm.share()).toThrow(expect.objectContaining({ code: "ERR_URING_ROLE" }));
    using si = new IoUring(2, { singleIssuer: true });
    expect(() => si.share("submitter")).toThrow(/SINGLE_ISSUER/);
    expect(si.share("reaper").role).toBe("reaper");
    using dt = new IoUring(2, { deferTaskrun: true });
    expect(() => dt.share("reaper")).toThrow(/DEFER_TASKRUN/);
    expect(() => IoUring.attach({ fd: 3 } as never)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
  });

  test("main submits 2M NOPs, a Worker reaps: every user_data exactly once, in order", async () => {
    const total = Number(process.env.BUN_URING_STRESS_OPS ?? 2_000_000);
    using ring = new IoUring(64, { memory: "shared" });
    const progress = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(new URL("./fixtures/nop-reaper.ts", import.meta.url));
    try {
      const done = new Promise<{ reaped: number; errors: number; firstError: string; missing: number }>((resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => reject(e);
      });
      worker.postMessage({ shared: ring.share("reaper"), total, progress });
      let next = 0;
      while (next < total) {
        // never more in flight than the CQ holds: the reaper publishes how far it got
        const room = ring.cqEntries - (next - Atomics.load(progress, 0));
        if (room <= 0) {
          Atomics.wait(progress, 0, Atomics.load(progress, 0), 5);
          continue;
        }
        let n = 0;
        let sqe;
        while (n < room && next < total && (sqe = ring.getSqe())) {
          prepNop(sqe);
          sqe.userData = next++;
          n++;
        }
        ring.submit();
      }
      const result = await done;
      expect(result.firstError).toBe("");
      expect(result).toEqual({ reaped: total, errors: 0, firstError: "", missing: 0 });
    } finally {
      worker.terminate();
    }
  });
});

describeKernel("examples/11-worker-reaper.ts", () => {
  test("a Worker reaps every read once and its hashes match a plain read", () => {
    const run = Bun.spawnSync(["bun", "examples/11-worker-reaper.ts"], { cwd: `${import.meta.dir}/..`, stderr: "pipe" });
    const out = run.stdout.toString();
    expect(run.stderr.toString()).toBe("");
    expect(run.exitCode).toBe(0);
    expect(out).toContain("memory: shared");
    expect(out).toMatch(/completions seen exactly once: yes \(129 blocks\)/);
    expect(out).toMatch(/hashes matching a plain read: 129\/129/);
  });
});
