/**
 * Registration, mirroring io_uring_register_*: fixed buffers and files (+ update, sparse, alloc
 * range), eventfd (+ async), probe, ring fd (IORING_ENTER_REGISTERED_RING), provided-buffer rings
 * (head, incremental consumption), personality, restrictions with R_DISABLED + enable, io-wq max
 * workers, clock.
 */
import { afterAll, beforeAll, expect } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventfdCreate, ioUringEnter } from "../ffi/syscalls.ts";
import {
  AF_INET,
  AT_FDCWD,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  IORING_CQE_BUFFER_SHIFT,
  IORING_CQE_F_BUF_MORE,
  IORING_OP_LAST,
  IORING_OP_NOP,
  IORING_OP_PIPE,
  IORING_OP_READ,
  IORING_OP_WRITE,
  IORING_REGISTER_FILES,
  IORING_SETUP_R_DISABLED,
  IOSQE_BUFFER_SELECT,
  IOSQE_FIXED_FILE,
  IOU_PBUF_RING_INC,
  O_CLOEXEC,
  O_RDONLY,
  SOCK_STREAM,
} from "../lib/constants.ts";
import { prepNop, prepOpenat, prepRead, prepReadFixed, prepRecv, prepSend, prepSocketDirectAlloc, prepWrite } from "../lib/prep.ts";
import { IoUring } from "../lib/ring.ts";
import { describeKernel, kernelTest as test, tempDir } from "./helpers.ts";
import { closeAll, eventfdCount, run, tcpPair } from "./raw-helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();


