/**
 * The raw ring against the real kernel. The whole suite runs once per memory
 * mode ("shared": rings in SharedArrayBuffers via IORING_SETUP_NO_MMAP;
 * "mmap": the classic mapping), so both paths stay identical above the memory.
 */
import { afterAll, beforeAll, expect } from "bun:test";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AT_FDCWD,
  IORING_CQE_F_MORE,
  IORING_FILE_INDEX_ALLOC,
  IORING_OP_NOP,
  IORING_OP_PIPE,
  IORING_OP_READ,
  IORING_SETUP_NO_MMAP,
  IOSQE_FIXED_FILE,
  IOSQE_IO_LINK,
  IoUring,
  IoVecs,
  O_RDONLY,
  prepClose,
  prepCloseDirect,
  prepNop,
  prepOpenatDirect,
  prepRead,
  prepReadv,
  prepTimeout,
  prepWrite,
  prepWritev,
  Timespec,
  UringError,
  type Cqe,
} from "../lib/index.ts";
import { describeKernel, kernelTest as test, MEMORY_MODES, tempDir } from "./helpers.ts";

const SENTINEL = 0xaaaaaaaa;

/** Reap exactly `n` CQEs (waiting as needed) into plain objects. */
function reap(ring: IoUring, n: number): { userData: number; res: number; flags: number }[] {
  const out: { userData: number; res: number; flags: number }[] = [];
  while (out.length < n) {
    ring.waitCqe();
    ring.forEachCqe((c: Cqe) => {
      out.push({ userData: c.userData, res: c.res, flags: c.flags });
    });
  }
  return out;
}

