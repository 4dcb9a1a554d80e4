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
import { add32, sub32 } from "../lib/barrier.ts";
import { IoUring, prepNop } from "../lib/index.ts";
import { w } from "../lib/layout.ts";
import { SYNTHETIC_OFF, syntheticPeerStep, syntheticRing } from "../lib/synthetic-ring.ts";
import { prng } from "./helpers.ts";
import { setU64 } from "../lib/sqe.ts";


const OFF = SYNTHETIC_OFF;
// The peer (lib/synthetic-ring.ts) does what the kernel (an SQPOLL thread) does with the shared
// memory: consumes every published SQE and posts a CQE echoing user_data, with res = the SQE's len.
const peerStep = syntheticPeerStep;

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
