/**
 * The NOP round trip with no library in the loop: a ruler for `nop.bench.ts`, like `c/nop.c`.
 * It measures what TypeScript and bun:ffi alone cost, so the bench can tell that part of the
 * gap to C from what the library's API adds (Sqe/Cqe handles, zeroed getSqe + prep, checks).
 *
 * The loop is nop.c's, written over the ring's own Uint32Array views: per NOP, a space check
 * against the kernel's SQ head and the 16 SQE words written in place; the SQ tail published
 * with a plain store (no SQPOLL), one io_uring_enter through the same 32-bit trampoline the
 * library uses, each CQE's res read in place after an acquire load of the CQ tail, and the CQ
 * head advanced once with a release store — both through the same lib/barrier.ts helpers the
 * library's hot path uses (plain accesses on x86-64, Atomics elsewhere). The ring is set up by IoUring (memory "shared"),
 * whose offsets come from `share()`; nothing of the library runs while it is timed.
 *
 * Usage: `bun test/bench/lib/nop-bare.ts BATCH [WARMUP_MS [TIME_MS [CHUNK [ENTRIES]]]]`;
 * prints one JSON Measurement (median ops/s over per-chunk samples, as the bench reports).
 */
import { sys_io_uring_enter_noarg } from "../../../ffi/libc.ts";
import { NR_io_uring_enter } from "../../../ffi/syscalls.ts";
import { IORING_ENTER_GETEVENTS, IoUring } from "../../../lib/index.ts";
import { loadAcquireAfterCall, storeReleaseAfterReads } from "../../../lib/barrier.ts";
import { CQ_OFF, PARAMS, SQ_OFF, w } from "../../../lib/layout.ts";

/** Median ops/s (and spread) of chunks of `batch`-NOP round trips, measured for `timeMs` after `warmupMs`. */
export function measureBare(batch: number, warmupMs = 600, timeMs = 800, chunk = 1024, entries = 128) {
  using ring = new IoUring(entries, { memory: "shared" });
  const params = ring.share("reaper").params; // this handle reaps nothing from here on: the loop does
  const sqOff = (f: number) => params[w(PARAMS.sq_off + f)]!;
  const cqOff = (f: number) => params[w(PARAMS.cq_off + f)]!;
  const R = ring.sqRing;
  const S = ring.sqes;
  const fd = ring.fd;
  const sqKHead = w(sqOff(SQ_OFF.head));
  const sqKTail = w(sqOff(SQ_OFF.tail));
  const cqKHead = w(cqOff(CQ_OFF.head));
  const cqKTail = w(cqOff(CQ_OFF.tail));
  const cqes = w(cqOff(CQ_OFF.cqes));
  const sqMask = R[w(sqOff(SQ_OFF.ring_mask))]!;
  const cqMask = R[w(cqOff(CQ_OFF.ring_mask))]!;
  const sqEntries = ring.sqEntries;
  if (ring.flags & 0x400) throw new Error("nop-bare: 64-byte SQEs only");
  let tail = R[sqKTail]!;
  let head = R[cqKHead]!;
  let failed = 0;
  const rounds = Math.ceil(chunk / batch);

  const run = () => {
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < batch; k++) {
        const next = (tail + 1) >>> 0;
        // only our own io_uring_enter moves the head (no SQPOLL): a plain read, as in the library
        if (((next - R[sqKHead]!) >>> 0) > sqEntries) throw new Error("nop-bare: SQ full");
        const i = (tail & sqMask) << 4;
        S[i] = 0; // IORING_OP_NOP, flags 0, ioprio 0
        S[i + 1] = -1; // fd
        S[i + 2] = 0; S[i + 3] = 0; S[i + 4] = 0; S[i + 5] = 0; S[i + 6] = 0; S[i + 7] = 0;
        S[i + 8] = 0; S[i + 9] = 0; S[i + 10] = 0; S[i + 11] = 0; S[i + 12] = 0; S[i + 13] = 0; S[i + 14] = 0; S[i + 15] = 0;
        tail = next;
      }
      R[sqKTail] = tail;
      const got = sys_io_uring_enter_noarg(NR_io_uring_enter, fd, batch, batch, IORING_ENTER_GETEVENTS, 0, 0);
      if (got !== batch) throw new Error(`nop-bare: io_uring_enter returned ${got}`);
      const n = (loadAcquireAfterCall(R, cqKTail) - head) >>> 0;
      if (n !== batch) throw new Error(`nop-bare: ${n} CQEs ready after waiting for ${batch}`);
      for (let k = 0; k < n; k++) if ((R[cqes + (((head + k) & cqMask) << 2) + 2]! | 0) < 0) failed++;
      head = (head + n) >>> 0;
      storeReleaseAfterReads(R, cqKHead, head);
    }
  };

  const t0 = performance.now();
  while (performance.now() - t0 < warmupMs) run();
  const samples: number[] = [];
  const start = performance.now();
  while (performance.now() - start < timeMs || samples.length < 64) {
    const a = performance.now();
    run();
    samples.push(performance.now() - a);
  }
  if (failed) throw new Error(`nop-bare: ${failed} NOPs completed with an error`);
  samples.sort((a, b) => a - b);
  const mid = (v: number[]) => (v.length % 2 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2);
  const med = mid(samples);
  const mad = mid(samples.map((x) => Math.abs(x - med)).sort((a, b) => a - b));
  return { opsPerSec: (rounds * batch * 1000) / med, mad: mad / med, samples: samples.length };
}

if (import.meta.main) {
  const [batch, warmupMs, timeMs, chunk, entries] = process.argv.slice(2).map(Number);
  if (!batch) {
    console.error("usage: bun test/bench/lib/nop-bare.ts BATCH [WARMUP_MS [TIME_MS [CHUNK [ENTRIES]]]]");
    process.exit(2);
  }
  console.log(JSON.stringify(measureBare(batch, warmupMs || undefined, timeMs || undefined, chunk || undefined, entries || undefined)));
}