for (const memory of MEMORY_MODES) {
  describeKernel(`raw ring (memory: ${memory})`, () => {
    let dir: ReturnType<typeof tempDir>;
    beforeAll(() => {
      dir = tempDir();
    });
    afterAll(() => dir.cleanup());

    test("memory mode is the one asked for", () => {
      using ring = new IoUring(4, { memory });
      expect(ring.memory.mode).toBe(memory);
      expect((ring.flags & IORING_SETUP_NO_MMAP) !== 0).toBe(memory === "shared");
      const isShared = ring.memory.sq.buffer instanceof SharedArrayBuffer;
      expect(isShared).toBe(memory === "shared");
      expect(ring.memory.sq.address % 4096).toBe(0);
      expect(ring.memory.sqes.address % 4096).toBe(0);
    });

    test("nop: every counter before and after submit", () => {
      using ring = new IoUring(8, { memory });
      expect(ring.sqEntries).toBe(8);
      expect(ring.cqEntries).toBe(16);
      const c0 = ring.counters();
      expect([c0.sqHead, c0.sqTail, c0.sqeTail, c0.cqHead, c0.cqTail]).toEqual([0, 0, 0, 0, 0]);
      expect(ring.sqReady()).toBe(0);
      expect(ring.sqSpaceLeft()).toBe(8);

      const sqe = ring.getSqe()!;
      prepNop(sqe);
      sqe.userData = SENTINEL;
      expect(sqe.opcode).toBe(IORING_OP_NOP);
      // filled but not published: only our private tail moved
      const c1 = ring.counters();
      expect([c1.sqHead, c1.sqTail, c1.sqeTail]).toEqual([0, 0, 1]);
      expect(ring.sqReady()).toBe(1);
      expect(ring.sqSpaceLeft()).toBe(7);

      const enters = ring.enterCount;
      expect(ring.submit()).toBe(1);
      expect(ring.enterCount).toBe(enters + 1);
      // published (tail 1) and consumed (head 1): a NOP completes inline during the enter
      const c2 = ring.counters();
      expect([c2.sqHead, c2.sqTail, c2.sqeTail]).toEqual([1, 1, 1]);
      expect([c2.cqHead, c2.cqTail]).toEqual([0, 1]);
      expect(ring.sqReady()).toBe(0);
      expect(ring.cqReady()).toBe(1);

      const cqe = ring.waitCqe();
      expect(cqe.userData).toBe(SENTINEL);
      expect(cqe.res).toBe(0);
      expect(cqe.flags).toBe(0);
      ring.cqeSeen(cqe);
      const c3 = ring.counters();
      expect([c3.cqHead, c3.cqTail]).toEqual([1, 1]);
      expect(ring.cqReady()).toBe(0);
      expect(ring.peekCqe()).toBeNull();
    });

    test("one million NOPs through an 8-entry ring", () => {
      using ring = new IoUring(8, { memory });
      const N = 1_000_000;
      let next = 0;
      let seen = 0;
      let sum = 0;
      while (seen < N) {
        let sqe;
        while (next < N && (sqe = ring.getSqe())) {
          prepNop(sqe);
          sqe.userData = next++;
        }
        ring.submitAndWait(1);
        seen += ring.forEachCqe((c) => {
          sum += c.userData;
          if (c.res !== 0) throw new Error(`nop res ${c.res}`);
        });
      }
      expect(seen).toBe(N);
      expect(sum).toBe((N * (N - 1)) / 2);
      const c = ring.counters();
      expect(c.sqHead).toBe(N);
      expect(c.cqTail).toBe(N);
      expect(c.cqHead).toBe(N);
    });

    test("write then read a file", () => {
      using ring = new IoUring(4, { memory });
      const path = join(dir.path, `wr-${memory}`);
      const fd = openSync(path, "w+");
      try {
        const data = new TextEncoder().encode("hello, io_uring\n".repeat(100));
        let sqe = ring.getSqe()!;
        prepWrite(sqe, fd, data, 0);
        sqe.userData = 1;
        ring.submitAndWait(1);
        expect(reap(ring, 1)).toEqual([{ userData: 1, res: data.length, flags: 0 }]);
        expect(readFileSync(path)).toEqual(Buffer.from(data));

        const back = new Uint8Array(data.length + 10);
        sqe = ring.getSqe()!;
        prepRead(sqe, fd, back, 0);
        sqe.userData = 2;
        ring.submitAndWait(1);
        expect(reap(ring, 1)).toEqual([{ userData: 2, res: data.length, flags: 0 }]);
        expect(back.subarray(0, data.length)).toEqual(data);
      } finally {
        closeSync(fd);
      }
    });

    test("short read: 4096 bytes asked of a 1024-byte file returns 1024", () => {
      using ring = new IoUring(2, { memory });
      const path = join(dir.path, `short-${memory}`);
      writeFileSync(path, Buffer.alloc(1024, 7));
      const fd = openSync(path, "r");
      try {
        const buf = new Uint8Array(4096);
        prepRead(ring.getSqe()!, fd, buf, 0);
        ring.submitAndWait(1);
        expect(reap(ring, 1)[0]!.res).toBe(1024);
        expect(buf[1023]).toBe(7);
        expect(buf[1024]).toBe(0);
      } finally {
        closeSync(fd);
      }
    });

    test("readv/writev", () => {
      using ring = new IoUring(4, { memory });
      const path = join(dir.path, `vec-${memory}`);
      const fd = openSync(path, "w+");
      try {
        const parts = [new Uint8Array([1, 2, 3]), new Uint8Array(5000).fill(9), new Uint8Array([4, 5])];
        const out = new IoVecs(parts);
        expect(out.byteLength).toBe(5005);
        prepWritev(ring.getSqe()!, fd, out, 0);
        ring.submitAndWait(1);
        expect(reap(ring, 1)[0]!.res).toBe(5005);

        const a = new Uint8Array(2);
        const b = new Uint8Array(5001);
        const c = new Uint8Array(10);
        const inv = new IoVecs([a, b, c]);
        prepReadv(ring.getSqe()!, fd, inv, 0);
        ring.submitAndWait(1);
        expect(reap(ring, 1)[0]!.res).toBe(5005);
        expect(Array.from(a)).toEqual([1, 2]);
        expect(b[0]).toBe(3);
        expect(b[1]).toBe(9);
        expect(b[5000]).toBe(9);
        expect(Array.from(c.subarray(0, 3))).toEqual([4, 5, 0]);
      } finally {
        closeSync(fd);
      }
    });

    test("linked chain open → read → close in one submit, three CQEs in order", () => {
      using ring = new IoUring(8, { memory });
      ring.registerFilesSparse(4);
      const path = join(dir.path, `chain-${memory}`);
      writeFileSync(path, "linked!");
      // Exactly the file's size: under IOSQE_IO_LINK a short read counts as a failure
      // and would cancel the close with -ECANCELED (IOSQE_IO_HARDLINK would not).
      const buf = new Uint8Array(7);

      const open = ring.getSqe()!;
      prepOpenatDirect(open, AT_FDCWD, path, O_RDONLY, 0, 2);
      open.flags = IOSQE_IO_LINK;
      open.userData = 1;
      const read = ring.getSqe()!;
      prepRead(read, 2, buf, 0); // fd 2 = fixed-file slot 2
      read.flags = IOSQE_FIXED_FILE | IOSQE_IO_LINK;
      read.userData = 2;
      const close = ring.getSqe()!;
      prepCloseDirect(close, 2);
      close.userData = 3;

      expect(ring.submitAndWait(3)).toBe(3);
      expect(reap(ring, 3)).toEqual([
        { userData: 1, res: 0, flags: 0 },
        { userData: 2, res: 7, flags: 0 },
        { userData: 3, res: 0, flags: 0 },
      ]);
      expect(new TextDecoder().decode(buf)).toBe("linked!");
    });

    test("a failed link cancels the rest of the chain with -ECANCELED", () => {
      using ring = new IoUring(4, { memory });
      const buf = new Uint8Array(8);
      const bad = ring.getSqe()!;
      prepRead(bad, 999_999, buf, 0);
      bad.flags = IOSQE_IO_LINK;
      bad.userData = 1;
      const nop = ring.getSqe()!;
      prepNop(nop);
      nop.userData = 2;
      ring.submitAndWait(2);
      expect(reap(ring, 2)).toEqual([
        { userData: 1, res: -9, flags: 0 }, // EBADF
        { userData: 2, res: -125, flags: 0 }, // ECANCELED
      ]);
    });

    test("-EBADF arrives as a CQE result, not a throw", () => {
      using ring = new IoUring(2, { memory });
      prepRead(ring.getSqe()!, 12345, new Uint8Array(4), 0);
      ring.getSqe(); // a second, zeroed SQE is a NOP with user_data 0
      expect(() => ring.submitAndWait(2)).not.toThrow();
      const got = reap(ring, 2);
      expect(got[0]!.res).toBe(-9);
      expect(got[1]).toEqual({ userData: 0, res: 0, flags: 0 });
    });

    test("getSqe hands out zeroed slots, also after the ring wrapped", () => {
      using ring = new IoUring(2, { memory });
      for (let lap = 0; lap < 5; lap++) {
        for (let k = 0; k < 2; k++) {
          const sqe = ring.getSqe()!;
          expect(Array.from(sqe.bytes()).every((b) => b === 0)).toBe(true);
          prepNop(sqe);
          sqe.userData = 0xffffffff + lap;
          sqe.addr3 = 0xdeadbeef; // a field NOP ignores: left dirty in the slot
        }
        ring.submitAndWait(2);
        expect(reap(ring, 2).map((c) => c.res)).toEqual([0, 0]);
      }
    });

    test("getSqe returns null when the SQ is full, and space comes back after submit", () => {
      using ring = new IoUring(4, { memory });
      for (let i = 0; i < 4; i++) prepNop(ring.getSqe()!);
      expect(ring.getSqe()).toBeNull();
      expect(ring.sqSpaceLeft()).toBe(0);
      expect(() => ring.getSqeOrThrow()).toThrow(expect.objectContaining({ code: "ERR_URING_SQ_FULL" }));
      expect(ring.submit()).toBe(4);
      expect(ring.sqSpaceLeft()).toBe(4);
      expect(ring.getSqe()).not.toBeNull();
    });

    test("more completions outstanding than CQ entries: none lost (FEAT_NODROP)", () => {
      using ring = new IoUring(4, { memory }); // CQ of 8
      const total = 200;
      for (let i = 0; i < total; i += 4) {
        for (let k = 0; k < 4; k++) {
          const sqe = ring.getSqe()!;
          prepNop(sqe);
          sqe.userData = i + k;
        }
        ring.submit(); // never reaping while submitting: the CQ overflows into the kernel's backlog
      }
      expect(ring.cqReady()).toBe(8);
      expect(ring.cqHasOverflow()).toBe(true);
      const seen = new Set<number>();
      for (const c of reap(ring, total)) {
        expect(c.res).toBe(0);
        seen.add(c.userData);
      }
      expect(seen.size).toBe(total);
      expect(ring.cqHasOverflow()).toBe(false);
      expect(ring.cqOverflow()).toBe(0);
    });

    test("peekBatchCqe + cqAdvance reap a batch", () => {
      using ring = new IoUring(8, { memory });
      for (let i = 0; i < 5; i++) {
        const sqe = ring.getSqe()!;
        prepNop(sqe);
        sqe.userData = 100 + i;
      }
      ring.submitAndWait(5);
      const out: Cqe[] = [];
      expect(ring.peekBatchCqe(out, 3)).toBe(3);
      expect(out.map((c) => c.userData)).toEqual([100, 101, 102]);
      ring.cqAdvance(3);
      expect(ring.peekBatchCqe(out)).toBe(2);
      expect(out.slice(0, 2).map((c) => c.userData)).toEqual([103, 104]);
      ring.cqAdvance(2);
      expect(ring.cqReady()).toBe(0);
    });

    test("waitCqeNr waits for a count; waitCqeTimeout returns null on timeout", () => {
      using ring = new IoUring(4, { memory });
      const ts = new Timespec(20);
      const t = ring.getSqe()!;
      prepTimeout(t, ts);
      t.userData = 9;
      ring.submit();
      const t0 = performance.now();
      expect(ring.waitCqeTimeout(1)).toBeNull();
      const cqe = ring.waitCqeNr(1);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(15);
      expect(cqe.userData).toBe(9);
      expect(cqe.res).toBe(-62); // ETIME: the timeout expired
      ring.cqeSeen(cqe);
    });

    test("a buffer kept referenced survives Bun.gc(true) while its read is in flight", async () => {
      using ring = new IoUring(4, { memory });
      const [rfd, wfd] = pipe(dir.path);
      try {
        const buf = new Uint8Array(64); // small: the case where storage moves if .buffer is touched late
        const sqe = ring.getSqe()!;
        prepRead(sqe, rfd, buf, -1);
        sqe.userData = 77;
        ring.submit();
        expect(ring.peekCqe()).toBeNull(); // the pipe is empty: the read waits in the kernel
        // churn the heap while the kernel holds buf's address
        for (let i = 0; i < 5; i++) {
          const junk = Array.from({ length: 2000 }, (_, k) => new Uint8Array(64).fill(k & 0xff));
          Bun.gc(true);
          void junk;
        }
        await Bun.sleep(1);
        const payload = new TextEncoder().encode("survived the GC");
        const w = ring.getSqe()!;
        prepWrite(w, wfd, payload, -1);
        w.userData = 78;
        ring.submit();
        const got = reap(ring, 2).sort((a, b) => a.userData - b.userData);
        expect(got[0]).toEqual({ userData: 77, res: payload.length, flags: 0 });
        expect(new TextDecoder().decode(buf.subarray(0, payload.length))).toBe("survived the GC");
      } finally {
        closeSync(rfd);
        closeSync(wfd);
      }
    });

    test("use after close() throws, and close() is idempotent", () => {
      const ring = new IoUring(2, { memory });
      const sqe = ring.getSqe()!;
      ring.close();
      ring.close();
      expect(ring.closed).toBe(true);
      for (const call of [
        () => ring.getSqe(),
        () => ring.submit(),
        () => ring.submitAndWait(1),
        () => ring.peekCqe(),
        () => ring.waitCqe(),
        () => ring.forEachCqe(() => {}),
        () => ring.cqAdvance(1),
        () => ring.probe(),
        () => ring.registerFilesSparse(1),
      ]) {
        expect(call).toThrow(expect.objectContaining({ code: "ERR_URING_CLOSED" }));
      }
      // a stale SQE handle no longer reaches ring memory (no crash after munmap): prep refuses it
      expect(() => prepNop(sqe)).toThrow(expect.objectContaining({ code: "ERR_URING_CLOSED" }));
      expect(sqe.opcode).toBe(0);
    });

    test("probe reports the opcodes this kernel supports", () => {
      using ring = new IoUring(2, { memory });
      const probe = ring.probe();
      expect(probe.isSupported(IORING_OP_NOP)).toBe(true);
      expect(probe.isSupported(IORING_OP_READ)).toBe(true);
      expect(probe.isSupported(255)).toBe(false);
      expect(probe.lastOp).toBeGreaterThanOrEqual(IORING_OP_READ);
      expect(probe.supported()[0]).toBe("NOP");
      if (probe.lastOp >= IORING_OP_PIPE) expect(probe.supported()).toContain("PIPE");
    });

    test("registerFiles, registerFilesUpdate and a fixed-file read", () => {
      using ring = new IoUring(4, { memory });
      const path = join(dir.path, `fixed-${memory}`);
      writeFileSync(path, "fixed file");
      const fd = openSync(path, "r");
      try {
        ring.registerFiles([-1, -1]);
        expect(ring.registerFilesUpdate(1, [fd])).toBe(1);
        const buf = new Uint8Array(32);
        const sqe = ring.getSqe()!;
        prepRead(sqe, 1, buf, 0);
        sqe.flags = IOSQE_FIXED_FILE;
        ring.submitAndWait(1);
        expect(reap(ring, 1)[0]!.res).toBe(10);
        ring.unregisterFiles();
      } finally {
        closeSync(fd);
      }
    });

    test("registered buffers: write_fixed and read_fixed", async () => {
      const { prepReadFixed, prepWriteFixed } = await import("../lib/index.ts");
      using ring = new IoUring(4, { memory });
      const big = new Uint8Array(8192);
      ring.registerBuffers([big]);
      const path = join(dir.path, `fixedbuf-${memory}`);
      const fd = openSync(path, "w+");
      try {
        big.fill(0x5a, 0, 4096);
        prepWriteFixed(ring.getSqe()!, fd, big.subarray(0, 4096), 0, 0);
        ring.submitAndWait(1);
        expect(reap(ring, 1)[0]!.res).toBe(4096);
        prepReadFixed(ring.getSqe()!, fd, big.subarray(4096), 0, 0);
        ring.submitAndWait(1);
        expect(reap(ring, 1)[0]!.res).toBe(4096);
        expect(big[4096]).toBe(0x5a);
        expect(big[8191]).toBe(0x5a);
        ring.unregisterBuffers();
      } finally {
        closeSync(fd);
      }
    });

    test("eventfd registration: a completion makes the eventfd readable", async () => {
      const { eventfdCreate, closeFd } = await import("../ffi/syscalls.ts");
      using ring = new IoUring(2, { memory });
      const efd = eventfdCreate(0, 0o4000 /* EFD_NONBLOCK */);
      expect(efd).toBeGreaterThanOrEqual(0);
      try {
        ring.registerEventfd(efd);
        prepNop(ring.getSqe()!);
        ring.submitAndWait(1);
        const counter = new BigUint64Array(1);
        const rd = ring.getSqe()!;
        prepRead(rd, efd, counter, 0);
        rd.userData = 5;
        ring.submitAndWait(1);
        const got = reap(ring, 2).find((c) => c.userData === 5)!;
        expect(got.res).toBe(8);
        expect(counter[0]).toBeGreaterThanOrEqual(1n);
        ring.unregisterEventfd();
      } finally {
        closeFd(efd);
      }
    });

    test("CQE flags stay clear for single-shot ops", () => {
      using ring = new IoUring(2, { memory });
      prepNop(ring.getSqe()!);
      ring.submitAndWait(1);
      expect(reap(ring, 1)[0]!.flags & IORING_CQE_F_MORE).toBe(0);
    });
  });
}

