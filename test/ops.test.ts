/**
 * Every opcode of Linux 6.18 against the kernel, one family at a time: each test fills SQEs with the
 * prep helper named after its liburing twin and checks what the kernel did (file contents, fds,
 * bytes on a socket, CQE flags). Gated on the probe: an opcode this kernel lacks is skipped, not failed.
 * The one opcode not run here, IORING_OP_RECV_ZC, says why in prepRecvZc's TSDoc.
 */
import { afterAll, beforeAll, expect } from "bun:test";
import { existsSync, lstatSync, readFileSync, readlinkSync, readSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { closeFd, epollCreate1 } from "../ffi/syscalls.ts";
import {
  AF_INET,
  AT_FDCWD,
  AT_REMOVEDIR,
  IORING_ASYNC_CANCEL_ALL,
  IORING_CQE_BUFFER_SHIFT,
  IORING_CQE_F_BUFFER,
  IORING_CQE_F_MORE,
  IORING_CQE_F_NOTIF,
  IORING_FILE_INDEX_ALLOC,
  IORING_FSYNC_DATASYNC,
  IORING_POLL_UPDATE_EVENTS,
  IORING_RECVSEND_BUNDLE,
  IORING_TIMEOUT_ETIME_SUCCESS,
  IOSQE_BUFFER_SELECT,
  IOSQE_FIXED_FILE,
  O_CLOEXEC,
  O_CREAT,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  SHUT_WR,
  SOCK_CLOEXEC,
  SOCK_STREAM,
  SOCKET_URING_OP_GETSOCKOPT,
  SOCKET_URING_OP_SIOCINQ,
  STATX_BASIC_STATS,
  IoringOp,
  type IoringOpName,
} from "../lib/constants.ts";
import { allocShared } from "../lib/memory.ts";
import * as P from "../lib/prep.ts";
import { IoUring, type Probe } from "../lib/ring.ts";
import { parseSockaddr, sockaddr } from "../lib/sockaddr.ts";
import {
  EPOLL_CTL_ADD,
  EPOLLIN,
  EpollEvents,
  FUTEX2_PRIVATE,
  FUTEX2_SIZE_U32,
  FUTEX_BITSET_MATCH_ANY,
  FutexWaitv,
  IoVecs,
  MsgHdr,
  OpenHow,
  P_PID,
  POLLIN,
  POLLOUT,
  SIGINFO_SIZE,
  Timespec,
  WEXITED,
} from "../lib/structs.ts";
import { describeKernel, kernelTest, tempDir, unavailable } from "./helpers.ts";
import { closeAll, makePipe, queue, reap, reapByData, run, tcpListener, tcpPair } from "./raw-helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

let probe: Probe | null = null;
if (!unavailable) {
  using r = new IoUring(2);
  probe = r.probe();
}
/** A kernel test for opcode(s) `ops`, skipped (with the reason) where the probe lacks one. */
const exercised = new Set<IoringOpName>();
function opTest(ops: IoringOpName[], name: string, fn: () => void | Promise<void>): void {
  for (const op of ops) exercised.add(op);
  const missing = ops.filter((op) => !probe?.isSupported(IoringOp[op]));
  if (missing.length && probe) kernelTest.skip(`${name} (kernel lacks ${missing.join(", ")})`, fn);
  else kernelTest(`${ops.join(" + ")}: ${name}`, fn);
}

describeKernel("every opcode against the kernel", () => {
  let dir: ReturnType<typeof tempDir>;
  let ring: IoUring;
  beforeAll(() => {
    dir = tempDir("bun-uring-ops-");
    ring = new IoUring(64);
  });
  afterAll(() => {
    ring.close();
    dir.cleanup();
  });
  const file = (name: string, content?: string) => {
    const p = join(dir.path, name);
    if (content !== undefined) writeFileSync(p, content);
    return p;
  };
  const openFd = (path: string, flags: number, mode = 0o644) => {
    const fd = run(ring, (s) => P.prepOpenat(s, AT_FDCWD, path, flags | O_CLOEXEC, mode)).res;
    expect(fd).toBeGreaterThanOrEqual(0);
    return fd;
  };

  // ------------------------------------------------------------ read / write

  opTest(["NOP"], "completes with res 0 and our user_data", () => {
    expect(run(ring, (s) => P.prepNop(s), 0xaaaaaaaa)).toEqual({ userData: 0xaaaaaaaa, res: 0, flags: 0 });
  });

  opTest(["WRITE", "READ"], "bytes written at an offset read back", () => {
    const fd = openFd(file("rw"), O_RDWR | O_CREAT);
    const out = enc.encode("hello, ring");
    expect(run(ring, (s) => P.prepWrite(s, fd, out, 5)).res).toBe(out.length);
    const back = new Uint8Array(32);
    expect(run(ring, (s) => P.prepRead(s, fd, back, 5)).res).toBe(out.length);
    expect(dec.decode(back.subarray(0, out.length))).toBe("hello, ring");
    closeFd(fd);
  });

  opTest(["WRITEV", "READV"], "readv2/writev2 scatter and gather across two buffers", () => {
    const fd = openFd(file("rwv"), O_RDWR | O_CREAT);
    const w = new IoVecs([enc.encode("abc"), enc.encode("defg")]);
    expect(run(ring, (s) => P.prepWritev2(s, fd, w, 0, 0)).res).toBe(7);
    const a = new Uint8Array(4);
    const b = new Uint8Array(3);
    const r = new IoVecs([a, b]);
    expect(run(ring, (s) => P.prepReadv2(s, fd, r, 0, 0)).res).toBe(7);
    expect(dec.decode(a) + dec.decode(b)).toBe("abcdefg");
    closeFd(fd);
  });

  opTest(["WRITE_FIXED", "READ_FIXED", "WRITEV_FIXED", "READV_FIXED"], "through a registered buffer, plain and vectored", () => {
    using r = new IoUring(8);
    const big = new Uint8Array(8192);
    r.registerBuffers([big]);
    const fd = openFd(file("fixed"), O_RDWR | O_CREAT);
    big.set(enc.encode("0123456789"), 0);
    expect(run(r, (s) => P.prepWriteFixed(s, fd, big.subarray(0, 10), 0, 0)).res).toBe(10);
    big.fill(0, 0, 10);
    expect(run(r, (s) => P.prepReadFixed(s, fd, big.subarray(100, 110), 0, 0)).res).toBe(10);
    expect(dec.decode(big.subarray(100, 110))).toBe("0123456789");
    // vectored: two pieces of the same registered buffer
    big.set(enc.encode("AB"), 1000);
    big.set(enc.encode("CDE"), 2000);
    const wv = new IoVecs([big.subarray(1000, 1002), big.subarray(2000, 2003)]);
    expect(run(r, (s) => P.prepWritevFixed(s, fd, wv, 20, 0, 0)).res).toBe(5);
    const rv = new IoVecs([big.subarray(3000, 3003), big.subarray(4000, 4002)]);
    expect(run(r, (s) => P.prepReadvFixed(s, fd, rv, 20, 0, 0)).res).toBe(5);
    expect(dec.decode(big.subarray(3000, 3003)) + dec.decode(big.subarray(4000, 4002))).toBe("ABCDE");
    // an iovec outside the registered buffer is refused
    const outside = new IoVecs([new Uint8Array(16)]);
    expect(run(r, (s) => P.prepReadvFixed(s, fd, outside, 0, 0, 0)).res).toBe(-14); // -EFAULT
    closeFd(fd);
  });

  opTest(["READ_MULTISHOT"], "one CQE per pipe write, each in a buffer of the ring, F_MORE while armed", () => {
    using r = new IoUring(8);
    const br = r.setupBufRing(3, 4, 64);
    const [rd, wr] = makePipe();
    queue(r, (s) => P.prepReadMultishot(s, rd, 0, 0, 3), 0x77);
    expect(r.submit()).toBe(1);
    const got: string[] = [];
    for (const msg of ["first", "second"]) {
      writeFileSync(`/proc/self/fd/${wr}`, msg);
      const [c] = reap(r, 1);
      expect(c!.res).toBe(msg.length);
      expect(c!.flags & IORING_CQE_F_MORE).toBeTruthy();
      expect(c!.flags & IORING_CQE_F_BUFFER).toBeTruthy();
      const bid = c!.flags >>> IORING_CQE_BUFFER_SHIFT;
      got.push(dec.decode(br.view(bid, c!.res)));
      br.recycle(bid);
    }
    expect(got).toEqual(["first", "second"]);
    closeAll(wr); // EOF ends the multishot: a last CQE without F_MORE
    const [end] = reap(r, 1);
    expect(end!.flags & IORING_CQE_F_MORE).toBe(0);
    closeAll(rd);
  });

  // ------------------------------------------------------------ sync and space

  opTest(["FSYNC", "SYNC_FILE_RANGE", "FALLOCATE", "FADVISE", "FTRUNCATE"], "fsync, fdatasync, sync_file_range, fallocate, fadvise, ftruncate", () => {
    const p = file("space", "x");
    const fd = openFd(p, O_RDWR);
    expect(run(ring, (s) => P.prepFsync(s, fd)).res).toBe(0);
    expect(run(ring, (s) => P.prepFsync(s, fd, IORING_FSYNC_DATASYNC)).res).toBe(0);
    expect(run(ring, (s) => P.prepSyncFileRange(s, fd, 0, 0, 2 /* SYNC_FILE_RANGE_WRITE */)).res).toBe(0);
    expect(run(ring, (s) => P.prepFallocate(s, fd, 0, 0, 1 << 16)).res).toBe(0);
    expect(statSync(p).size).toBe(1 << 16);
    expect(run(ring, (s) => P.prepFadvise(s, fd, 0, 4096, 2 /* POSIX_FADV_SEQUENTIAL */)).res).toBe(0);
    expect(run(ring, (s) => P.prepFadvise64(s, fd, 0, 2 ** 33, 1 /* POSIX_FADV_RANDOM */)).res).toBe(0);
    expect(run(ring, (s) => P.prepFadvise(s, fd, 0, 0, 99)).res).toBe(-22); // bad advice: -EINVAL
    expect(run(ring, (s) => P.prepFtruncate(s, fd, 100)).res).toBe(0);
    expect(statSync(p).size).toBe(100);
    closeFd(fd);
  });

  opTest(["MADVISE"], "madvise and madvise64 on a page-aligned region", () => {
    const region = allocShared(8192);
    expect(run(ring, (s) => P.prepMadvise(s, region.address, 8192, 3 /* MADV_WILLNEED */)).res).toBe(0);
    expect(run(ring, (s) => P.prepMadvise64(s, region.address, 4096, 0 /* MADV_NORMAL */)).res).toBe(0);
    expect(run(ring, (s) => P.prepMadvise(s, region.address + 1, 4096, 0)).res).toBe(-22); // unaligned: -EINVAL
    void region.buffer;
  });

  // ------------------------------------------------------------ files and paths

  opTest(["OPENAT", "CLOSE", "STATX"], "open, statx, close; open relative to AT_FDCWD", () => {
    const p = file("stat", "12345");
    const fd = run(ring, (s) => P.prepOpen(s, p, O_RDONLY | O_CLOEXEC)).res;
    expect(fd).toBeGreaterThanOrEqual(0);
    const stx = new Uint8Array(256);
    expect(run(ring, (s) => P.prepStatx(s, AT_FDCWD, p, 0, STATX_BASIC_STATS, stx)).res).toBe(0);
    expect(Number(new DataView(stx.buffer).getBigUint64(40, true))).toBe(5);
    expect(run(ring, (s) => P.prepClose(s, fd)).res).toBe(0);
    expect(run(ring, (s) => P.prepClose(s, fd)).res).toBe(-9); // -EBADF: really closed
  });

  opTest(["OPENAT2"], "openat2 with an open_how, plain and direct; RESOLVE_BENEATH refuses ..", () => {
    const p = file("oa2", "openat2!");
    const how = new OpenHow(O_RDONLY | O_CLOEXEC);
    const fd = run(ring, (s) => P.prepOpenat2(s, AT_FDCWD, p, how)).res;
    expect(fd).toBeGreaterThanOrEqual(0);
    const b = Buffer.alloc(8);
    expect(readSync(fd, b, 0, 8, 0)).toBe(8);
    expect(b.toString()).toBe("openat2!");
    closeFd(fd);
    const dfd = openFd(dir.path, 0o200000 /* O_DIRECTORY */);
    const beneath = new OpenHow(O_RDONLY, 0, 0x08 /* RESOLVE_BENEATH */);
    expect(run(ring, (s) => P.prepOpenat2(s, dfd, "../etc", beneath)).res).toBe(-18); // -EXDEV
    closeFd(dfd);
    using r = new IoUring(4);
    r.registerFilesSparse(4);
    const direct = new OpenHow(O_RDONLY); // O_CLOEXEC is refused for direct descriptors
    expect(run(r, (s) => P.prepOpenat2Direct(s, AT_FDCWD, p, how, 2)).res).toBe(-22);
    expect(run(r, (s) => P.prepOpenat2Direct(s, AT_FDCWD, p, direct, 2)).res).toBe(0);
    const slot = run(r, (s) => P.prepOpenat2Direct(s, AT_FDCWD, p, direct, IORING_FILE_INDEX_ALLOC)).res;
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(slot).not.toBe(2);
    const got = new Uint8Array(8);
    expect(run(r, (s) => { P.prepRead(s, 2, got, 0); s.flags = IOSQE_FIXED_FILE; }).res).toBe(8);
    expect(run(r, (s) => P.prepCloseDirect(s, 2)).res).toBe(0);
    expect(run(r, (s) => P.prepOpenDirect(s, p, O_RDONLY, 0, 3)).res).toBe(0);
    expect(run(r, (s) => { P.prepRead(s, 3, got, 0); s.flags = IOSQE_FIXED_FILE; }).res).toBe(8);
  });

  opTest(["RENAMEAT", "UNLINKAT", "MKDIRAT", "SYMLINKAT", "LINKAT"], "mkdir, rename, symlink, link, unlink, rmdir", () => {
    const d = join(dir.path, "tree");
    expect(run(ring, (s) => P.prepMkdirat(s, AT_FDCWD, d, 0o755)).res).toBe(0);
    expect(statSync(d).isDirectory()).toBe(true);
    expect(run(ring, (s) => P.prepMkdir(s, d, 0o755)).res).toBe(-17); // -EEXIST
    const a = join(d, "a");
    writeFileSync(a, "A");
    expect(run(ring, (s) => P.prepRenameat(s, AT_FDCWD, a, AT_FDCWD, join(d, "b"))).res).toBe(0);
    expect(run(ring, (s) => P.prepRename(s, join(d, "b"), join(d, "c"))).res).toBe(0);
    expect(existsSync(join(d, "c"))).toBe(true);
    expect(run(ring, (s) => P.prepSymlinkat(s, "c", AT_FDCWD, join(d, "sym"))).res).toBe(0);
    expect(readlinkSync(join(d, "sym"))).toBe("c");
    expect(run(ring, (s) => P.prepSymlink(s, "c", join(d, "sym2"))).res).toBe(0);
    expect(lstatSync(join(d, "sym2")).isSymbolicLink()).toBe(true);
    expect(run(ring, (s) => P.prepLinkat(s, AT_FDCWD, join(d, "c"), AT_FDCWD, join(d, "hard"))).res).toBe(0);
    expect(run(ring, (s) => P.prepLink(s, join(d, "c"), join(d, "hard2"))).res).toBe(0);
    expect(statSync(join(d, "c")).nlink).toBe(3);
    for (const n of ["c", "sym", "sym2", "hard"]) expect(run(ring, (s) => P.prepUnlinkat(s, AT_FDCWD, join(d, n))).res).toBe(0);
    expect(run(ring, (s) => P.prepUnlink(s, join(d, "hard2"))).res).toBe(0);
    expect(run(ring, (s) => P.prepUnlink(s, d, AT_REMOVEDIR)).res).toBe(0);
    expect(existsSync(d)).toBe(false);
  });

  // ------------------------------------------------------------ xattrs

  opTest(["SETXATTR", "GETXATTR", "FSETXATTR", "FGETXATTR"], "set and get user.* attributes by path and by fd", () => {
    const p = file("xattr", "x");
    const v1 = enc.encode("by-path");
    expect(run(ring, (s) => P.prepSetxattr(s, "user.one", v1, p)).res).toBe(0);
    const out = new Uint8Array(32);
    expect(run(ring, (s) => P.prepGetxattr(s, "user.one", out, p)).res).toBe(7);
    expect(dec.decode(out.subarray(0, 7))).toBe("by-path");
    const fd = openFd(p, O_RDWR);
    const v2 = enc.encode("by-fd");
    expect(run(ring, (s) => P.prepFsetxattr(s, fd, "user.two", v2)).res).toBe(0);
    expect(run(ring, (s) => P.prepFgetxattr(s, fd, "user.two", out)).res).toBe(5);
    expect(dec.decode(out.subarray(0, 5))).toBe("by-fd");
    expect(run(ring, (s) => P.prepFsetxattr(s, fd, "user.two", v2, 1 /* XATTR_CREATE */)).res).toBe(-17); // exists
    expect(run(ring, (s) => P.prepFgetxattr(s, fd, "user.none", out)).res).toBe(-61); // -ENODATA
    closeFd(fd);
  });

  // ------------------------------------------------------------ pipes, splice, tee

  opTest(["PIPE", "SPLICE", "TEE"], "pipe makes a pipe; tee copies it to a second pipe; splice drains into a file", () => {
    const fds = new Int32Array(2);
    expect(run(ring, (s) => P.prepPipe(s, fds, O_CLOEXEC)).res).toBe(0);
    const [rd, wr] = [fds[0]!, fds[1]!];
    expect(rd).toBeGreaterThan(2);
    expect(run(ring, (s) => P.prepWrite(s, wr, enc.encode("through a pipe"), -1)).res).toBe(14);
    const [rd2, wr2] = makePipe();
    expect(run(ring, (s) => P.prepTee(s, rd, wr2, 64)).res).toBe(14);
    const p = file("spliced");
    const out = openFd(p, O_WRONLY | O_CREAT);
    expect(run(ring, (s) => P.prepSplice(s, rd, -1, out, 0, 64)).res).toBe(14);
    expect(readFileSync(p, "utf8")).toBe("through a pipe");
    const teed = new Uint8Array(32);
    expect(run(ring, (s) => P.prepRead(s, rd2, teed, -1)).res).toBe(14);
    expect(dec.decode(teed.subarray(0, 14))).toBe("through a pipe");
    closeAll(rd, wr, rd2, wr2, out);
  });

  opTest(["PIPE"], "pipe_direct puts both ends in fixed-file slots", () => {
    using r = new IoUring(4);
    r.registerFilesSparse(8);
    const fds = new Int32Array(2);
    expect(run(r, (s) => P.prepPipeDirect(s, fds, 0, 4)).res).toBe(0);
    expect([fds[0], fds[1]]).toEqual([4, 5]);
    const msg = enc.encode("slots");
    expect(run(r, (s) => { P.prepWrite(s, 5, msg, -1); s.flags = IOSQE_FIXED_FILE; }).res).toBe(5);
    const got = new Uint8Array(8);
    expect(run(r, (s) => { P.prepRead(s, 4, got, -1); s.flags = IOSQE_FIXED_FILE; }).res).toBe(5);
    expect(dec.decode(got.subarray(0, 5))).toBe("slots");
  });

  // ------------------------------------------------------------ the fixed-file table

  opTest(["FILES_UPDATE", "FIXED_FD_INSTALL"], "files_update fills a slot; fixed_fd_install turns a slot back into an fd", () => {
    using r = new IoUring(4);
    r.registerFilesSparse(4);
    const p = file("install", "installed");
    const fd = openFd(p, O_RDONLY);
    const fds = Int32Array.of(fd);
    expect(run(r, (s) => P.prepFilesUpdate(s, fds, 3)).res).toBe(1);
    closeFd(fd); // the table holds its own reference
    const got = new Uint8Array(16);
    expect(run(r, (s) => { P.prepRead(s, 3, got, 0); s.flags = IOSQE_FIXED_FILE; }).res).toBe(9);
    const installed = run(r, (s) => P.prepFixedFdInstall(s, 3)).res;
    expect(installed).toBeGreaterThanOrEqual(0);
    const b = Buffer.alloc(9);
    expect(readSync(installed, b, 0, 9, 0)).toBe(9);
    expect(b.toString()).toBe("installed");
    closeFd(installed);
    expect(run(r, (s) => P.prepFixedFdInstall(s, 2)).res).toBe(-9); // empty slot: -EBADF
  });

  // ------------------------------------------------------------ sockets

  opTest(["SOCKET", "BIND", "LISTEN", "ACCEPT", "CONNECT", "SEND", "RECV", "SHUTDOWN"], "a TCP conversation made only of io_uring ops", () => {
    const { listener, server, client } = tcpPair(ring);
    expect(run(ring, (s) => P.prepSend(s, client, enc.encode("ping"))).res).toBe(4);
    const b = new Uint8Array(16);
    expect(run(ring, (s) => P.prepRecv(s, server, b)).res).toBe(4);
    expect(dec.decode(b.subarray(0, 4))).toBe("ping");
    expect(run(ring, (s) => P.prepShutdown(s, client, SHUT_WR)).res).toBe(0);
    expect(run(ring, (s) => P.prepRecv(s, server, b)).res).toBe(0); // EOF after shutdown
    closeAll(listener, server, client);
  });

  opTest(["ACCEPT", "SOCKET"], "accept_direct, multishot accept (+ direct) and socket_direct fill fixed-file slots", () => {
    using r = new IoUring(16);
    r.registerFilesSparse(16);
    const l = tcpListener(r);
    const addr = sockaddr("127.0.0.1", l.port);
    // socket_direct into slot 1 (res 0), socket_direct_alloc into a free one (res: the slot)
    expect(run(r, (s) => P.prepSocketDirect(s, AF_INET, SOCK_STREAM, 0, 1)).res).toBe(0);
    const alloc = run(r, (s) => P.prepSocketDirectAlloc(s, AF_INET, SOCK_STREAM, 0)).res;
    expect(alloc).toBeGreaterThanOrEqual(0);
    expect(alloc).not.toBe(1);
    const taken = new Set([1, alloc, 5]);
    // accept_direct into slot 5 while slot 1 connects (fixed file)
    queue(r, (s) => P.prepAcceptDirect(s, l.fd, null, null, 0, 5), 1);
    queue(r, (s) => { P.prepConnect(s, 1, addr); s.flags = IOSQE_FIXED_FILE; }, 2);
    r.submitAndWait(2);
    const m = reapByData(r, 2);
    expect(m.get(1)!.res).toBe(0);
    expect(m.get(2)!.res).toBe(0);
    // multishot accept with a peer address, then multishot accept direct
    const peer = new Uint8Array(128);
    const peerLen = Uint32Array.of(128);
    queue(r, (s) => P.prepMultishotAccept(s, l.fd, peer, peerLen, SOCK_CLOEXEC), 10);
    queue(r, (s) => { P.prepConnect(s, alloc, addr); s.flags = IOSQE_FIXED_FILE; }, 11);
    r.submitAndWait(2);
    const ms = reapByData(r, 2);
    expect(ms.get(11)!.res).toBe(0);
    expect(ms.get(10)!.res).toBeGreaterThanOrEqual(0);
    expect(ms.get(10)!.flags & IORING_CQE_F_MORE).toBeTruthy();
    expect(parseSockaddr(peer, peerLen[0]).address).toBe("127.0.0.1");
    closeFd(ms.get(10)!.res);
    queue(r, (s) => P.prepCancel64(s, 10), 0xcc);
    r.submitAndWait(2);
    const cancelled10 = reapByData(r, 2);
    expect(cancelled10.get(0xcc)!.res).toBe(0);
    expect(cancelled10.get(10)!.res).toBe(-125); // the multishot accept ends with -ECANCELED // the multishot accept ends with -ECANCELED
    queue(r, (s) => P.prepMultishotAcceptDirect(s, l.fd, null, null), 20);
    for (let k = 0; k < 2; k++) {
      const c = run(r, (s) => P.prepSocket(s, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), 21).res;
      queue(r, (s) => P.prepConnect(s, c, addr), 22);
      r.submitAndWait(2);
      const got = reapByData(r, 2);
      expect(got.get(22)!.res).toBe(0);
      const slot = got.get(20)!.res; // a free slot
      expect(slot).toBeGreaterThanOrEqual(0);
      expect(taken.has(slot)).toBe(false);
      taken.add(slot);
      expect(got.get(20)!.flags & IORING_CQE_F_MORE).toBeTruthy();
      closeFd(c);
    }
    queue(r, (s) => P.prepCancel64(s, 20), 0xcc);
    r.submitAndWait(2);
    const cancelled20 = reapByData(r, 2);
    expect(cancelled20.get(0xcc)!.res).toBe(0);
    expect(cancelled20.get(20)!.res).toBe(-125); // the multishot accept ends with -ECANCELED
    closeFd(l.fd);
  });

  opTest(["SENDMSG", "RECVMSG"], "sendmsg gathers two buffers; recvmsg scatters them", () => {
    const { listener, server, client } = tcpPair(ring);
    const out = new MsgHdr(new IoVecs([enc.encode("send"), enc.encode("msg")]));
    expect(run(ring, (s) => P.prepSendmsg(s, client, out)).res).toBe(7);
    const a = new Uint8Array(3);
    const b = new Uint8Array(8);
    const inn = new MsgHdr(new IoVecs([a, b]));
    expect(run(ring, (s) => P.prepRecvmsg(s, server, inn)).res).toBe(7);
    expect(dec.decode(a) + dec.decode(b.subarray(0, 4))).toBe("sendmsg");
    expect(inn.flags).toBe(0);
    closeAll(listener, server, client);
  });

  opTest(["RECV"], "recv multishot from a provided-buffer ring: one CQE per message, the buffer id in the flags", () => {
    using r = new IoUring(8);
    const br = r.setupBufRing(7, 8, 32);
    const { listener, server, client } = tcpPair(r);
    queue(r, (s) => { P.prepRecvMultishot(s, server, null); s.flags = IOSQE_BUFFER_SELECT; s.bufGroup = 7; }, 0x5e);
    r.submit();
    const seen: string[] = [];
    for (const m of ["one", "two", "three"]) {
      expect(run(r, (s) => P.prepSend(s, client, enc.encode(m)), 1).res).toBe(m.length);
      const [c] = reap(r, 1);
      expect(c!.userData).toBe(0x5e);
      expect(c!.flags & IORING_CQE_F_MORE).toBeTruthy();
      const bid = c!.flags >>> IORING_CQE_BUFFER_SHIFT;
      seen.push(dec.decode(br.view(bid, c!.res)));
      br.recycle(bid);
    }
    expect(seen).toEqual(["one", "two", "three"]);
    closeAll(client);
    const [end] = reap(r, 1); // EOF: res 0, no F_MORE
    expect(end!.res).toBe(0);
    expect(end!.flags & IORING_CQE_F_MORE).toBe(0);
    closeAll(listener, server);
  });

  opTest(["SEND", "RECV"], "send bundle: several provided buffers in one send; recv bundle takes them in one CQE", () => {
    using r = new IoUring(8);
    const tx = r.setupBufRing(1, 4, 8);
    for (let bid = 0; bid < 4; bid++) tx.data.set(enc.encode(`buffer-${bid}`), bid * 8);
    const { listener, server, client } = tcpPair(r);
    const c = run(r, (s) => { P.prepSendBundle(s, client, 0); s.flags = IOSQE_BUFFER_SELECT; s.bufGroup = 1; });
    expect(c.res).toBe(32);
    expect(c.flags & IORING_CQE_F_BUFFER).toBeTruthy();
    expect(c.flags >>> IORING_CQE_BUFFER_SHIFT).toBe(0); // the first buffer of the bundle
    const rx = r.setupBufRing(2, 8, 16);
    const got = run(r, (s) => { P.prepRecv(s, server, new Uint8Array(0)); s.u32[s.i] |= IORING_RECVSEND_BUNDLE << 16; s.flags = IOSQE_BUFFER_SELECT; s.bufGroup = 2; });
    expect(got.res).toBe(32); // two 16-byte buffers, one CQE
    const first = got.flags >>> IORING_CQE_BUFFER_SHIFT;
    expect(dec.decode(rx.data.subarray(first * 16, first * 16 + 32))).toBe("buffer-0buffer-1buffer-2buffer-3");
    closeAll(listener, server, client);
  });

  // ------------------------------------------------------------ zero-copy networking

  opTest(["SEND_ZC", "SENDMSG_ZC"], "zero-copy sends: a result CQE with F_MORE, then the notification CQE with F_NOTIF", () => {
    const { listener, server, client } = tcpPair(ring);
    const data = enc.encode("zero-copy!");
    queue(ring, (s) => P.prepSendZc(s, client, data), 0x2c);
    ring.submitAndWait(2);
    const [res, notif] = reap(ring, 2);
    expect(res).toEqual({ userData: 0x2c, res: 10, flags: IORING_CQE_F_MORE });
    expect(notif!.userData).toBe(0x2c);
    expect(notif!.flags & IORING_CQE_F_NOTIF).toBeTruthy();
    expect(notif!.flags & IORING_CQE_F_MORE).toBe(0);
    const msg = new MsgHdr(new IoVecs([enc.encode("zc"), enc.encode("msg")]));
    queue(ring, (s) => P.prepSendmsgZc(s, client, msg), 0x2d);
    ring.submitAndWait(2);
    const both = reap(ring, 2);
    expect(both[0]!.res).toBe(5);
    expect(both[1]!.flags & IORING_CQE_F_NOTIF).toBeTruthy();
    const b = new Uint8Array(32);
    let n = 0;
    while (n < 15) n += run(ring, (s) => P.prepRecv(s, server, b.subarray(n))).res;
    expect(dec.decode(b.subarray(0, 15))).toBe("zero-copy!zcmsg");
    // from a registered buffer
    using r = new IoUring(4);
    const reg = new Uint8Array(4096);
    r.registerBuffers([reg]);
    reg.set(enc.encode("fixed"), 0);
    queue(r, (s) => P.prepSendZcFixed(s, client, reg.subarray(0, 5), 0, 0, 0), 1);
    r.submitAndWait(2);
    const fx = reap(r, 2);
    expect(fx[0]!.res).toBe(5);
    expect(fx[1]!.flags & IORING_CQE_F_NOTIF).toBeTruthy();
    // sendmsg_zc from a registered buffer
    const pieces = new MsgHdr(new IoVecs([reg.subarray(0, 2), reg.subarray(2, 5)]));
    queue(r, (s) => P.prepSendmsgZcFixed(s, client, pieces, 0, 0), 2);
    r.submitAndWait(2);
    const fv = reap(r, 2);
    expect(fv[0]!.res).toBe(5);
    expect(fv[1]!.flags & IORING_CQE_F_NOTIF).toBeTruthy();
    const back = new Uint8Array(16);
    let got = 0;
    while (got < 10) got += run(ring, (s) => P.prepRecv(s, server, back.subarray(got))).res;
    expect(dec.decode(back.subarray(0, 10))).toBe("fixedfixed");
    closeAll(listener, server, client);
  });

  // ------------------------------------------------------------ uring_cmd

  opTest(["URING_CMD"], "socket commands: SIOCINQ counts queued bytes, GETSOCKOPT reads SO_TYPE", () => {
    const { listener, server, client } = tcpPair(ring);
    expect(run(ring, (s) => P.prepSend(s, client, enc.encode("12345"))).res).toBe(5);
    let inq = 0;
    for (let k = 0; k < 100 && inq < 5; k++) inq = run(ring, (s) => P.prepCmdSock(s, SOCKET_URING_OP_SIOCINQ, server, 0, 0, null)).res;
    expect(inq).toBe(5);
    const optval = new Int32Array(1);
    const r = run(ring, (s) => P.prepCmdSock(s, SOCKET_URING_OP_GETSOCKOPT, server, 1 /* SOL_SOCKET */, 3 /* SO_TYPE */, optval));
    expect(r.res).toBe(4); // the option's length
    expect(optval[0]).toBe(SOCK_STREAM);
    // a block command on a regular file is refused
    const f = openFd(file("not-a-block-device", "x"), O_WRONLY);
    expect(run(ring, (s) => P.prepCmdDiscard(s, f, 0, 4096)).res).toBe(-95); // -EOPNOTSUPP
    closeFd(f);
    // prepUringCmd: a command the socket does not know is refused
    expect(run(ring, (s) => P.prepUringCmd(s, 0x7fff, server)).res).toBe(-95); // -EOPNOTSUPP
    closeAll(listener, server, client);
  });

  // ------------------------------------------------------------ poll and epoll

  opTest(["POLL_ADD", "POLL_REMOVE"], "poll once, poll multishot, poll_update, poll_remove", () => {
    const [rd, wr] = makePipe();
    expect(run(ring, (s) => P.prepPollAdd(s, wr, POLLOUT)).res & POLLOUT).toBeTruthy();
    queue(ring, (s) => P.prepPollMultishot(s, rd, POLLIN), 0x90);
    ring.submit();
    const b = new Uint8Array(8);
    for (let k = 0; k < 2; k++) {
      writeFileSync(`/proc/self/fd/${wr}`, "x");
      const [c] = reap(ring, 1);
      expect(c!.userData).toBe(0x90);
      expect(c!.res & POLLIN).toBeTruthy();
      expect(c!.flags & IORING_CQE_F_MORE).toBeTruthy();
      expect(run(ring, (s) => P.prepRead(s, rd, b, -1), 2).res).toBe(1);
    }
    expect(run(ring, (s) => P.prepPollUpdate(s, 0x90, 0x91, POLLIN, IORING_POLL_UPDATE_EVENTS | 4 /* UPDATE_USER_DATA */), 3).res).toBe(0);
    expect(run(ring, (s) => P.prepPollRemove(s, 0x90), 4).res).toBe(-2); // renamed: -ENOENT
    queue(ring, (s) => P.prepPollRemove(s, 0x91), 5);
    ring.submitAndWait(2);
    const m = reapByData(ring, 2);
    expect(m.get(5)!.res).toBe(0);
    expect(m.get(0x91)!.res).toBe(-125);
    closeAll(rd, wr);
  });

  opTest(["EPOLL_CTL", "EPOLL_WAIT"], "epoll_ctl adds a pipe; epoll_wait reports it readable with its data", () => {
    const ep = epollCreate1();
    expect(ep).toBeGreaterThanOrEqual(0);
    const [rd, wr] = makePipe();
    const ev = new EpollEvents(1).set(0, EPOLLIN, 0x1234);
    expect(run(ring, (s) => P.prepEpollCtl(s, ep, rd, EPOLL_CTL_ADD, ev)).res).toBe(0);
    expect(run(ring, (s) => P.prepEpollCtl(s, ep, rd, EPOLL_CTL_ADD, ev)).res).toBe(-17); // -EEXIST
    const events = new EpollEvents(4);
    queue(ring, (s) => P.prepEpollWait(s, ep, events, 4), 0xe9);
    ring.submit();
    writeFileSync(`/proc/self/fd/${wr}`, "!");
    const [c] = reap(ring, 1);
    expect(c!.res).toBe(1);
    expect(events.events(0) & EPOLLIN).toBeTruthy();
    expect(events.data(0)).toBe(0x1234n);
    closeAll(rd, wr, ep);
  });

  // ------------------------------------------------------------ timeouts

  opTest(["TIMEOUT", "TIMEOUT_REMOVE"], "timeout_update shortens a timeout; timeout_remove cancels one", () => {
    const long = new Timespec(60_000);
    const short = new Timespec(1);
    queue(ring, (s) => P.prepTimeout(s, long), 0x71);
    ring.submit();
    expect(run(ring, (s) => P.prepTimeoutUpdate(s, short, 0x71), 0x72).res).toBe(0);
    expect(reap(ring, 1)[0]).toEqual({ userData: 0x71, res: -62, flags: 0 }); // -ETIME, after 1 ms
    queue(ring, (s) => P.prepTimeout(s, long), 0x73);
    queue(ring, (s) => P.prepTimeoutRemove(s, 0x73), 0x74);
    ring.submitAndWait(2);
    const m = reapByData(ring, 2);
    expect(m.get(0x73)!.res).toBe(-125);
    expect(m.get(0x74)!.res).toBe(0);
    expect(run(ring, (s) => P.prepTimeoutRemove(s, 0x73), 0x75).res).toBe(-2); // gone: -ENOENT
    // ETIME_SUCCESS: a time-out counts as success
    expect(run(ring, (s) => P.prepTimeout(s, short, 0, IORING_TIMEOUT_ETIME_SUCCESS)).res).toBe(-62);
  });

  // ------------------------------------------------------------ cancellation (every mode: test/behaviour.test.ts)

  opTest(["ASYNC_CANCEL"], "prepCancel and prepCancelFd (ALL) cancel reads on an empty pipe", () => {
    const [rd, wr] = makePipe();
    const b1 = new Uint8Array(4);
    const b2 = new Uint8Array(4);
    queue(ring, (s) => P.prepRead(s, rd, b1, -1), 0x61);
    queue(ring, (s) => P.prepRead(s, rd, b2, -1), 0x62);
    ring.submit();
    expect(run(ring, (s) => P.prepCancel(s, 0x61), 0x63).res).toBe(0);
    expect(reap(ring, 1)[0]).toEqual({ userData: 0x61, res: -125, flags: 0 });
    queue(ring, (s) => P.prepCancelFd(s, rd, IORING_ASYNC_CANCEL_ALL), 0x64);
    ring.submitAndWait(2);
    const m = reapByData(ring, 2);
    expect(m.get(0x64)!.res).toBe(1); // ALL: how many were cancelled
    expect(m.get(0x62)!.res).toBe(-125);
    closeAll(rd, wr);
  });

  // ------------------------------------------------------------ provided buffers

  opTest(["PROVIDE_BUFFERS", "REMOVE_BUFFERS"], "a read picks a provided buffer; remove_buffers takes back the rest", () => {
    const pool = new Uint8Array(4 * 16);
    expect(run(ring, (s) => P.prepProvideBuffers(s, pool, 16, 4, 9, 100)).res).toBe(0);
    const p = file("provided", "picked");
    const fd = openFd(p, O_RDONLY);
    const c = run(ring, (s) => { P.prepRead(s, fd, new Uint8Array(0), 0); s.u32[s.i + 6] = 16; s.flags = IOSQE_BUFFER_SELECT; s.bufGroup = 9; });
    expect(c.res).toBe(6);
    expect(c.flags & IORING_CQE_F_BUFFER).toBeTruthy();
    const bid = c.flags >>> IORING_CQE_BUFFER_SHIFT;
    expect(bid).toBeGreaterThanOrEqual(100);
    expect(dec.decode(pool.subarray((bid - 100) * 16, (bid - 100) * 16 + 6))).toBe("picked");
    expect(run(ring, (s) => P.prepRemoveBuffers(s, 10, 9)).res).toBe(3);
    expect(run(ring, (s) => P.prepRemoveBuffers(s, 1, 9)).res).toBe(0); // nothing left to take back
    closeFd(fd);
  });

  // ------------------------------------------------------------ messages between rings

  opTest(["MSG_RING"], "msg_ring posts a CQE on another ring; msg_ring_fd passes a fixed file", () => {
    using other = new IoUring(4);
    expect(run(ring, (s) => P.prepMsgRing(s, other.fd, 42, 0xbeef)).res).toBe(0);
    expect(reap(other, 1)[0]).toEqual({ userData: 0xbeef, res: 42, flags: 0 });
    expect(run(ring, (s) => P.prepMsgRingCqeFlags(s, other.fd, 7, 0xbeef, 0, 0x8000))).toEqual({ userData: 1, res: 0, flags: 0 });
    expect(reap(other, 1)[0]).toEqual({ userData: 0xbeef, res: 7, flags: 0x8000 });
    // pass a file
    using src = new IoUring(4);
    const p = file("passed", "passed along");
    const fd = openFd(p, O_RDONLY);
    src.registerFiles([fd]);
    closeFd(fd);
    other.registerFilesSparse(4);
    expect(run(src, (s) => P.prepMsgRingFd(s, other.fd, 0, 3, 0xf00d)).res).toBe(0);
    expect(reap(other, 1)[0]!.userData).toBe(0xf00d);
    const got = new Uint8Array(16);
    expect(run(other, (s) => { P.prepRead(s, 3, got, 0); s.flags = IOSQE_FIXED_FILE; }).res).toBe(12);
    expect(run(src, (s) => P.prepMsgRingFdAlloc(s, other.fd, 0, 0xf00e)).res).toBe(0);
    const [alloc] = reap(other, 1);
    expect(alloc!.userData).toBe(0xf00e);
    expect(alloc!.res).toBe(0); // the slot it landed in
  });

  // ------------------------------------------------------------ processes and futexes

  opTest(["WAITID"], "waitid sees a child exit (WNOWAIT, so Bun still reaps it)", async () => {
    const child = Bun.spawn(["sleep", "0.2"]);
    const info = new Uint8Array(SIGINFO_SIZE);
    const c = run(ring, (s) => P.prepWaitid(s, P_PID, child.pid, info, WEXITED | 0x01000000 /* WNOWAIT */));
    expect(c.res).toBe(0);
    const dv = new DataView(info.buffer);
    expect(dv.getInt32(0, true)).toBe(17); // si_signo SIGCHLD
    expect(dv.getInt32(8, true)).toBe(1); // si_code CLD_EXITED
    expect(dv.getInt32(16, true)).toBe(child.pid);
    expect(dv.getInt32(24, true)).toBe(0); // exit status
    expect(await child.exited).toBe(0);
  });

  opTest(["FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_WAITV"], "futex wait is woken by futex wake; waitv reports which word woke it", () => {
    const words = new Uint32Array(new SharedArrayBuffer(8));
    const flags = FUTEX2_SIZE_U32 | FUTEX2_PRIVATE;
    queue(ring, (s) => P.prepFutexWait(s, words, 0, FUTEX_BITSET_MATCH_ANY, flags), 0xf1);
    ring.submit();
    expect(run(ring, (s) => P.prepFutexWake(s, words, 1, FUTEX_BITSET_MATCH_ANY, flags), 0xf2).res).toBe(1);
    expect(reap(ring, 1)[0]).toEqual({ userData: 0xf1, res: 0, flags: 0 });
    // the value no longer matches: -EAGAIN at once
    words[0] = 5;
    expect(run(ring, (s) => P.prepFutexWait(s, words, 0, FUTEX_BITSET_MATCH_ANY, flags)).res).toBe(-11);
    const v = new FutexWaitv([{ word: words.subarray(0, 1), val: 5 }, { word: words.subarray(1, 2), val: 0 }]);
    queue(ring, (s) => P.prepFutexWaitv(s, v), 0xf3);
    ring.submit();
    expect(run(ring, (s) => P.prepFutexWake(s, words.subarray(1, 2), 1, FUTEX_BITSET_MATCH_ANY, flags), 0xf4).res).toBe(1);
    expect(reap(ring, 1)[0]).toEqual({ userData: 0xf3, res: 1, flags: 0 });
  });
  opTest(["RECVMSG"], "recvmsg multishot: each buffer holds an io_uring_recvmsg_out header, then the payload", () => {
    using r = new IoUring(8);
    const br = r.setupBufRing(5, 4, 64);
    const { listener, server, client } = tcpPair(r);
    const shape = new MsgHdr(null); // no name, no control: only their sizes matter here
    queue(r, (s) => { P.prepRecvmsgMultishot(s, server, shape); s.flags = IOSQE_BUFFER_SELECT; s.bufGroup = 5; }, 0x3a);
    r.submit();
    run(r, (s) => P.prepSend(s, client, enc.encode("multishot msg")), 1);
    const [c] = reap(r, 1);
    expect(c!.userData).toBe(0x3a);
    expect(c!.flags & IORING_CQE_F_MORE).toBeTruthy();
    const bid = c!.flags >>> IORING_CQE_BUFFER_SHIFT;
    const out = new DataView(br.data.buffer, bid * 64, 16); // namelen, controllen, payloadlen, flags
    expect(out.getUint32(8, true)).toBe(13);
    expect(c!.res).toBe(16 + 13);
    expect(dec.decode(br.view(bid, c!.res).subarray(16))).toBe("multishot msg");
    queue(r, (s) => P.prepCancel64(s, 0x3a), 0xcc);
    r.submitAndWait(2);
    expect(reapByData(r, 2).get(0x3a)!.res).toBe(-125);
    closeAll(listener, server, client);
  });

  opTest(["LINK_TIMEOUT"], "a link timeout cancels the read before it on an empty pipe", () => {
    const [rd, wr] = makePipe();
    const ts = new Timespec(5);
    queue(ring, (s) => { P.prepRead(s, rd, new Uint8Array(4), -1); s.flags = 1 << 2; /* IOSQE_IO_LINK */ }, 0x41);
    queue(ring, (s) => P.prepLinkTimeout(s, ts), 0x42);
    ring.submitAndWait(2);
    const m = reapByData(ring, 2);
    expect([m.get(0x41)!.res, m.get(0x42)!.res]).toEqual([-125, -62]);
    // IORING_LINK_TIMEOUT_UPDATE: a 60 s link timeout shortened to 1 ms through timeout_update
    const long = new Timespec(60_000);
    const short = new Timespec(1);
    queue(ring, (s) => { P.prepRead(s, rd, new Uint8Array(4), -1); s.flags = 1 << 2; }, 0x43);
    queue(ring, (s) => P.prepLinkTimeout(s, long), 0x44);
    ring.submit();
    queue(ring, (s) => P.prepTimeoutUpdate(s, short, 0x44, 1 << 4 /* IORING_LINK_TIMEOUT_UPDATE */), 0x45);
    ring.submitAndWait(3);
    const u = reapByData(ring, 3);
    expect([u.get(0x45)!.res, u.get(0x43)!.res, u.get(0x44)!.res]).toEqual([0, -125, -62]);
    closeAll(rd, wr);
  });

  kernelTest("every opcode but RECV_ZC was exercised above", () => {
    const missing = (Object.keys(IoringOp) as IoringOpName[]).filter((op) => !exercised.has(op));
    expect(missing).toEqual(["RECV_ZC"]);
  });
});
