/**
 * Ring index math across the 2^32 wrap, without a kernel.
 *
 * Heads and tails are free-running u32 counters; reaching 2^32 with a real
 * kernel takes billions of operations, so this test builds a ring in
 * SharedArrayBuffers laid out as Linux 6.x lays out `struct io_rings`, seeds
 * every counter just below 2^32, and attaches `IoUring` to it. A tiny JS peer
 * plays the kernel's part as an SQPOLL thread would (consume SQEs, post CQEs),
 * so `submit()` never needs a syscall — `enterCount` stays 0 to prove it.
 * Random batch sizes come from a seeded PRNG; a failure names its seed.
 */
import { describe, expect, test } from "bun:test";
import { closeSync, openSync } from "node:fs";
import { ptr } from "bun:ffi";
import { add32, sub32 } from "../lib/barrier.ts";
import { IORING_SETUP_NO_MMAP, IORING_SETUP_NO_SQARRAY, IORING_SETUP_SQPOLL, IoUring, prepNop, type SharedRing } from "../lib/index.ts";
import { CQ_OFF, PARAMS, SQ_OFF, w } from "../lib/layout.ts";
import { prng } from "./helpers.ts";
import { setU64 } from "../lib/sqe.ts";


// Linux 6.x struct io_rings offsets (see the offsets io_uring_setup returns on this kernel).
const OFF = { sqHead: 0, sqTail: 4, cqHead: 8, cqTail: 12, sqMask: 16, cqMask: 20, sqEntries: 24, cqEntries: 28, sqDropped: 32, sqFlags: 36, cqFlags: 40, cqOverflow: 44, cqes: 64 };

