/**
 * copyFile's data mover for a dense file: IORING_OP_SPLICE through pipes on a raw IoUring of its
 * own, driven by one loop — no Promise, closure or Op object per block.
 *
 * Each block is splice(src → pipe) linked to splice(pipe → tmp) at the same offset; up to
 * `pipes.length` blocks are in flight. A short first splice (EOF: the file shrank) fails the link,
 * the second is cancelled, and what did reach the pipe is moved on by itself; a short second
 * splice (a full disk) is continued until it moves nothing or fails, which is the error. The
 * loop waits in bounded io_uring_enter calls and yields to the event loop every few ms, so
 * timers, progress and abort signals keep running; once `stopped()` (or a block failed) it
 * issues nothing new and drains what is in flight before it returns or throws.
 */
import { IORING_OP_SPLICE, IOSQE_IO_LINK } from "./constants.ts";
import { ERRNO, UringError } from "./errors.ts";
import { IoUring } from "./ring.ts";
import type { Cqe } from "./sqe.ts";

const { ECANCELED, EIO } = ERRNO;
const WAIT_MS = 2;
const YIELD_MS = 4;
/** Blocks in flight at most (two SQEs each). */
const MAX_BLOCKS = 128;

const IN = 0; // splice(src → pipe), linked to OUT
const OUT = 1; // splice(pipe → dst)
const MORE = 2; // splice(pipe → dst) of what is left in the pipe

/** What spliceFile reports: bytes moved, and where the source ended if it shrank. */
export interface SpliceResult {
  copied: number;
  /** The offset the source ended at, if before `size`; else `size`. */
  eof: number;
}

const idleRings: IoUring[] = [];

/**
 * Move `size` bytes from `sfd` to `dfd` (both real fds, offsets 0 … size) through `pipes`
 * ([read end, write end] pairs, each holding at least `blockSize` bytes; closed by the caller,
 * which should not reuse one that may still hold bytes after a failure). `onBytes(n)` is called as
 * blocks land. Throws a UringError with syscall "read" (source) or "write" (destination).
 */
export async function spliceFile(
  sfd: number,
  dfd: number,
  size: number,
  blockSize: number,
  pipes: readonly (readonly [number, number])[],
  onBytes: (n: number) => void,
  stopped: () => boolean,
): Promise<SpliceResult> {
  const n = Math.min(pipes.length, MAX_BLOCKS);
  const ring = idleRings.pop() ?? new IoUring(2 * MAX_BLOCKS, { cqEntries: 4 * MAX_BLOCKS });
  let healthy = true;
  // per pipe: the block it carries
  const off = new Float64Array(n);
  const len = new Float64Array(n);
  const got = new Float64Array(n); // bytes in the pipe (the IN splice's result)
  const out = new Float64Array(n); // bytes moved on to dst
  const free: number[] = [];
  for (let i = n - 1; i >= 0; i--) free.push(i);
  let next = 0;
  let eof = size;
  let copied = 0;
  let inflight = 0;
  let failure: UringError | null = null;
  const scratch: Cqe[] = [];

  const put = (op: number, flags: number, fdOut: number, offOut: number, fdIn: number, offIn: number, nbytes: number, ud: number) => {
    const q = ring.unsafeGetSqe()!; // at most two SQEs per block in flight fit the SQ
    const u = q.u32;
    const i = q.i;
    u[i] = op | (flags << 8);
    u[i + 1] = fdOut;
    // off: splice_off_out (−1: none, the pipe's side), addr: splice_off_in
    u[i + 2] = offOut >>> 0;
    u[i + 3] = offOut < 0 ? 0xffffffff : (offOut / 4294967296) >>> 0;
    u[i + 4] = offIn >>> 0;
    u[i + 5] = offIn < 0 ? 0xffffffff : (offIn / 4294967296) >>> 0;
    u[i + 6] = nbytes;
    u[i + 7] = 0; // splice_flags
    u[i + 8] = ud;
    u[i + 9] = 0;
    u[i + 10] = 0;
    u[i + 11] = fdIn; // splice_fd_in
    u[i + 12] = 0;
    u[i + 13] = 0;
    u[i + 14] = 0;
    u[i + 15] = 0;
  };
  const fail = (res: number, syscall: "read" | "write") => {
    failure ??= new UringError(res, syscall);
  };
  const finish = (p: number) => {
    copied += got[p]!;
    onBytes(got[p]!);
    free.push(p);
    inflight--;
  };
  /** Move the rest of pipe p's bytes to dst. */
  const more = (p: number) => {
    const left = got[p]! - out[p]!;
    put(IORING_OP_SPLICE, 0, dfd, off[p]! + out[p]!, pipes[p]![0], -1, left, p * 4 + MORE);
  };

  const complete = (p: number, step: number, res: number) => {
    if (step === IN) {
      got[p] = res;
      if (res < 0) fail(res, "read");
      else if (res < len[p]!) eof = Math.min(eof, off[p]! + res); // the source ended early: its OUT is cancelled
      return;
    }
    if (step === OUT && res === -ECANCELED) {
      // the IN splice failed or came up short: move what it did put in the pipe, unless failing
      if (got[p]! > 0 && failure === null) return more(p);
      return finish(p);
    }
    if (res < 0) {
      fail(res, "write");
      return finish(p);
    }
    if (step === MORE && res === 0) {
      fail(-EIO, "write");
      return finish(p);
    }
    out[p] = out[p]! + res;
    if (out[p]! < got[p]! && failure === null) return more(p);
    finish(p);
  };

  try {
    let lastYield = performance.now();
    for (;;) {
      while (free.length > 0 && next < eof && failure === null && !stopped()) {
        const p = free.pop()!;
        const l = Math.min(blockSize, eof - next);
        off[p] = next;
        len[p] = l;
        got[p] = 0;
        out[p] = 0;
        const [r, w] = pipes[p]!;
        put(IORING_OP_SPLICE, IOSQE_IO_LINK, w, -1, sfd, next, l, p * 4 + IN);
        put(IORING_OP_SPLICE, 0, dfd, next, r, -1, l, p * 4 + OUT);
        next += l;
        inflight++;
      }
      if (inflight === 0) break;
      if (ring.cqReady() === 0) ring.waitCqeTimeout(WAIT_MS, 1);
      else ring.submit();
      for (let k = ring.cqReady(); k > 0; k = ring.cqReady()) {
        const got_ = ring.peekBatchCqe(scratch, k);
        for (let j = 0; j < got_; j++) {
          const c = scratch[j]!;
          const ud = c.u32[c.i]!;
          complete(ud >>> 2, ud & 3, c.u32[c.i + 2]! | 0);
        }
        ring.cqAdvance(got_);
      }
      if (performance.now() - lastYield >= YIELD_MS) {
        await new Promise<void>((r) => setImmediate(r));
        lastYield = performance.now();
      }
    }
  } catch (e) {
    healthy = false; // the ring itself failed: blocks may be in flight, never reuse it
    throw e;
  } finally {
    if (healthy && idleRings.length < 2) idleRings.push(ring);
    else ring.close();
  }
  if (failure) throw failure;
  return { copied, eof: Math.min(eof, next) };
}
