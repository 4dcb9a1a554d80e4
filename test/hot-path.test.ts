/**
 * The NOP round trip's hot path against the real kernel: how getSqe() hands out zeroed slots
 * (the slots the kernel consumed are cleared in bulk when its head is seen to move: 8-byte
 * stores for a few slots, fill() for many, split where the ring wraps), 64- and 128-byte SQEs,
 * with SQPOLL, after a partial submit, on an attached handle; the SQ tail published without a
 * release store when there is no SQPOLL, io_uring_enter through the 32-bit trampoline, the CQ
 * tail noted after the enter, and prepRw() skipping the words a fresh slot already holds as
 * zeros — never where they are not.
 */
import { expect } from "bun:test";
import {
  IORING_SETUP_SQE128,
  IoUring,
  IoVecs,
  prepNop,
  prepRead,
  prepReadv,
  prepSend,
  prepSendSetAddr,
  prepWrite,
  type Sqe,
} from "../lib/index.ts";
import { ioUringEnter } from "../ffi/syscalls.ts";
import { SQW } from "../lib/sqe.ts";
import { describeKernel, kernelTest, MEMORY_MODES } from "./helpers.ts";

/** Fill `n` SQEs as NOPs whose every ignored field is dirty, so a slot left unzeroed shows. */
function dirtyNops(ring: IoUring, n: number, tag: number): void {
  for (let k = 0; k < n; k++) {
    const sqe = ring.getSqe()!;
    expect(sqe, `getSqe ${k} of ${n}`).not.toBeNull();
    // the handle is the one of the slot the SQ tail counter names (getSqe walks a circle of them)
    const slotWords = ring.flags & IORING_SETUP_SQE128 ? 32 : 16;
    expect(sqe.i, "handle of slot sqeTail & mask").toBe(((ring.counters().sqeTail - 1) & (ring.sqEntries - 1)) * slotWords);
    expect(
      Array.from(sqe.bytes()).every((b) => b === 0),
      `slot handed out at counter ${ring.counters().sqeTail - 1} is zeroed`,
    ).toBe(true);
    prepNop(sqe);
    sqe.userData = tag + k;
    sqe.addr3 = 0xdeadbeef;
    sqe.personality = 0; // NOP checks no personality; keep the NOP valid
    // the second half of a 128-byte SQE: written by hand, as a uring_cmd would
    const words = ring.flags & IORING_SETUP_SQE128 ? 32 : 16;
    for (let j = 16; j < words; j++) sqe.u32[sqe.i + j] = 0xa5a5a5a5;
  }
}

