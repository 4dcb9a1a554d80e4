/**
 * Behaviour in the spirit of liburing's own test suite: overflow without loss, a full SQ, links and
 * link timeouts, drain, timeouts by count and by time, short reads, fixed buffers, file-table
 * updates, cancellation in every mode, skipped CQEs, the probe.
 */
import { afterAll, beforeAll, expect } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AT_FDCWD,
  IORING_ASYNC_CANCEL_ALL,
  IORING_ASYNC_CANCEL_ANY,
  IORING_ASYNC_CANCEL_FD_FIXED,
  IORING_ASYNC_CANCEL_OP,
  IORING_ASYNC_CANCEL_USERDATA,
  IORING_FEAT_NODROP,
  IORING_OP_READ,
  IOSQE_CQE_SKIP_SUCCESS,
  IOSQE_FIXED_FILE,
  IOSQE_IO_DRAIN,
  IOSQE_IO_LINK,
  O_CLOEXEC,
  O_CREAT,
  O_RDONLY,
  O_RDWR,
} from "../lib/constants.ts";
import {
  prepCancel64,
  prepCancelFd,
  prepLinkTimeout,
  prepNop,
  prepOpenat,
  prepRead,
  prepReadFixed,
  prepTimeout,
  prepWriteFixed,
} from "../lib/prep.ts";
import { IoUring } from "../lib/ring.ts";
import { Timespec } from "../lib/structs.ts";
import { caught, describeKernel, kernelTest as test, tempDir } from "./helpers.ts";
import { closeAll, makePipe, queue, reap, reapByData, run } from "./raw-helpers.ts";

