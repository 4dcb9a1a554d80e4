/**
 * 07-sqpoll — submission without system calls: a kernel thread polls the SQ.
 *
 * Usage: bun examples/07-sqpoll.ts [NOPS]
 *
 * What it teaches: IORING_SETUP_SQPOLL and its wake-up protocol. With SQPOLL
 * the kernel starts a thread that watches the SQ tail; publishing the tail
 * (a release store) is all a submit needs, and CQEs are reaped from memory,
 * so a busy ring makes no io_uring_enter(2) calls at all. The program counts
 * them (`ring.enterCount`) in three phases:
 *   1. warm-up: the first submit may have to wake the thread;
 *   2. steady state: NOPS NOPs (default 10000) in batches of 32, reaped by
 *      spinning on the CQ tail — zero io_uring_enter calls;
 *   3. idle: after `sqThreadIdle` ms without work the thread sleeps and sets
 *      IORING_SQ_NEED_WAKEUP in the SQ flags; the next submit sees the flag
 *      (after a full fence — see lib/ring.ts) and enters once with
 *      IORING_ENTER_SQ_WAKEUP.
 * The price: a kernel thread spinning on a CPU while there is work. Use it
 * for rings that stay busy; elsewhere the syscall is cheaper than the core.
 *
 * Minimum kernel: Linux 5.11 (SQPOLL without privileges, and without fixed files).
 */
import { IORING_SETUP_SQPOLL, IORING_SQ_NEED_WAKEUP, IoUring, prepNop } from "../lib/index.ts";

const total = Number(process.argv[2] ?? 10_000);
if (!Number.isInteger(total) || total < 1) {
  console.error("usage: bun examples/07-sqpoll.ts [NOPS]");
  process.exit(2);
}
const BATCH = 32;
const IDLE_MS = 500; // long enough that a noisy machine does not put the poller to sleep mid-run

using ring = new IoUring(64, { sqpoll: true, sqThreadIdle: IDLE_MS });
if (!(ring.flags & IORING_SETUP_SQPOLL)) throw new Error("the kernel did not give us SQPOLL");

/** Spin on the CQ tail (a load, no syscall) until `n` completions are reaped. */
function reap(n: number): void {
  let seen = 0;
  const deadline = performance.now() + 5000;
  while (seen < n) {
    seen += ring.forEachCqe((cqe) => {
      if (cqe.res !== 0) throw new Error(`NOP failed: ${cqe.res}`);
    });
    if (performance.now() > deadline) throw new Error("the SQPOLL thread did not answer within 5 s");
  }
}

// 1. warm-up
let before = ring.enterCount;
prepNop(ring.getSqeOrThrow());
ring.submit();
reap(1);
console.log(`warm-up: 1 NOP, ${ring.enterCount - before} io_uring_enter call(s)`);

// 2. steady state: the poller is awake, so submit() only publishes the tail
before = ring.enterCount;
for (let done = 0; done < total; ) {
  const n = Math.min(BATCH, total - done);
  for (let k = 0; k < n; k++) prepNop(ring.getSqeOrThrow());
  ring.submit();
  reap(n);
  done += n;
}
console.log(`steady state: ${total} NOPs, ${ring.enterCount - before} io_uring_enter calls`);

// 3. idle: wait for the poller to sleep, then wake it with one enter
const idleSince = performance.now();
while (!(ring.counters().sqFlags & IORING_SQ_NEED_WAKEUP)) {
  await Bun.sleep(IDLE_MS / 5);
  if (performance.now() - idleSince > 5000) throw new Error("the SQPOLL thread never went to sleep");
}
before = ring.enterCount;
prepNop(ring.getSqeOrThrow());
ring.submit();
reap(1);
console.log(`after ${IDLE_MS} ms idle the poller slept (IORING_SQ_NEED_WAKEUP); waking it took ${ring.enterCount - before} io_uring_enter call`);