describeKernel("registration", () => {
  let dir: ReturnType<typeof tempDir>;
  let path: string;
  beforeAll(() => {
    dir = tempDir("bun-uring-reg-");
    path = join(dir.path, "data");
    writeFileSync(path, "registered!");
  });
  afterAll(() => dir.cleanup());
  const open = (ring: IoUring) => run(ring, (s) => prepOpenat(s, AT_FDCWD, path, O_RDONLY | O_CLOEXEC)).res;

  test("buffers: sparse table, then an update fills a slot; an empty slot is refused", () => {
    using ring = new IoUring(4);
    ring.registerBuffersSparse(2);
    const buf = new Uint8Array(64);
    expect(ring.registerBuffersUpdate(1, [buf])).toBe(1);
    const fd = open(ring);
    expect(run(ring, (s) => prepReadFixed(s, fd, buf.subarray(0, 11), 0, 1)).res).toBe(11);
    expect(dec.decode(buf.subarray(0, 11))).toBe("registered!");
    expect(run(ring, (s) => prepReadFixed(s, fd, buf.subarray(0, 11), 0, 0)).res).toBe(-14); // slot 0 empty: -EFAULT
    ring.unregisterBuffers();
    expect(run(ring, (s) => prepReadFixed(s, fd, buf.subarray(0, 11), 0, 1)).res).toBe(-14);
    closeAll(fd);
  });

  test("files: sparse table, update, update_tag, and an alloc range that *_direct ops allocate from", () => {
    using ring = new IoUring(8);
    ring.registerFilesSparse(8);
    const fd = open(ring);
    expect(ring.registerFilesUpdate(0, [fd])).toBe(1);
    expect(ring.registerFilesUpdateTag(1, [fd])).toBe(1);
    const b = new Uint8Array(11);
    for (const slot of [0, 1]) {
      b.fill(0);
      expect(run(ring, (s) => { prepRead(s, slot, b, 0); s.flags = IOSQE_FIXED_FILE; }).res).toBe(11);
      expect(dec.decode(b)).toBe("registered!");
    }
    ring.registerFileAllocRange(4, 2);
    const slots = [0, 1, 2].map(() => run(ring, (s) => prepSocketDirectAlloc(s, AF_INET, SOCK_STREAM, 0)).res);
    expect(slots.slice(0, 2).sort()).toEqual([4, 5]);
    expect(slots[2]).toBe(-23); // the range is full: -ENFILE
    expect(ring.registerFilesUpdate(0, [-1])).toBe(1); // clear slot 0
    expect(run(ring, (s) => { prepRead(s, 0, b, 0); s.flags = IOSQE_FIXED_FILE; }).res).toBe(-9);
    ring.unregisterFiles();
    closeAll(fd);
  });

  test("eventfd: every completion signals it; eventfd_async only the async ones", () => {
    using ring = new IoUring(4);
    const efd = eventfdCreate(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ring.registerEventfd(efd);
    run(ring, (s) => prepNop(s));
    run(ring, (s) => prepNop(s));
    expect(eventfdCount(efd)).toBe(2);
    ring.unregisterEventfd();
    run(ring, (s) => prepNop(s));
    expect(eventfdCount(efd)).toBe(0);
    ring.registerEventfdAsync(efd);
    run(ring, (s) => prepNop(s)); // inline: no signal
    expect(eventfdCount(efd)).toBe(0);
    ring.unregisterEventfd();
    closeAll(efd);
  });

  test("cqEventfdToggle: completions while IORING_CQ_EVENTFD_DISABLED is set signal nothing", () => {
    using ring = new IoUring(4);
    const efd = eventfdCreate(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ring.registerEventfd(efd);
    expect(ring.cqEventfdEnabled()).toBe(true);
    ring.cqEventfdToggle(false);
    expect(ring.cqEventfdEnabled()).toBe(false);
    run(ring, (s) => prepNop(s));
    expect(eventfdCount(efd)).toBe(0);
    ring.cqEventfdToggle(true);
    expect(ring.cqEventfdEnabled()).toBe(true);
    run(ring, (s) => prepNop(s));
    expect(eventfdCount(efd)).toBe(1);
    expect(() => ring.cqEventfdToggle("no" as never)).toThrow(TypeError);
    ring.unregisterEventfd();
    closeAll(efd);
  });

  test("probe: NOP … PIPE supported, nothing past IORING_OP_LAST", () => {
    using ring = new IoUring(2);
    const p = ring.probe();
    expect(p.lastOp).toBeGreaterThanOrEqual(IORING_OP_PIPE);
    for (let op = 0; op < IORING_OP_LAST; op++) expect(p.isSupported(op)).toBe(true);
    expect(p.isSupported(IORING_OP_LAST + 10)).toBe(false);
    expect(p.supported()).toContain("PIPE");
  });

  test("ring fd: after registerRingFd every enter passes the index with IORING_ENTER_REGISTERED_RING", () => {
    using ring = new IoUring(4);
    const index = ring.registerRingFd();
    expect(index).toBeGreaterThanOrEqual(0);
    expect(ring.ringIndex).toBe(index);
    const before = ring.enterCount;
    expect(run(ring, (s) => prepNop(s), 7)).toEqual({ userData: 7, res: 0, flags: 0 });
    expect(ring.enterCount).toBeGreaterThan(before);
    // the index alone is no ring fd: without the flag the kernel refuses it
    expect(ioUringEnter(index, 0, 0, 0, null, 0)).toBeLessThan(0);
    ring.unregisterRingFd();
    expect(ring.ringIndex).toBe(-1);
    expect(run(ring, (s) => prepNop(s), 8).res).toBe(0);
  });

  test("ring fd: close() gives the registered index back (the registration holds the ring otherwise)", () => {
    const a = new IoUring(2);
    const index = a.registerRingFd();
    a.close();
    using b = new IoUring(2);
    expect(b.registerRingFd()).toBe(index); // the lowest free index again
    expect(run(b, (s) => prepNop(s), 9).res).toBe(0);
  });

  test("provided-buffer ring: buffer ids in the CQE, the kernel's head, recycling", () => {
    using ring = new IoUring(8);
    const br = ring.setupBufRing(11, 4, 8);
    expect(ring.bufRingHead(11)).toBe(0);
    const { listener, server, client } = tcpPair(ring);
    const seen: number[] = [];
    for (const m of ["aa", "bb"]) {
      run(ring, (s) => prepSend(s, client, enc.encode(m)));
      const c = run(ring, (s) => { prepRecv(s, server, new Uint8Array(0)); s.flags = IOSQE_BUFFER_SELECT; s.bufGroup = 11; });
      expect(c.res).toBe(2);
      const bid = c.flags >>> IORING_CQE_BUFFER_SHIFT;
      expect(dec.decode(br.view(bid, 2))).toBe(m);
      seen.push(bid);
    }
    expect(seen).toEqual([0, 1]);
    expect(ring.bufRingHead(11)).toBe(2);
    ring.unregisterBufRing(11);
    closeAll(listener, server, client);
  });

  test("incremental buffer ring (IOU_PBUF_RING_INC): one buffer serves several receives, F_BUF_MORE while some is left", () => {
    using ring = new IoUring(8);
    const br = ring.setupBufRing(12, 1, 16, IOU_PBUF_RING_INC);
    const { listener, server, client } = tcpPair(ring);
    const recv = () => run(ring, (s) => { prepRecv(s, server, new Uint8Array(0)); s.flags = IOSQE_BUFFER_SELECT; s.bufGroup = 12; });
    run(ring, (s) => prepSend(s, client, enc.encode("abc")));
    const a = recv();
    expect(a.res).toBe(3);
    expect(a.flags & IORING_CQE_F_BUF_MORE).toBeTruthy();
    run(ring, (s) => prepSend(s, client, enc.encode("defg")));
    const b = recv();
    expect(b.res).toBe(4);
    expect(b.flags >>> IORING_CQE_BUFFER_SHIFT).toBe(a.flags >>> IORING_CQE_BUFFER_SHIFT); // the same buffer…
    expect(dec.decode(br.data.subarray(0, 7))).toBe("abcdefg"); // …filled piece after piece
    closeAll(listener, server, client);
  });

  test("personality: an SQE runs with registered credentials; an unknown id is refused", () => {
    using ring = new IoUring(4);
    const id = ring.registerPersonality();
    expect(id).toBeGreaterThan(0);
    expect(run(ring, (s) => { prepNop(s); s.personality = id; }).res).toBe(0);
    ring.unregisterPersonality(id);
    expect(run(ring, (s) => { prepNop(s); s.personality = id; }).res).toBe(-22);
  });

  test("restrictions: a disabled ring refuses to run, then runs only what was allowed", () => {
    using ring = new IoUring(4, { rDisabled: true });
    expect(ring.flags & IORING_SETUP_R_DISABLED).toBeTruthy();
    let err: unknown;
    try {
      ring.enter(0, 0, 0);
    } catch (e) {
      err = e;
    }
    expect((err as { errno?: number }).errno).toBe(-77); // -EBADFD: the ring is still disabled
    expect((err as { code?: string }).code).toBe("EBADFD");
    ring.registerRestrictions([
      { kind: "sqeOp", value: IORING_OP_NOP },
      { kind: "sqeOp", value: IORING_OP_READ },
      { kind: "registerOp", value: IORING_REGISTER_FILES },
    ]);
    ring.enableRings();
    expect(run(ring, (s) => prepNop(s)).res).toBe(0);
    expect(run(ring, (s) => prepWrite(s, 1, new Uint8Array(1), 0)).res).toBe(-13); // IORING_OP_WRITE: -EACCES
    expect(IORING_OP_WRITE).toBe(23);
    ring.registerFiles([-1]); // allowed
    let denied: unknown;
    try {
      ring.registerBuffers([new Uint8Array(16)]);
    } catch (e) {
      denied = e;
    }
    expect((denied as { code?: string }).code).toBe("EACCES");
    expect(() => ring.registerRestrictions([{ kind: "sqeOp", value: 0 }])).toThrow(); // only once, before enabling
  });

  test("io-wq max workers: set, read back, restore", () => {
    using ring = new IoUring(4);
    const before = ring.registerIowqMaxWorkers(0, 0);
    expect(before.length).toBe(2);
    ring.registerIowqMaxWorkers(2, 3);
    expect(ring.registerIowqMaxWorkers(0, 0)).toEqual([2, 3]);
  });

  test("clock: CLOCK_BOOTTIME is accepted, a CPU clock is not; timed waits still time out", () => {
    using ring = new IoUring(4);
    ring.registerClock(7); // CLOCK_BOOTTIME
    expect(ring.waitCqeTimeout(2)).toBeNull();
    let err: unknown;
    try {
      ring.registerClock(2); // CLOCK_PROCESS_CPUTIME_ID
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).toBe("EINVAL");
    ring.registerClock(1); // back to CLOCK_MONOTONIC
  });
});
