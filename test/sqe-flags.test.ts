/**
 * The seven IOSQE_* flags, each by what it does to the kernel's handling of an SQE: which file it
 * names, when it starts, what happens to the rest of its chain, where it runs, where its buffer
 * comes from, and whether it posts a CQE at all.
 */
import { afterAll, beforeAll, expect } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventfdCreate } from "../ffi/syscalls.ts";
import {
  AT_FDCWD,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  IORING_CQE_BUFFER_SHIFT,
  IORING_CQE_F_BUFFER,
  IOSQE_ASYNC,
  IOSQE_BUFFER_SELECT,
  IOSQE_CQE_SKIP_SUCCESS,
  IOSQE_FIXED_FILE,
  IOSQE_IO_DRAIN,
  IOSQE_IO_HARDLINK,
  IOSQE_IO_LINK,
  O_CLOEXEC,
  O_RDONLY,
} from "../lib/constants.ts";
import { prepNop, prepOpenat, prepRead, prepTimeout } from "../lib/prep.ts";
import { IoUring } from "../lib/ring.ts";
import { Timespec } from "../lib/structs.ts";
import { describeKernel, kernelTest as test, tempDir } from "./helpers.ts";
import { closeAll, eventfdCount, queue, reap, run } from "./raw-helpers.ts";


