/**
 * Setup modes: SQPOLL (and its wake-up protocol), COOP_TASKRUN + TASKRUN_FLAG, SINGLE_ISSUER,
 * DEFER_TASKRUN, CQSIZE, NO_SQARRAY, SQE128/CQE32, NO_MMAP, and timed waits through
 * IORING_ENTER_EXT_ARG. SQPOLL tests stay short: two noisy cores.
 */
import { expect } from "bun:test";
import { writeFileSync } from "node:fs";
import {
  IORING_FEAT_EXT_ARG,
  IORING_FEAT_NODROP,
  IORING_SETUP_COOP_TASKRUN,
  IORING_SETUP_CQE32,
  IORING_SETUP_CQSIZE,
  IORING_SETUP_DEFER_TASKRUN,
  IORING_SETUP_NO_MMAP,
  IORING_SETUP_NO_SQARRAY,
  IORING_SETUP_SINGLE_ISSUER,
  IORING_SETUP_SQE128,
  IORING_SETUP_SQPOLL,
  IORING_SETUP_TASKRUN_FLAG,
  IORING_SQ_NEED_WAKEUP,
  SOCKET_URING_OP_SIOCINQ,
} from "../lib/constants.ts";
import { prepCmdSock, prepNop, prepRead, prepSend } from "../lib/prep.ts";
import { IoUring } from "../lib/ring.ts";
import { describeKernel, kernelTest as test } from "./helpers.ts";
import { closeAll, makePipe, queue, reap, run, tcpPair } from "./raw-helpers.ts";

/** Spin (without entering the kernel) until a CQE is ready; false after `ms`. */
function spinForCqe(ring: IoUring, ms = 2000): boolean {
  const end = performance.now() + ms;
  while (ring.cqReady() === 0) if (performance.now() > end) return false;
  return true;
}