describeKernel("hot path", () => {
  for (const memory of MEMORY_MODES) {
    for (const sqe128 of [false, true]) {
      kernelTest(`getSqe zeroes consumed slots at every batch size, across the wrap (${memory}${sqe128 ? ", SQE128" : ""})`, () => {
        using ring = new IoUring(8, { memory, sqe128 });
        let tag = 0x1000;
        // 1 … 8 slots per round, and odd sizes so the consumed run straddles the end of the array
        for (const batch of [1, 3, 5, 8, 7, 2, 6, 4, 8, 1]) {
          dirtyNops(ring, batch, tag);
          expect(ring.submitAndWait(batch)).toBe(batch);
          const seen: number[] = [];
          expect(ring.forEachCqe((c) => seen.push(c.userData))).toBe(batch);
          expect(seen).toEqual(Array.from({ length: batch }, (_, k) => tag + k));
          tag += 0x100;
        }
        const c = ring.counters();
        expect(c.sqHead).toBe(c.sqTail);
        expect(c.sqeTail).toBe(c.sqTail);
      });
    }
  }

  kernelTest("an attached submitter hands out zeroed slots on a SQE128 ring the owner dirtied", () => {
    using owner = new IoUring(8, { memory: "shared", sqe128: true });
    // dirty every slot through the owner, let the kernel consume them
    for (let lap = 0; lap < 2; lap++) {
      dirtyNops(owner, 8, 0x10 * lap);
      owner.submitAndWait(8);
      owner.cqAdvance(owner.cqReady());
    }
    // a handle attached in this thread stands in for a Worker's: it zeroes the free slots it finds
    for (let k = 0; k < 8; k++) owner.sqes[k * 32 + 20] = 0x5a5a5a5a; // stale bytes in the second half of each 128-byte slot
    const sub = IoUring.attach(owner.share("submitter"));
    for (let k = 0; k < 8; k++) {
      const sqe = sub.getSqe()!;
      expect(Array.from(sqe.bytes()).every((b) => b === 0), `attached slot ${k}`).toBe(true);
      prepNop(sqe);
      sqe.userData = 0x700 + k;
    }
    expect(sub.submitAndWait(8)).toBe(8);
    const seen: number[] = [];
    owner.forEachCqe((c) => seen.push(c.userData));
    expect(seen).toEqual(Array.from({ length: 8 }, (_, k) => 0x700 + k));
    sub.close();
  });

  /** True when every byte of the slot `sqe` names is 0. */
  const zeroed = (sqe: Sqe) => Array.from(sqe.bytes()).every((b) => b === 0);

  kernelTest("a slot dirtied by hand comes back zeroed, word by word, the next time getSqe hands it out", () => {
    using ring = new IoUring(2, { memory: "shared" });
    for (let lap = 0; lap < 3; lap++) {
      // every word of both slots dirty, through each way a slot gets written
      const a = ring.getSqe()!;
      prepNop(a); // fresh: fd only
      a.userData = 0xabcdef01 + lap; // fresh still: user_data is cleared by getSqe anyway
      expect(a.fresh).toBe(true);
      const b = ring.getSqe()!;
      prepNop(b);
      for (const [name, set] of [
        ["opFlags", (s: Sqe) => (s.opFlags = 0)],
        ["bufIndex", (s: Sqe) => (s.bufIndex = 0)],
        ["fileIndex", (s: Sqe) => (s.fileIndex = 0)],
      ] as const) {
        set(b);
        expect(b.fresh, `${name} setter leaves the slot not fresh`).toBe(false);
      }
      b.addr3 = 0x11223344; // ignored by NOP, left dirty in the slot
      b.u32[b.i + SQW.pad2] = 0x55667788; // pad2 by hand (not fresh already: getSqe clears it all)
      b.userData = 0x77;
      expect(ring.submitAndWait(2)).toBe(2);
      expect(ring.forEachCqe(() => {})).toBe(2);
      const again = [ring.getSqe()!, ring.getSqe()!];
      expect(again.map((s) => s.i).sort()).toEqual([a.i, b.i].sort());
      expect(again.map(zeroed), `lap ${lap}`).toEqual([true, true]);
      // hand them back as valid NOPs for the next lap
      for (const s of again) prepNop(s);
      expect(ring.submitAndWait(2)).toBe(2);
      ring.cqAdvance(ring.cqReady());
    }
  });

  kernelTest("a prep that throws half way leaves no slot that passes for fresh", () => {
    using ring = new IoUring(1, { memory: "shared" });
    const sqe = ring.getSqe()!;
    // opcode and fd are written before the bad offset is seen
    expect(() => prepRead(sqe, 5, new Uint8Array(4), Number.NaN)).toThrow(RangeError);
    expect(sqe.opcode).not.toBe(0);
    expect(sqe.fresh).toBe(false);
    prepNop(sqe); // so this one writes every word, not just fd
    expect(Array.from(sqe.u32.subarray(sqe.i, sqe.i + 16))).toEqual([0, 0xffffffff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(ring.submitAndWait(1)).toBe(1);
    expect(ring.peekCqe()!.res).toBe(0);
    ring.cqAdvance(1);
    // and a helper that amends an SQE without prepRw (send_set_addr) makes it not fresh too
    const s2 = ring.getSqe()!;
    expect(zeroed(s2)).toBe(true);
    prepSend(s2, -1, new Uint8Array(1), 0);
    prepNop(s2); // re-prep: the send's words reset
    prepSendSetAddr(s2, new Uint8Array(16)); // addr2 and addr_len set on a NOP (ignored by it)
    expect(s2.fresh).toBe(false);
    expect(ring.submitAndWait(1)).toBe(1);
    ring.cqAdvance(1);
    expect(zeroed(ring.getSqe()!)).toBe(true);
  });

  kernelTest("SQEs the kernel did not consume (an invalid one stops the submit) stay as they are; consumed ones come back zeroed", () => {
    using ring = new IoUring(4, { memory: "shared" });
    const fill = (tag: number, bad: number) => {
      for (let k = 0; k < 4; k++) {
        const sqe = ring.getSqe()!;
        expect(zeroed(sqe), `slot for ${tag + k}`).toBe(true);
        prepNop(sqe);
        sqe.userData = tag + k;
        sqe.addr3 = 0xdeadbeef; // dirty a word NOP ignores
        if (k === bad) sqe.flags = 0x80; // no such IOSQE_* flag: the kernel fails this SQE and stops there
      }
    };
    fill(0x100, 1);
    // consumed: the good first one and the failed second one; the last two stay published, unread
    expect(ring.submit()).toBe(2);
    let c = ring.counters();
    expect([c.sqHead, c.sqTail, c.sqeTail]).toEqual([2, 4, 4]);
    // two free slots now: those the kernel consumed, zeroed as getSqe hands them out
    const got: Sqe[] = [ring.getSqe()!, ring.getSqe()!];
    expect(ring.getSqe()).toBeNull(); // the other two are still the kernel's
    expect(got.map(zeroed)).toEqual([true, true]);
    for (const [k, s] of got.entries()) {
      prepNop(s);
      s.userData = 0x200 + k;
    }
    // the unconsumed SQEs go in with the next submit, untouched: their user_data come back
    expect(ring.submitAndWait(4)).toBe(4);
    const seen: [number, number][] = [];
    ring.forEachCqe((cqe) => seen.push([cqe.userData, cqe.res]));
    expect(seen).toEqual([
      [0x100, 0],
      [0x101, -22], // EINVAL: the bad flag
      [0x102, 0],
      [0x103, 0],
      [0x200, 0],
      [0x201, 0],
    ]);
    c = ring.counters();
    expect([c.sqHead, c.sqTail, c.sqeTail]).toEqual([6, 6, 6]);
    fill(0x300, -1); // every slot, wrapped, comes back zeroed
    expect(ring.submitAndWait(4)).toBe(4);
  });

  kernelTest("with SQPOLL the poller consumes on its own; slots come back zeroed once its head has passed them", async () => {
    let ring: IoUring;
    try {
      ring = new IoUring(4, { memory: "shared", sqpoll: true, sqThreadIdle: 50 });
    } catch (e) {
      // SQPOLL needs privileges on old kernels; this machine runs as root on 6.18
      throw new Error(`SQPOLL ring: ${(e as Error).message}`);
    }
    try {
      let tag = 0x10;
      for (let round = 0; round < 6; round++) {
        const n = round % 2 ? 4 : 3; // straddle the wrap
        for (let k = 0; k < n; k++) {
          let sqe = ring.getSqe();
          // the poller may not have passed the slot yet: getSqe reloads its head when the SQ looks full
          for (let spin = 0; sqe === null && spin < 2000; spin++) {
            await Bun.sleep(1);
            sqe = ring.getSqe();
          }
          expect(sqe, `round ${round}, SQE ${k}`).not.toBeNull();
          expect(zeroed(sqe!), `round ${round}, SQE ${k}`).toBe(true);
          prepNop(sqe!);
          sqe!.userData = tag++;
          sqe!.addr3 = 0xfeedface;
          sqe!.personality = 0;
        }
        ring.submit();
        const seen: number[] = [];
        for (let spin = 0; seen.length < n && spin < 2000; spin++) {
          if (ring.cqReady() === 0) ring.waitCqeTimeout(5);
          ring.forEachCqe((c) => seen.push(c.userData));
        }
        expect(seen).toEqual(Array.from({ length: n }, (_, k) => tag - n + k));
      }
    } finally {
      ring.close();
    }
  });

  kernelTest("forEachCqe takes the CQ tail seen after the last enter; CQEs the SQPOLL thread posts later come with a later call", async () => {
    using ring = new IoUring(8, { memory: "shared", sqpoll: true, sqThreadIdle: 2000 });
    const put = (from: number, n: number) => {
      for (let k = 0; k < n; k++) {
        const sqe = ring.getSqe()!;
        prepNop(sqe);
        sqe.userData = from + k;
      }
      ring.submit();
    };
    put(0, 2);
    ring.waitCqeNr(2); // enters (GETEVENTS) unless both are in already
    put(2, 3); // the poller takes these without an enter of ours
    await Bun.sleep(20);
    const seen: number[] = [];
    const calls: number[] = [];
    for (let spin = 0; seen.length < 5 && spin < 1000; spin++) {
      const n = ring.forEachCqe((c) => seen.push(c.userData));
      if (n > 0) calls.push(n);
      else await Bun.sleep(1);
    }
    expect(seen).toEqual([0, 1, 2, 3, 4]); // each once, in order, whichever call it came with
    expect(calls.reduce((a, b) => a + b, 0)).toBe(5);
    expect(ring.cqReady()).toBe(0);
  });

  kernelTest("the SQ tail is published by the submit that enters (no SQPOLL): counters before and after", () => {
    using ring = new IoUring(4, { memory: "shared" });
    for (let k = 0; k < 3; k++) prepNop(ring.getSqe()!);
    let c = ring.counters();
    expect([c.sqHead, c.sqTail, c.sqeTail]).toEqual([0, 0, 3]); // filled, not yet published
    expect(ring.submit()).toBe(3);
    c = ring.counters();
    expect([c.sqHead, c.sqTail, c.sqeTail, c.cqTail]).toEqual([3, 3, 3, 3]);
  });

  kernelTest("io_uring_enter without an argument goes through the 32-bit trampoline: results and errnos", () => {
    using ring = new IoUring(4, { memory: "shared" });
    expect(ioUringEnter(ring.fd, 0, 0, 0, null, 0)).toBe(0);
    expect(ioUringEnter(-1, 0, 0, 0, null, 0)).toBe(-9); // EBADF
    expect(ioUringEnter(ring.fd, 0, 0, 0x80000000, null, 0)).toBe(-22); // EINVAL: an unknown flag, bit 31 intact
    prepNop(ring.getSqe()!);
    expect(ring.submitAndWait(1)).toBe(1);
    expect(ring.cqReady()).toBe(1);
  });

  for (const memory of MEMORY_MODES) {
    kernelTest(`prep on a fresh slot writes only what it must, yet every word a prep owns ends up as liburing's (${memory})`, () => {
      using ring = new IoUring(16, { memory });
      const words = (sqe: { u32: Uint32Array; i: number }) => Array.from(sqe.u32.subarray(sqe.i, sqe.i + 16));
      // fresh slot: the op-specific words are the zeros getSqe handed out
      const a = ring.getSqe()!;
      prepNop(a);
      expect(words(a)).toEqual([0, 0xffffffff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      // fields set before prep are reset by it, as before: each such setter makes the slot not fresh
      const setters: [string, (s: Sqe) => void][] = [
        ["opFlags", (s) => (s.opFlags = 7)],
        ["bufIndex", (s) => (s.bufIndex = 3)],
        ["bufGroup", (s) => (s.bufGroup = 4)],
        ["personality", (s) => (s.personality = 2)],
        ["fileIndex", (s) => (s.fileIndex = 9)],
        ["addr3", (s) => (s.addr3 = 0x1234)],
        // prepNop() on a fresh slot writes only fd: a setter of any other field a prep owns must
        // make the slot not fresh too, or the value would survive the prep
        ["opcode", (s) => (s.opcode = 0x17)],
        ["flags", (s) => (s.flags = 0x4)],
        ["ioprio", (s) => (s.ioprio = 5)],
        ["off", (s) => (s.off = 0x1_0000_0002)],
        ["addr", (s) => (s.addr = 0x1000)],
        ["len", (s) => (s.len = 64)],
      ];
      for (const [name, set] of setters) {
        const b = ring.getSqe()!;
        set(b);
        prepNop(b);
        expect(words(b), `${name} set before prep`).toEqual([0, 0xffffffff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      }
      // a re-prep resets what the first prep set (readv's rw_flags here)
      const c = ring.getSqe()!;
      const iov = new IoVecs([new Uint8Array(8)]);
      prepReadv(c, 0, iov, 0, 0x10);
      expect(c.opFlags).toBe(0x10);
      prepNop(c);
      expect(words(c)).toEqual([0, 0xffffffff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      // unsafeGetSqe: the slot is not known to be zero, so prep writes every word it owns
      const d = ring.unsafeGetSqe()!;
      d.u32.fill(0xffffffff, d.i, d.i + 16);
      prepWrite(d, 1, new Uint8Array(0), 5);
      const got = words(d);
      expect(got.slice(0, 8)).toEqual([0x17, 1, 5, 0, got[4]!, got[5]!, 0, 0]); // IORING_OP_WRITE, fd 1, off 5, addr, len 0, rw_flags 0
      expect(got.slice(8, 10)).toEqual([0xffffffff, 0xffffffff]); // user_data: prep leaves it alone
      expect(got.slice(10)).toEqual([0, 0, 0, 0, 0, 0]);
      d.userData = 0;
      // unsafeGetSqe + prepNop: a dirty slot takes the full prep, never the fresh-slot shortcut
      const e = ring.unsafeGetSqe()!;
      e.u32.fill(0xffffffff, e.i, e.i + 16);
      prepNop(e);
      expect(words(e)).toEqual([0, 0xffffffff, 0, 0, 0, 0, 0, 0, 0xffffffff, 0xffffffff, 0, 0, 0, 0, 0, 0]);
      e.userData = 0;
      // all of them run: the kernel sees valid SQEs (the write of 0 bytes to fd 1 is fourth from last)
      const n = setters.length + 4;
      expect(ring.submitAndWait(n)).toBe(n);
      const res: number[] = [];
      expect(ring.forEachCqe((cqe) => res.push(cqe.res))).toBe(n);
      expect(res.filter((r) => r !== 0)).toEqual([]);
      void iov;
    });
  }

  for (const cqe32 of [false, true]) {
    kernelTest(`forEachCqe moves one handle over 16${cqe32 ? "/32" : ""}-byte CQEs across the wrap; a throw consumes up to the CQE it threw on`, () => {
      using ring = new IoUring(4, { cqe32 }); // CQ of 8: the counters wrap the slots every 8
      let next = 0;
      const seen: number[] = [];
      const handles = new Set<unknown>();
      for (let round = 0; round < 5; round++) {
        for (let k = 0; k < 3; k++) {
          const sqe = ring.getSqe()!;
          prepNop(sqe);
          sqe.userData = next++;
        }
        expect(ring.submitAndWait(3)).toBe(3);
        expect(ring.forEachCqe((c) => {
          handles.add(c);
          seen.push(c.userData);
          expect(c.res).toBe(0);
        })).toBe(3);
      }
      expect(seen).toEqual(Array.from({ length: 15 }, (_, k) => k));
      expect(handles.size).toBe(1);
      // a callback that throws on the second of three CQEs: the first two are consumed, the third is not
      for (let k = 0; k < 3; k++) {
        const sqe = ring.getSqe()!;
        prepNop(sqe);
        sqe.userData = 100 + k;
      }
      ring.submitAndWait(3);
      let calls = 0;
      expect(() => ring.forEachCqe((c) => {
        if (++calls === 2) throw new Error(`stop at ${c.userData}`);
      })).toThrow("stop at 101");
      expect(ring.cqReady()).toBe(1);
      expect(ring.counters().cqHead).toBe(17);
      // cqAdvance checks its count against the tail it last saw, and reloads it before refusing
      expect(() => ring.cqAdvance(2)).toThrow(RangeError);
      expect(() => ring.cqAdvance(0.5)).toThrow(RangeError);
      expect(() => ring.cqAdvance(1n as never)).toThrow(RangeError);
      expect(() => ring.cqAdvance("1" as never)).toThrow(RangeError);
      expect(ring.peekCqe()!.userData).toBe(102);
      ring.cqAdvance(1);
      expect(ring.counters().cqHead).toBe(18);
      expect(ring.cqReady()).toBe(0);
      // CQEs that arrived since the tail was last loaded: a count up to the kernel's tail is taken
      for (let k = 0; k < 2; k++) prepNop(ring.getSqe()!);
      ring.submitAndWait(2);
      ring.cqAdvance(2);
      expect(ring.counters().cqHead).toBe(20);
    });
  }
});