describeKernel("IOSQE_* flags", () => {
  let dir: ReturnType<typeof tempDir>;
  let path: string;
  beforeAll(() => {
    dir = tempDir("bun-uring-flags-");
    path = join(dir.path, "kib");
    writeFileSync(path, "k".repeat(1024));
  });
  afterAll(() => dir.cleanup());
  const open = (ring: IoUring) => run(ring, (s) => prepOpenat(s, AT_FDCWD, path, O_RDONLY | O_CLOEXEC)).res;

  test("IOSQE_FIXED_FILE: fd is an index into the registered table, not a descriptor", () => {
    using ring = new IoUring(4);
    const fd = open(ring);
    ring.registerFiles([-1, fd]);
    const b = new Uint8Array(16);
    expect(run(ring, (s) => { prepRead(s, 1, b, 0); s.flags = IOSQE_FIXED_FILE; }).res).toBe(16);
    expect(b[0]).toBe("k".charCodeAt(0));
    expect(run(ring, (s) => { prepRead(s, 0, b, 0); s.flags = IOSQE_FIXED_FILE; }).res).toBe(-9); // empty slot: -EBADF
    expect(run(ring, (s) => { prepRead(s, 7, b, 0); s.flags = IOSQE_FIXED_FILE; }).res).toBe(-9); // past the table
    closeAll(fd);
  });

  test("IOSQE_IO_DRAIN: a drained NOP waits for the timeout submitted before it, and so does the NOP after it", () => {
    using ring = new IoUring(8);
    const ts = new Timespec(20);
    queue(ring, (s) => prepTimeout(s, ts), 1);
    queue(ring, (s) => prepNop(s), 2, IOSQE_IO_DRAIN);
    queue(ring, (s) => prepNop(s), 3);
    ring.submitAndWait(3);
    expect(reap(ring, 3).map((c) => c.userData)).toEqual([1, 2, 3]);
    // without the drain the NOPs overtake the timeout
    queue(ring, (s) => prepTimeout(s, ts), 1);
    queue(ring, (s) => prepNop(s), 2);
    queue(ring, (s) => prepNop(s), 3);
    ring.submitAndWait(3);
    expect(reap(ring, 3).map((c) => c.userData)).toEqual([2, 3, 1]);
  });

  test("IOSQE_IO_LINK: a failure cancels the rest of the chain with -ECANCELED; success runs it in order", () => {
    using ring = new IoUring(8);
    const b = new Uint8Array(8);
    queue(ring, (s) => prepRead(s, -1, b, 0), 1, IOSQE_IO_LINK); // -EBADF
    queue(ring, (s) => prepNop(s), 2, IOSQE_IO_LINK);
    queue(ring, (s) => prepNop(s), 3);
    queue(ring, (s) => prepNop(s), 4); // not in the chain
    ring.submitAndWait(4);
    const got = reap(ring, 4);
    const by = new Map(got.map((c) => [c.userData, c.res]));
    expect([by.get(1), by.get(2), by.get(3), by.get(4)]).toEqual([-9, -125, -125, 0]);
    // a short read counts as a failure under IO_LINK
    const fd = open(ring);
    queue(ring, (s) => prepRead(s, fd, new Uint8Array(4096), 0), 5, IOSQE_IO_LINK);
    queue(ring, (s) => prepNop(s), 6);
    ring.submitAndWait(2);
    expect(reap(ring, 2).map((c) => [c.userData, c.res])).toEqual([[5, 1024], [6, -125]]);
    closeAll(fd);
  });

  test("IOSQE_IO_HARDLINK: the chain goes on after a failure", () => {
    using ring = new IoUring(8);
    const b = new Uint8Array(8);
    queue(ring, (s) => prepRead(s, -1, b, 0), 1, IOSQE_IO_HARDLINK);
    queue(ring, (s) => prepNop(s), 2, IOSQE_IO_HARDLINK);
    queue(ring, (s) => prepNop(s), 3);
    ring.submitAndWait(3);
    expect(reap(ring, 3).map((c) => [c.userData, c.res])).toEqual([[1, -9], [2, 0], [3, 0]]);
  });

  test("IOSQE_ASYNC: the op runs in an io-wq worker — only it signals an async-only eventfd", () => {
    using ring = new IoUring(4);
    const efd = eventfdCreate(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ring.registerEventfdAsync(efd);
    expect(run(ring, (s) => prepNop(s), 1).res).toBe(0); // completes inline
    expect(eventfdCount(efd)).toBe(0);
    expect(run(ring, (s) => { prepNop(s); s.flags = IOSQE_ASYNC; }, 2).res).toBe(0);
    expect(eventfdCount(efd)).toBe(1);
    ring.unregisterEventfd();
    closeAll(efd);
  });

  test("IOSQE_BUFFER_SELECT: the kernel picks the buffer from the group and names it in the CQE", () => {
    using ring = new IoUring(4);
    const fd = open(ring);
    const sel = (s: Parameters<typeof prepRead>[0], g: number) => {
      prepRead(s, fd, new Uint8Array(0), 0);
      s.len = 64;
      s.flags = IOSQE_BUFFER_SELECT;
      s.bufGroup = g;
    };
    expect(run(ring, (s) => sel(s, 4)).res).toBe(-105); // no buffers in group 4: -ENOBUFS
    const br = ring.setupBufRing(4, 2, 64);
    const c = run(ring, (s) => sel(s, 4));
    expect(c.res).toBe(64);
    expect(c.flags & IORING_CQE_F_BUFFER).toBeTruthy();
    const bid = c.flags >>> IORING_CQE_BUFFER_SHIFT;
    expect(br.view(bid, 64).every((x) => x === "k".charCodeAt(0))).toBe(true);
    closeAll(fd);
  });

  test("IOSQE_CQE_SKIP_SUCCESS: no CQE on success, a CQE on failure", () => {
    using ring = new IoUring(8);
    queue(ring, (s) => prepNop(s), 1, IOSQE_CQE_SKIP_SUCCESS);
    queue(ring, (s) => prepNop(s), 2);
    queue(ring, (s) => prepRead(s, -1, new Uint8Array(8), 0), 3, IOSQE_CQE_SKIP_SUCCESS);
    ring.submitAndWait(2);
    const got = reap(ring, 2);
    expect(got.map((c) => [c.userData, c.res])).toEqual([[2, 0], [3, -9]]);
    expect(ring.cqReady()).toBe(0);
    expect(ring.waitCqeTimeout(5)).toBeNull(); // nothing more is coming for user_data 1
  });
});