describeKernel("setup", () => {
  test("auto memory picks shared on this kernel, and IoUring rejects bad options by name", () => {
    using ring = new IoUring(2);
    expect(["shared", "mmap"]).toContain(ring.memory.mode);
    const cases: [unknown, unknown, string, string][] = [
      [0, undefined, "RangeError", "entries"],
      [40000, undefined, "RangeError", "entries"],
      [1.5, undefined, "TypeError", "entries"],
      ["8", undefined, "TypeError", "entries"],
      [8, { sqThreadIdle: "x", sqpoll: true }, "TypeError", "options.sqThreadIdle"],
      [8, { sqThreadIdle: -1, sqpoll: true }, "RangeError", "options.sqThreadIdle"],
      [8, { sqThreadIdle: 10 }, "TypeError", "options.sqThreadIdle"],
      [8, { cqEntries: 4 }, "RangeError", "options.cqEntries"],
      [8, { sqpol: true }, "TypeError", "sqpol"],
      [8, { memory: "huge" }, "TypeError", "options.memory"],
      [8, 42, "TypeError", "options"],
    ];
    for (const [entries, options, name, field] of cases) {
      let err: Error | undefined;
      try {
        new IoUring(entries as number, options as never).close();
      } catch (e) {
        err = e as Error;
      }
      expect(err?.name).toBe(name);
      expect(err?.message).toContain(field);
      expect((err as { code?: string }).code).toMatch(/^ERR_/);
    }
  });

  test("clamp accepts oversize entries; cqEntries sets the CQ size", () => {
    using big = new IoUring(100_000, { clamp: true, memory: "mmap" });
    expect(big.sqEntries).toBe(32768);
    using ring = new IoUring(4, { cqEntries: 100 });
    expect(ring.cqEntries).toBe(128);
  });

  test("EPERM when io_uring is disabled by sysctl, with advice", () => {
    const knob = "/proc/sys/kernel/io_uring_disabled";
    let old: string;
    try {
      old = readFileSync(knob, "utf8").trim();
      writeFileSync(knob, "2");
    } catch (e) {
      // Not root, or no such sysctl (kernel < 6.6): nothing to flip here.
      console.warn(`skipping the EPERM check: cannot write ${knob}: ${(e as Error).message}`);
      return;
    }
    try {
      let err: UringError | undefined;
      try {
        new IoUring(2).close();
      } catch (e) {
        err = e as UringError;
      }
      expect(err).toBeInstanceOf(UringError);
      expect(err!.code).toBe("EPERM");
      expect(err!.errno).toBe(-1);
      expect(err!.syscall).toBe("io_uring_setup");
      expect(err!.message).toContain("kernel.io_uring_disabled");
      expect(err!.message).toContain("seccomp");
    } finally {
      writeFileSync(knob, old);
    }
    expect(readFileSync(knob, "utf8").trim()).toBe(old);
  });
});

/** A FIFO's two ends: node:fs has no pipe(2). The read end is opened O_RDWR so neither open blocks. */
function pipe(dir: string): [number, number] {
  const path = join(dir, `fifo-${Math.random().toString(36).slice(2)}`);
  const made = Bun.spawnSync(["mkfifo", path]);
  if (made.exitCode !== 0) throw new Error(`mkfifo failed: ${made.stderr}`);
  const r = openSync(path, "r+");
  const w = openSync(path, "w");
  return [r, w];
}
