/**
 * The system's CLOCK_MONOTONIC in nanoseconds, read through libc's
 * clock_gettime (vDSO, ~20–50 ns). Unlike `process.hrtime.bigint()` and
 * `performance.now()`, whose zero is the process's own start in Bun, it is
 * the same clock in every process, so a timestamp taken in one process can be
 * subtracted from one taken in another (the wake-up bench's writer/reader).
 */
import { dlopen, FFIType, ptr } from "bun:ffi";

const CLOCK_MONOTONIC = 1;

const libc = dlopen("libc.so.6", {
  /** int clock_gettime(clockid_t clockid, struct timespec *tp); */
  clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
});

const ts = new BigInt64Array(2); // struct timespec { time_t tv_sec; long tv_nsec; }
void ts.buffer; // move a small typed array out of the GC-movable inline store before taking its address
const tsPtr = ptr(ts);

/** CLOCK_MONOTONIC, ns, as a bigint. */
export function monotonicNs(): bigint {
  if (libc.symbols.clock_gettime(CLOCK_MONOTONIC, tsPtr) !== 0) throw new Error("clock_gettime(CLOCK_MONOTONIC) failed");
  return ts[0]! * 1_000_000_000n + ts[1]!;
}
