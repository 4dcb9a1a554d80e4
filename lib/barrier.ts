/**
 * Memory ordering for the ring protocol — the only module that calls `Atomics`.
 *
 * The rule, written once (liburing's barrier.h, Zig's IoUring.zig agree):
 * - acquire on the index the OTHER side writes: `loadAcquire(sq.kHead)`,
 *   `loadAcquire(cq.kTail)` — so the SQE slots it freed / the CQEs it wrote
 *   are visible before we look at them;
 * - release on the index WE write: `storeRelease(sq.kTail)` after the SQEs are
 *   filled, `storeRelease(cq.kHead)` after the CQEs are read — so the kernel
 *   never sees a tail before the SQE bytes behind it, nor reuses a CQE slot
 *   we are still reading;
 * - with SQPOLL, a full fence between publishing the SQ tail and reading
 *   IORING_SQ_NEED_WAKEUP, so the poller thread cannot go to sleep having
 *   missed our tail while we miss its NEED_WAKEUP flag (a store→load pair,
 *   the one ordering acquire/release does not give).
 * - two plain accesses stand in for these where nothing runs concurrently:
 *   without SQPOLL, only this thread's own io_uring_enter reads the SQ tail
 *   (so `ring.ts` stores it plainly, as liburing's __io_uring_flush_sq does)
 *   and only it moves the SQ head (so it is read plainly after the call);
 * - on x86-64, the CQ tail loaded right after io_uring_enter and the CQ head
 *   stored after the CQEs were read use plain accesses too
 *   (`loadAcquireAfterCall`, `storeReleaseAfterReads` below: why they hold).
 *
 * JavaScript has only sequentially-consistent atomics, which are stronger
 * than acquire/release: `Atomics.load` is (at least) an acquire load and
 * `Atomics.store` (at least) a release store. When the views sit on a
 * SharedArrayBuffer (the default ring memory, IORING_SETUP_NO_MMAP), the
 * language's memory model guarantees that ordering. On the mmap fallback the
 * views sit on an ordinary ArrayBuffer made by `toArrayBuffer()`; there the
 * ordering rests on the engine (JSC compiles `Atomics.*` on any integer typed
 * array to the same fenced instructions — `xchg`/`mov` on x86_64, `ldar`/`stlr`
 * on aarch64), and `test/ring.test.ts` runs the whole suite in both modes,
 * with a cross-thread stress test, to keep that assumption honest.
 */

/** Acquire load of a u32 the other side (kernel or another thread) writes. */
export function loadAcquire(view: Uint32Array, index: number): number {
  return Atomics.load(view, index);
}

/** Release store of a u32 this side owns, after the data it publishes is written. */
export function storeRelease(view: Uint32Array, index: number, value: number): void {
  Atomics.store(view, index, value);
}

/** Release store of a u16 index (a provided-buffer ring's tail). */
export function storeRelease16(view: Uint16Array, index: number, value: number): void {
  Atomics.store(view, index, value);
}

/**
 * Atomically clear `bits` in a u32 flag word that both sides update with read-modify-writes (the
 * kernel's atomic_or/atomic_andnot on the SQ flags): a locked `and`, so a bit the other side sets
 * at the same moment is never lost.
 */
export function clearBits(view: Uint32Array, index: number, bits: number): void {
  Atomics.and(view, index, ~bits);
}

/*
 * Two cheaper forms for the two accesses the NOP round trip makes once per batch, where the CPU
 * already gives the ordering. JSC compiles `Atomics.load` to a `lock xadd` and `Atomics.store` to
 * an `xchg` on x86-64: each a full barrier that waits for the store buffer to drain (measured:
 * ~12 and ~4 ns per batch, right after io_uring_enter returns). x86-64 is TSO: a plain load is
 * an acquire and a plain store a release at the CPU level (loads are not reordered with later
 * loads, stores not with earlier loads or stores) — liburing's x86 barrier.h is a plain access
 * plus a compiler barrier for the same reason. What is left to secure is the compiler's order,
 * which JavaScript does not promise for plain accesses, so each form is used only where the JIT
 * cannot break it, and elsewhere (other CPUs) they are the Atomics calls above.
 */
const TSO = process.arch === "x64";

/**
 * Acquire load of a u32 the other side writes, made right after this thread returned from a
 * syscall (`ring.ts`: the CQ tail after io_uring_enter). The call is opaque to the JIT: no load
 * moves above it and no value loaded before it is reused, so this load really reads memory after
 * the syscall. The reads it publishes (the CQEs) come later and depend on its value (only the
 * `tail - head` slots it counts are read), and x86-64 keeps loads in order. Never use it in a
 * loop that waits for the value to change: without a call in between, the JIT may hoist a plain
 * load out of the loop (use loadAcquire there).
 */
export const loadAcquireAfterCall: (view: Uint32Array, index: number) => number = TSO
  ? (view, index) => view[index]!
  : loadAcquire;

/**
 * Release store of an index this side owns whose only duty is to follow this thread's earlier
 * reads of the same view (the CQ head after the CQEs were read). x86-64 does not reorder a store
 * with earlier loads, and the JIT does not move a store to a typed array above earlier reads of
 * elements of the same typed array at computed indexes, which may be the same element.
 */
export const storeReleaseAfterReads: (view: Uint32Array, index: number, value: number) => void = TSO
  ? (view, index, value) => {
      view[index] = value;
    }
  : storeRelease;

const fenceWord = new Int32Array(new SharedArrayBuffer(4));

/** A full (store→load) fence: a sequentially-consistent read-modify-write
 *  (`lock xadd` on x86_64, a `dmb ish`-fenced exclusive pair on aarch64). */
export function fullFence(): void {
  Atomics.add(fenceWord, 0, 0);
}

/** Free-running u32 counter arithmetic: heads and tails wrap every 2^32 operations. */
export const add32 = (a: number, b: number) => (a + b) >>> 0;
/** `a - b` modulo 2^32: how far counter `a` is ahead of counter `b`. */
export const sub32 = (a: number, b: number) => (a - b) >>> 0;

// ---------------------------------------------------------------- words shared between threads
// copyTree's worker threads (lib/copy-workers.ts, lib/copy-worker.ts) share a work queue and
// per-file results in a SharedArrayBuffer. The same rule: acquire on what the other thread
// writes, release on what this one publishes; a compare-exchange to claim a chunk; a futex to sleep.

/** Acquire load of an i32 another thread writes. */
export function loadShared(view: Int32Array, index: number): number {
  return Atomics.load(view, index);
}

/** Release store of an i32 another thread reads, after the data it publishes is written. */
export function storeShared(view: Int32Array, index: number, value: number): void {
  Atomics.store(view, index, value);
}

/** Compare-and-swap: the value found (equal to `expected` when the swap happened). */
export function casShared(view: Int32Array, index: number, expected: number, value: number): number {
  return Atomics.compareExchange(view, index, expected, value);
}

/** Atomic add: the value before. */
export function addShared(view: Int32Array, index: number, n: number): number {
  return Atomics.add(view, index, n);
}

/** Sleep while `view[index] === value`, at most `ms` (futex wait; never on the main thread of a browser). */
export function waitShared(view: Int32Array, index: number, value: number, ms: number): void {
  Atomics.wait(view, index, value, ms);
}

/** Wake every thread sleeping on `view[index]`. */
export function notifyShared(view: Int32Array, index: number): void {
  Atomics.notify(view, index);
}
