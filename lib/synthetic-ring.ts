/**
 * A ring with no kernel behind it, for teaching and for kernel-free tests of the ring math.
 *
 * The counters of a real ring start at 0 and only the kernel moves its own, so getting one past
 * 2^32 takes 2^32 operations. A synthetic ring is the same shared memory `IoUring.attach()` takes
 * (IORING_SETUP_NO_MMAP + NO_SQARRAY, SQPOLL so `submit()` never enters), with the counters
 * starting wherever the caller likes, and `syntheticPeerStep()` doing the kernel's part: it
 * consumes the published SQEs and posts a CQE for each. The same `IoUring` code runs on it as on
 * a real ring. Used by `bun-uring learn`'s wrap scenario and by test/ring-math.test.ts.
 */
import { ptr } from "bun:ffi";
import { add32, loadAcquire, storeRelease, sub32 } from "./barrier.ts";
import { IORING_SETUP_NO_MMAP, IORING_SETUP_NO_SQARRAY, IORING_SETUP_SQPOLL } from "./constants.ts";
import { CQ_OFF, PARAMS, SQ_OFF, w } from "./layout.ts";
import type { SharedRing } from "./ring.ts";
import { SQW } from "./sqe.ts";



/** Linux 6.x struct io_rings offsets, as io_uring_setup reports them. */
export const SYNTHETIC_OFF = {
  sqHead: 0,
  sqTail: 4,
  cqHead: 8,
  cqTail: 12,
  sqMask: 16,
  cqMask: 20,
  sqEntries: 24,
  cqEntries: 28,
  sqDropped: 32,
  sqFlags: 36,
  cqFlags: 40,
  cqOverflow: 44,
  cqes: 64,
} as const;
const OFF = SYNTHETIC_OFF;

/**
 * The memory and parameters of a synthetic ring with `sqEntries`/`cqEntries` (powers of two),
 * its counters starting at `start`. `fd` stands in for the ring fd (no syscall will use it).
 */
export function syntheticRing(sqEntries: number, cqEntries: number, start: { sq: number; cq: number }, fd: number): SharedRing {
  const rings = new SharedArrayBuffer(4096 * Math.ceil((OFF.cqes + cqEntries * 16) / 4096));
  const sqes = new SharedArrayBuffer(4096 * Math.ceil((sqEntries * 64) / 4096));
  const u = new Uint32Array(rings);
  u[w(OFF.sqHead)] = u[w(OFF.sqTail)] = start.sq;
  u[w(OFF.cqHead)] = u[w(OFF.cqTail)] = start.cq;
  u[w(OFF.sqMask)] = sqEntries - 1;
  u[w(OFF.cqMask)] = cqEntries - 1;
  u[w(OFF.sqEntries)] = sqEntries;
  u[w(OFF.cqEntries)] = cqEntries;
  const params = new Uint32Array(w(PARAMS.SIZE));
  params[w(PARAMS.sq_entries)] = sqEntries;
  params[w(PARAMS.cq_entries)] = cqEntries;
  params[w(PARAMS.flags)] = IORING_SETUP_SQPOLL | IORING_SETUP_NO_SQARRAY | IORING_SETUP_NO_MMAP;
  const sq = (f: number, v: number) => (params[w(PARAMS.sq_off + f)] = v);
  const cq = (f: number, v: number) => (params[w(PARAMS.cq_off + f)] = v);
  sq(SQ_OFF.head, OFF.sqHead);
  sq(SQ_OFF.tail, OFF.sqTail);
  sq(SQ_OFF.ring_mask, OFF.sqMask);
  sq(SQ_OFF.ring_entries, OFF.sqEntries);
  sq(SQ_OFF.flags, OFF.sqFlags);
  sq(SQ_OFF.dropped, OFF.sqDropped);
  cq(CQ_OFF.head, OFF.cqHead);
  cq(CQ_OFF.tail, OFF.cqTail);
  cq(CQ_OFF.ring_mask, OFF.cqMask);
  cq(CQ_OFF.ring_entries, OFF.cqEntries);
  cq(CQ_OFF.overflow, OFF.cqOverflow);
  cq(CQ_OFF.cqes, OFF.cqes);
  cq(CQ_OFF.flags, OFF.cqFlags);
  const region = (buffer: SharedArrayBuffer) => ({ buffer, byteOffset: 0, byteLength: buffer.byteLength, address: ptr(new Uint8Array(buffer)) });
  return { fd, params: Array.from(params), rings: region(rings), sqes: region(sqes), role: "both" };
}

/**
 * The kernel's part on a synthetic ring: consume every published SQE and post a CQE echoing its
 * user_data, with res = the SQE's len (0 for a NOP). Stops when the CQ is full (no overflow is
 * modelled). Returns how many SQEs it consumed.
 */
export function syntheticPeerStep(shared: SharedRing): number {
  const u = new Uint32Array(shared.rings.buffer);
  const s = new Uint32Array(shared.sqes.buffer);
  const sqMask = u[w(OFF.sqMask)]!;
  const cqMask = u[w(OFF.cqMask)]!;
  const cqEntries = u[w(OFF.cqEntries)]!;
  let head = loadAcquire(u, w(OFF.sqHead));
  const tail = loadAcquire(u, w(OFF.sqTail)); // acquire: the SQE bytes behind it are visible
  let cqTail = loadAcquire(u, w(OFF.cqTail));
  let n = 0;
  while (head !== tail) {
    if (sub32(cqTail, loadAcquire(u, w(OFF.cqHead))) >= cqEntries) break;
    const sqe = (head & sqMask) * 16;
    const cqe = w(OFF.cqes) + (cqTail & cqMask) * 4;
    u[cqe] = s[sqe + SQW.userData]!;
    u[cqe + 1] = s[sqe + SQW.userData + 1]!;
    u[cqe + 2] = s[sqe + SQW.len]!; // res
    u[cqe + 3] = 0; // flags
    cqTail = add32(cqTail, 1);
    head = add32(head, 1);
    n++;
  }
  storeRelease(u, w(OFF.cqTail), cqTail); // release: the CQEs are written
  storeRelease(u, w(OFF.sqHead), head); // release: the SQ slots are free again
  return n;
}