function syntheticRing(sqEntries: number, cqEntries: number, start: { sq: number; cq: number }, fd: number): SharedRing {
  const ringBytes = 4096 * Math.ceil((OFF.cqes + cqEntries * 16) / 4096);
  const rings = new SharedArrayBuffer(ringBytes);
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
 * The peer: what the kernel (an SQPOLL thread) does with the shared memory.
 * Consumes every published SQE and posts a CQE echoing user_data, with res = the SQE's len.
 * Returns how many it consumed; stops when the CQ is full (no overflow modelled here).
 */
function peerStep(shared: SharedRing): number {
  const u = new Uint32Array(shared.rings.buffer);
  const s = new Uint32Array(shared.sqes.buffer);
  const sqMask = u[w(OFF.sqMask)]!;
  const cqMask = u[w(OFF.cqMask)]!;
  const cqEntries = u[w(OFF.cqEntries)]!;
  let head = Atomics.load(u, w(OFF.sqHead));
  const tail = Atomics.load(u, w(OFF.sqTail)); // acquire: the SQE bytes are visible
  let cqTail = Atomics.load(u, w(OFF.cqTail));
  let n = 0;
  while (head !== tail) {
    if (sub32(cqTail, Atomics.load(u, w(OFF.cqHead))) >= cqEntries) break;
    const sqe = (head & sqMask) * 16;
    const cqe = w(OFF.cqes) + (cqTail & cqMask) * 4;
    u[cqe] = s[sqe + 8]!; // user_data lo
    u[cqe + 1] = s[sqe + 9]!; // user_data hi
    u[cqe + 2] = s[sqe + 6]!; // res = len
    u[cqe + 3] = 0;
    cqTail = add32(cqTail, 1);
    head = add32(head, 1);
    n++;
  }
  Atomics.store(u, w(OFF.cqTail), cqTail); // release: CQEs before the tail
  Atomics.store(u, w(OFF.sqHead), head); // release: the SQ slots are free again
  return n;
}

describe("ring math across the 2^32 wrap (no kernel)", () => {
  test("add32/sub32 wrap", () => {
    expect(add32(0xffffffff, 1)).toBe(0);
    expect(add32(0xfffffff0, 0x20)).toBe(0x10);
    expect(sub32(0x10, 0xfffffff0)).toBe(0x20);
    expect(sub32(5, 5)).toBe(0);
  });

  for (const seed of [1, 0xc0ffee, 20261122]) {
    test(`seeded random batches through the wrap (seed ${seed})`, () => {
      const rnd = prng(seed);
      const devnull = openSync("/dev/null", "r");
      try {
        const sqEntries = 1 << (1 + Math.floor(rnd() * 4)); // 2..16
        const cqEntries = sqEntries * 2;
        const start = { sq: 0xffffffff - Math.floor(rnd() * 40), cq: 0xffffffff - Math.floor(rnd() * 40) };
        const shared = syntheticRing(sqEntries, cqEntries, start, devnull);
        const ring = IoUring.attach(shared);
        const u = new Uint32Array(shared.rings.buffer);
        const ctx = `seed ${seed}, sq ${sqEntries}, start ${start.sq.toString(16)}/${start.cq.toString(16)}`;

        let nextId = 1;
        let expectId = 1;
        let sqWrapped = false;
        let cqWrapped = false;
        for (let round = 0; round < 200; round++) {
          const batch = 1 + Math.floor(rnd() * sqEntries);
          let filled = 0;
          for (let k = 0; k < batch; k++) {
            const sqe = ring.getSqe();
            if (!sqe) break;
            prepNop(sqe);
            sqe.len = nextId & 0xffff;
            sqe.userData = nextId++;
            filled++;
          }
          expect(ring.sqReady(), ctx).toBe(filled);
          expect(ring.sqSpaceLeft(), ctx).toBe(sqEntries - filled);
          expect(ring.submit(), ctx).toBe(filled);
          const before = u[w(OFF.sqHead)]!;
          peerStep(shared);
          if (u[w(OFF.sqHead)]! < before) sqWrapped = true;
          const ready = ring.cqReady();
          const cqBefore = u[w(OFF.cqHead)]!;
          // reap a random part with peekBatchCqe, the rest with forEachCqe
          const part = Math.floor(rnd() * (ready + 1));
          const out: ReturnType<IoUring["peekCqe"]>[] = [];
          expect(ring.peekBatchCqe(out as never, part), ctx).toBe(part);
          for (let k = 0; k < part; k++) {
            expect(out[k]!.userData, ctx).toBe(expectId);
            expect(out[k]!.res, ctx).toBe(expectId & 0xffff);
            expectId++;
          }
          ring.cqAdvance(part);
          ring.forEachCqe((c) => {
            expect(c.userData, ctx).toBe(expectId);
            expectId++;
          });
          if (u[w(OFF.cqHead)]! < cqBefore) cqWrapped = true;
          expect(ring.cqReady(), ctx).toBe(0);
        }
        expect(expectId, ctx).toBe(nextId);
        expect(sqWrapped && cqWrapped, `${ctx}: both rings crossed 2^32`).toBe(true);
        expect(ring.enterCount, ctx).toBe(0);
        // the counters kept running past the wrap
        expect(sub32(u[w(OFF.sqTail)]!, start.sq), ctx).toBe(nextId - 1);
        ring.close();
      } finally {
        closeSync(devnull);
      }
    });
  }

  test("a full SQ at the wrap: getSqe is null exactly when sqEntries are pending", () => {
    const devnull = openSync("/dev/null", "r");
    try {
      const shared = syntheticRing(4, 8, { sq: 0xfffffffe, cq: 0xfffffffe }, devnull);
      const ring = IoUring.attach(shared);
      for (let k = 0; k < 4; k++) expect(ring.getSqe()).not.toBeNull();
      expect(ring.getSqe()).toBeNull();
      expect(ring.counters().sqeTail).toBe(2); // 0xfffffffe + 4, wrapped
      ring.submit();
      expect(peerStep(shared)).toBe(4);
      expect(ring.getSqe()).not.toBeNull();
      expect(ring.cqReady()).toBe(4);
      ring.close();
    } finally {
      closeSync(devnull);
    }
  });

  test("setU64 is what the peer reads", () => {
    const u = new Uint32Array(2);
    setU64(u, 0, 2 ** 40 + 5);
    expect([u[0], u[1]]).toEqual([5, 256]);
  });
});