describeKernel("setup modes", () => {
  test("SQPOLL: zero io_uring_enter calls in steady state — submit and reap through memory only", () => {
    using ring = new IoUring(16, { sqpoll: true, sqThreadIdle: 2000 });
    expect(ring.flags & IORING_SETUP_SQPOLL).toBeTruthy();
    // warm up: the first submit may have to wake the thread
    queue(ring, (s) => prepNop(s), 0);
    ring.submit();
    expect(spinForCqe(ring)).toBe(true);
    ring.cqAdvance(ring.cqReady());
    const before = ring.enterCount;
    let done = 0;
    for (let round = 0; round < 20; round++) {
      for (let k = 0; k < 8; k++) queue(ring, (s) => prepNop(s), round * 8 + k + 1);
      ring.submit();
      while (done < (round + 1) * 8) {
        if (!spinForCqe(ring)) throw new Error("the SQPOLL thread did not answer in 2 s");
        done += ring.forEachCqe(() => {});
      }
    }
    expect(done).toBe(160);
    expect(ring.enterCount - before).toBe(0);
  });

  test("SQPOLL wake-up: an idle poller sets IORING_SQ_NEED_WAKEUP, and submit() wakes it with one enter", async () => {
    using ring = new IoUring(4, { sqpoll: true, sqThreadIdle: 1 });
    queue(ring, (s) => prepNop(s), 1);
    ring.submit();
    expect(spinForCqe(ring)).toBe(true);
    ring.cqAdvance(1);
    let slept = false;
    for (let k = 0; k < 200 && !slept; k++) {
      await Bun.sleep(5);
      slept = (ring.counters().sqFlags & IORING_SQ_NEED_WAKEUP) !== 0;
    }
    expect(slept).toBe(true);
    const before = ring.enterCount;
    queue(ring, (s) => prepNop(s), 2);
    ring.submit();
    expect(ring.enterCount - before).toBe(1); // IORING_ENTER_SQ_WAKEUP
    expect(spinForCqe(ring)).toBe(true);
    expect(reap(ring, 1)[0]!.userData).toBe(2);
  });

  test("COOP_TASKRUN: a completion from another process's write arrives as task work, run without an IPI", async () => {
    using ring = new IoUring(4, { coopTaskrun: true, taskrunFlag: true });
    expect(ring.flags & (IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG)).toBe(IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
    const [rd, wr] = makePipe();
    const b = new Uint8Array(8);
    queue(ring, (s) => prepRead(s, rd, b, -1), 0x7a);
    ring.submit();
    const writer = Bun.spawn(["sh", "-c", `printf go > /proc/${process.pid}/fd/${wr}`]);
    await writer.exited;
    // When exactly the task work runs is the kernel's business (any return to user mode of this
    // thread may run it); a GETEVENTS enter always does, and afterwards nothing is pending.
    const c = ring.waitCqe();
    expect([c.userData, c.res]).toEqual([0x7a, 2]);
    ring.cqeSeen(c);
    expect(ring.taskrunPending()).toBe(false);
    closeAll(rd, wr);
  });

  test("DEFER_TASKRUN + TASKRUN_FLAG: a completion stays deferred, flagged by IORING_SQ_TASKRUN, until this thread asks for events", async () => {
    using ring = new IoUring(4, { deferTaskrun: true, taskrunFlag: true });
    expect(ring.flags & IORING_SETUP_DEFER_TASKRUN).toBeTruthy();
    expect(ring.flags & IORING_SETUP_SINGLE_ISSUER).toBeTruthy();
    const [rd, wr] = makePipe();
    const b = new Uint8Array(8);
    queue(ring, (s) => prepRead(s, rd, b, -1), 0x7b);
    ring.submit();
    writeFileSync(`/proc/self/fd/${wr}`, "deferred");
    await Bun.sleep(10);
    expect(ring.cqReady()).toBe(0); // syscalls ran (the write, the sleep), the completion did not
    expect(ring.taskrunPending()).toBe(true);
    const c = ring.peekCqe(); // sees the flag, enters with GETEVENTS, which runs the deferred work
    expect([c?.userData, c?.res]).toEqual([0x7b, 8]);
    ring.cqeSeen(c!);
    expect(ring.taskrunPending()).toBe(false);
    closeAll(rd, wr);
  });

  test("SINGLE_ISSUER: the creator submits; handing the submitter role to another thread is refused", () => {
    using ring = new IoUring(4, { singleIssuer: true });
    expect(ring.flags & IORING_SETUP_SINGLE_ISSUER).toBeTruthy();
    expect(run(ring, (s) => prepNop(s)).res).toBe(0);
    expect(() => ring.share("submitter")).toThrow(/SINGLE_ISSUER/);
  });

  test("CQSIZE: a 4-entry SQ with a 64-entry CQ holds 64 completions without overflow", () => {
    using ring = new IoUring(4, { cqEntries: 64 });
    expect(ring.flags & IORING_SETUP_CQSIZE).toBeTruthy();
    expect([ring.sqEntries, ring.cqEntries]).toEqual([4, 64]);
    for (let k = 0; k < 16; k++) {
      for (let j = 0; j < 4; j++) queue(ring, (s) => prepNop(s), k * 4 + j);
      ring.submit();
    }
    expect(ring.cqReady()).toBe(64);
    expect(ring.cqHasOverflow()).toBe(false);
  });

  test("NO_SQARRAY and NO_MMAP: the default ring has no SQ index array and lives in SharedArrayBuffers", () => {
    using ring = new IoUring(4);
    expect(ring.flags & IORING_SETUP_NO_SQARRAY).toBeTruthy();
    expect(ring.flags & IORING_SETUP_NO_MMAP).toBeTruthy();
    expect(ring.memory.sq.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(ring.features & IORING_FEAT_NODROP).toBeTruthy();
    using classic = new IoUring(4, { memory: "mmap" });
    expect(classic.flags & IORING_SETUP_NO_MMAP).toBe(0);
    expect(run(classic, (s) => prepNop(s), 3).userData).toBe(3);
  });

  for (const memory of ["shared", "mmap"] as const) {
    test(`SQE128 + CQE32 (${memory}): 128-byte SQEs and 32-byte CQEs keep their stride; a socket uring_cmd runs on big SQEs`, () => {
      using ring = new IoUring(8, { sqe128: true, cqe32: true, memory });
      expect(ring.flags & (IORING_SETUP_SQE128 | IORING_SETUP_CQE32)).toBe(IORING_SETUP_SQE128 | IORING_SETUP_CQE32);
      for (let round = 0; round < 3; round++) {
        for (let k = 0; k < 8; k++) queue(ring, (s) => prepNop(s), 0x100 + round * 8 + k);
        ring.submitAndWait(8);
        const got = reap(ring, 8);
        expect(got.map((c) => c.userData)).toEqual(Array.from({ length: 8 }, (_, k) => 0x100 + round * 8 + k));
      }
      const { listener, server, client } = tcpPair(ring);
      run(ring, (s) => prepSend(s, client, new Uint8Array(3)));
      let inq = 0;
      for (let k = 0; k < 100 && inq < 3; k++) inq = run(ring, (s) => prepCmdSock(s, SOCKET_URING_OP_SIOCINQ, server, 0, 0, null)).res;
      expect(inq).toBe(3);
      closeAll(listener, server, client);
    });
  }

  test("waitCqeTimeout: a timed wait through IORING_ENTER_EXT_ARG, no timeout SQE", () => {
    using ring = new IoUring(4);
    expect(ring.features & IORING_FEAT_EXT_ARG).toBeTruthy();
    const before = ring.counters();
    expect(ring.waitCqeTimeout(3)).toBeNull();
    expect(ring.counters().sqTail).toBe(before.sqTail); // no SQE was used for the timeout
    queue(ring, (s) => prepNop(s), 0x55);
    const c = ring.waitCqeTimeout(1000); // submits the NOP and waits for it
    expect(c?.userData).toBe(0x55);
    ring.cqeSeen(c!);
  });
});