describeKernel("behaviour", () => {
  let dir: ReturnType<typeof tempDir>;
  let kib: string;
  beforeAll(() => {
    dir = tempDir("bun-uring-behave-");
    kib = join(dir.path, "kib");
    writeFileSync(kib, "b".repeat(1024));
  });
  afterAll(() => dir.cleanup());
  const open = (ring: IoUring, path = kib, flags = O_RDONLY) => run(ring, (s) => prepOpenat(s, AT_FDCWD, path, flags | O_CLOEXEC, 0o644)).res;

  test("cq overflow loses nothing: a 4-entry ring (8 CQEs) with 12 NOPs outstanding hands back all 12 in order", () => {
    using ring = new IoUring(4);
    expect(ring.features & IORING_FEAT_NODROP).toBeTruthy();
    expect(ring.cqEntries).toBe(8);
    for (let batch = 0; batch < 3; batch++) {
      for (let k = 0; k < 4; k++) queue(ring, (s) => prepNop(s), batch * 4 + k);
      expect(ring.submit()).toBe(4);
    }
    expect(ring.cqReady()).toBe(8); // the CQ is full…
    expect(ring.cqHasOverflow()).toBe(true); // …and the kernel holds the rest (IORING_SQ_CQ_OVERFLOW)
    expect(ring.cqOverflow()).toBe(0); // nothing dropped: koverflow counts only lost CQEs
    const got = reap(ring, 12).map((c) => c.userData);
    expect(got).toEqual(Array.from({ length: 12 }, (_, k) => k));
    expect(ring.cqHasOverflow()).toBe(false);
    expect(ring.cqReady()).toBe(0);
  });

  test("sq full: the fifth getSqe of a 4-entry ring is null, getSqeOrThrow says so, submit frees the slots", async () => {
    using ring = new IoUring(4);
    for (let k = 0; k < 4; k++) expect(ring.getSqe()).not.toBeNull();
    expect(ring.sqSpaceLeft()).toBe(0);
    expect(ring.getSqe()).toBeNull();
    expect((await caught(() => ring.getSqeOrThrow())).code).toBe("ERR_URING_SQ_FULL");
    expect(ring.submitAndWait(4)).toBe(4);
    expect(ring.sqSpaceLeft()).toBe(4);
    expect(reap(ring, 4).every((c) => c.res === 0)).toBe(true);
  });

  test("link: a chain runs in order; a failed link cancels the rest", () => {
    using ring = new IoUring(8);
    for (let k = 0; k < 4; k++) queue(ring, (s) => prepNop(s), k, k < 3 ? IOSQE_IO_LINK : 0);
    ring.submitAndWait(4);
    expect(reap(ring, 4).map((c) => c.userData)).toEqual([0, 1, 2, 3]);
    queue(ring, (s) => prepRead(s, -1, new Uint8Array(1), 0), 10, IOSQE_IO_LINK);
    queue(ring, (s) => prepNop(s), 11);
    ring.submitAndWait(2);
    expect(reap(ring, 2).map((c) => c.res)).toEqual([-9, -125]);
  });

  test("link timeout: it cancels a read that does not finish in time, and is itself cancelled when the read does", () => {
    using ring = new IoUring(8);
    const [rd, wr] = makePipe();
    const ts = new Timespec(10);
    queue(ring, (s) => prepRead(s, rd, new Uint8Array(4), -1), 1, IOSQE_IO_LINK);
    queue(ring, (s) => prepLinkTimeout(s, ts), 2);
    ring.submitAndWait(2);
    const m = reapByData(ring, 2);
    expect([m.get(1)!.res, m.get(2)!.res]).toEqual([-125, -62]); // -ECANCELED, -ETIME
    const fd = open(ring);
    const long = new Timespec(10_000);
    queue(ring, (s) => prepRead(s, fd, new Uint8Array(16), 0), 3, IOSQE_IO_LINK);
    queue(ring, (s) => prepLinkTimeout(s, long), 4);
    ring.submitAndWait(2);
    const n = reapByData(ring, 2);
    expect([n.get(3)!.res, n.get(4)!.res]).toEqual([16, -125]);
    closeAll(rd, wr, fd);
  });

  test("drain: the drained SQE starts only after everything before it completed", () => {
    using ring = new IoUring(8);
    const ts = new Timespec(15);
    queue(ring, (s) => prepTimeout(s, ts), 1);
    queue(ring, (s) => prepTimeout(s, ts), 2);
    queue(ring, (s) => prepNop(s), 3, IOSQE_IO_DRAIN);
    ring.submitAndWait(3);
    expect(reap(ring, 3).map((c) => c.userData).slice(2)).toEqual([3]);
  });

  test("timeout by count completes with 0 after that many completions; by time with -ETIME", () => {
    using ring = new IoUring(8);
    const long = new Timespec(10_000);
    queue(ring, (s) => prepTimeout(s, long, 2), 0x70);
    queue(ring, (s) => prepNop(s), 1);
    queue(ring, (s) => prepNop(s), 2);
    ring.submitAndWait(3);
    const m = reapByData(ring, 3);
    expect(m.get(0x70)!.res).toBe(0);
    const short = new Timespec(2);
    expect(run(ring, (s) => prepTimeout(s, short), 0x71)).toEqual({ userData: 0x71, res: -62, flags: 0 });
  });

  test("short read: 4096 bytes asked of a 1024-byte file returns 1024", () => {
    using ring = new IoUring(4);
    const fd = open(ring);
    expect(run(ring, (s) => prepRead(s, fd, new Uint8Array(4096), 0)).res).toBe(1024);
    closeAll(fd);
  });

  test("fixed buffers: write_fixed then read_fixed round-trip 64 KiB", () => {
    using ring = new IoUring(4);
    const bufs = [new Uint8Array(65536), new Uint8Array(65536)];
    ring.registerBuffers(bufs);
    for (let k = 0; k < 65536; k++) bufs[0]![k] = (k * 7) & 0xff;
    const fd = open(ring, join(dir.path, "fixed"), O_RDWR | O_CREAT);
    expect(run(ring, (s) => prepWriteFixed(s, fd, bufs[0]!, 0, 0)).res).toBe(65536);
    expect(run(ring, (s) => prepReadFixed(s, fd, bufs[1]!, 0, 1)).res).toBe(65536);
    expect(Buffer.from(bufs[1]!).equals(Buffer.from(bufs[0]!))).toBe(true);
    closeAll(fd);
  });

  test("file registration update: a slot swapped under a fixed-file read reads the new file", () => {
    using ring = new IoUring(4);
    const other = join(dir.path, "other");
    writeFileSync(other, "OTHER");
    const a = open(ring);
    const b = open(ring, other);
    ring.registerFiles([a]);
    const buf = new Uint8Array(5);
    expect(run(ring, (s) => { prepRead(s, 0, buf, 0); s.flags = IOSQE_FIXED_FILE; }).res).toBe(5);
    expect(Buffer.from(buf).toString()).toBe("bbbbb");
    expect(ring.registerFilesUpdate(0, [b])).toBe(1);
    expect(run(ring, (s) => { prepRead(s, 0, buf, 0); s.flags = IOSQE_FIXED_FILE; }).res).toBe(5);
    expect(Buffer.from(buf).toString()).toBe("OTHER");
    closeAll(a, b);
  });

  test("cancel, every mode: by user_data, ALL by user_data, by fd, by fixed fd, by opcode, ANY; -ENOENT when nothing matches", () => {
    using ring = new IoUring(32);
    const [rd, wr] = makePipe();
    ring.registerFiles([rd]);
    const bufs = Array.from({ length: 12 }, () => new Uint8Array(4));
    const reads = (ids: number[], fixed = false) => {
      for (const id of ids) queue(ring, (s) => { prepRead(s, fixed ? 0 : rd, bufs[id % 12]!, -1); if (fixed) s.flags = IOSQE_FIXED_FILE; }, id);
      ring.submit();
    };
    const cancel = (fill: Parameters<typeof queue>[1], expected: number, cancelled: number[]) => {
      queue(ring, fill, 0xc0);
      ring.submitAndWait(1 + cancelled.length);
      const m = reapByData(ring, 1 + cancelled.length);
      expect(m.get(0xc0)!.res).toBe(expected);
      for (const id of cancelled) expect(m.get(id)!.res).toBe(-125);
    };
    reads([1]);
    cancel((s) => prepCancel64(s, 1), 0, [1]);
    reads([2, 2 + 12]); // two requests, user_data 2 and 14
    expect(run(ring, (s) => prepNop(s), 0xff).res).toBe(0);
    cancel((s) => prepCancel64(s, 0xff), -2, []); // already done: -ENOENT
    reads([3, 4]);
    cancel((s) => prepCancelFd(s, rd, IORING_ASYNC_CANCEL_ALL), 4, [2, 14, 3, 4]); // ALL by fd: how many
    reads([5, 6], true);
    cancel((s) => prepCancelFd(s, 0, IORING_ASYNC_CANCEL_FD_FIXED | IORING_ASYNC_CANCEL_ALL), 2, [5, 6]);
    reads([7, 8]);
    // by opcode: liburing has no helper for it; the opcode goes in `len`
    cancel((s) => { prepCancel64(s, 0, IORING_ASYNC_CANCEL_OP | IORING_ASYNC_CANCEL_ALL); s.len = IORING_OP_READ; }, 2, [7, 8]);
    reads([9, 10]);
    cancel((s) => prepCancel64(s, 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL), 2, [9, 10]);
    reads([11, 11]); // two requests with the same user_data
    cancel((s) => prepCancel64(s, 11, IORING_ASYNC_CANCEL_USERDATA | IORING_ASYNC_CANCEL_ALL), 2, [11, 11]);
    cancel((s) => prepCancel64(s, 99), -2, []);
    closeAll(rd, wr);
  });

  test("skip CQE: a chain of NOPs with CQE_SKIP_SUCCESS posts only the last", () => {
    using ring = new IoUring(8);
    for (let k = 0; k < 4; k++) queue(ring, (s) => prepNop(s), k, k < 3 ? IOSQE_CQE_SKIP_SUCCESS | IOSQE_IO_LINK : 0);
    ring.submitAndWait(1);
    expect(reap(ring, 1)[0]!.userData).toBe(3);
    expect(ring.waitCqeTimeout(2)).toBeNull();
  });

  test("probe: every opcode this library has a helper for is supported by this kernel", () => {
    using ring = new IoUring(2);
    const p = ring.probe();
    expect(p.supported().length).toBe(63);
    expect(p.isSupported(IORING_OP_READ)).toBe(true);
  });
});
