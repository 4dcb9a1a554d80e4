/**
 * No hole can hide: every opcode of Linux 6.18 (0 NOP … 62 PIPE) has a prep helper, every exported
 * prep* helper is in PREP_FOR_OPCODE, and each writes exactly the opcode it is listed under.
 * Kernel-free: the helpers write into a scratch SQE.
 */
import { describe, expect, test } from "bun:test";
import { IORING_OP_LAST, IORING_OP_PIPE, IoringOp, OPCODE_NAMES, type IoringOpName } from "../lib/constants.ts";
import * as prep from "../lib/prep.ts";
import { PREP_FOR_OPCODE, type PrepHelper } from "../lib/prep.ts";
import { Sqe } from "../lib/sqe.ts";
import { EpollEvents, FutexWaitv, IoVecs, MsgHdr, OpenHow, Timespec } from "../lib/structs.ts";

const buf = new Uint8Array(64);
const iov = new IoVecs([buf]);
const ts = new Timespec(1);
const msg = new MsgHdr(iov);
const how = new OpenHow(0);
const word = new Uint32Array(1);
const waitv = new FutexWaitv([{ word, val: 0 }]);
const fds = new Int32Array(2);
const sa = new Uint8Array(16);
const addrlen = Uint32Array.of(16);
const events = new EpollEvents(4);

/** Arguments (after the SQE) that make each helper write a plausible SQE. */
const ARGS: Record<string, unknown[]> = {
  prepNop: [],
  prepRead: [3, buf, 0],
  prepWrite: [3, buf, 0],
  prepReadv: [3, iov, 0],
  prepReadv2: [3, iov, 0, 0],
  prepWritev: [3, iov, 0],
  prepWritev2: [3, iov, 0, 0],
  prepReadFixed: [3, buf, 0, 0],
  prepWriteFixed: [3, buf, 0, 0],
  prepReadvFixed: [3, iov, 0, 0, 0],
  prepWritevFixed: [3, iov, 0, 0, 0],
  prepReadMultishot: [3, 0, 0, 1],
  prepFsync: [3],
  prepSyncFileRange: [3, 0, 0],
  prepFallocate: [3, 0, 0, 10],
  prepFadvise: [3, 0, 10, 0],
  prepFadvise64: [3, 0, 10, 0],
  prepMadvise: [buf, 64, 0],
  prepMadvise64: [buf, 64, 0],
  prepFtruncate: [3, 0],
  prepOpenat: [-100, "a", 0],
  prepOpen: ["a", 0],
  prepOpenatDirect: [-100, "a", 0, 0, 1],
  prepOpenDirect: ["a", 0, 0, 1],
  prepOpenat2: [-100, "a", how],
  prepOpenat2Direct: [-100, "a", how, 1],
  prepClose: [3],
  prepCloseDirect: [1],
  prepStatx: [-100, "a", 0, 0, new Uint8Array(256)],
  prepRenameat: [-100, "a", -100, "b"],
  prepRename: ["a", "b"],
  prepUnlinkat: [-100, "a"],
  prepUnlink: ["a"],
  prepMkdirat: [-100, "a", 0o755],
  prepMkdir: ["a", 0o755],
  prepSymlinkat: ["a", -100, "b"],
  prepSymlink: ["a", "b"],
  prepLinkat: [-100, "a", -100, "b"],
  prepLink: ["a", "b"],
  prepGetxattr: ["user.x", buf, "a"],
  prepSetxattr: ["user.x", buf, "a"],
  prepFgetxattr: [3, "user.x", buf],
  prepFsetxattr: [3, "user.x", buf],
  prepSplice: [3, -1, 4, -1, 10],
  prepTee: [3, 4, 10],
  prepPipe: [fds],
  prepPipeDirect: [fds, 0, 0],
  prepFilesUpdate: [fds, 0],
  prepFixedFdInstall: [0],
  prepSocket: [2, 1, 0],
  prepSocketDirect: [2, 1, 0, 0],
  prepSocketDirectAlloc: [2, 1, 0],
  prepBind: [3, sa],
  prepListen: [3, 16],
  prepAccept: [3, sa, addrlen],
  prepAcceptDirect: [3, null, null, 0, 0],
  prepMultishotAccept: [3, null, null],
  prepMultishotAcceptDirect: [3, null, null],
  prepConnect: [3, sa],
  prepShutdown: [3, 1],
  prepSend: [3, buf],
  prepSendto: [3, buf, 0, sa],
  prepSendBundle: [3, 0],
  prepRecv: [3, buf],
  prepRecvMultishot: [3, null],
  prepSendmsg: [3, msg],
  prepRecvmsg: [3, msg],
  prepRecvmsgMultishot: [3, msg],
  prepSendZc: [3, buf],
  prepSendZcFixed: [3, buf, 0, 0, 0],
  prepSendmsgZc: [3, msg],
  prepSendmsgZcFixed: [3, msg, 0, 0],
  prepRecvZc: [3, 0, 0],
  prepUringCmd: [0, 3],
  prepCmdSock: [0, 3, 0, 0, null],
  prepCmdDiscard: [3, 0, 4096],
  prepPollAdd: [3, 1],
  prepPollMultishot: [3, 1],
  prepPollRemove: [7],
  prepPollUpdate: [7, 8, 1, 0],
  prepEpollCtl: [3, 4, 1, events],
  prepEpollWait: [3, events, 4],
  prepTimeout: [ts],
  prepTimeoutRemove: [7],
  prepTimeoutUpdate: [ts, 7],
  prepLinkTimeout: [ts],
  prepCancel64: [7],
  prepCancel: [7],
  prepCancelFd: [3],
  prepProvideBuffers: [buf, 16, 4, 1, 0],
  prepRemoveBuffers: [4, 1],
  prepMsgRing: [3, 0, 7],
  prepMsgRingCqeFlags: [3, 0, 7, 0, 0],
  prepMsgRingFd: [3, 0, 1, 7],
  prepMsgRingFdAlloc: [3, 0, 7],
  prepWaitid: [1, 1, null, 4],
  prepFutexWait: [word, 0, 0xffffffff, 2],
  prepFutexWake: [word, 1, 0xffffffff, 2],
  prepFutexWaitv: [waitv],
};

/** Not ops: prepRw is the common body, prepSendSetAddr amends a send SQE (liburing's io_uring_prep_send_set_addr). */
const MODIFIERS = new Set(["prepRw", "prepSendSetAddr"]);

describe("every opcode has a prep helper", () => {
  test("PREP_FOR_OPCODE names every opcode 0 … 62 and nothing else", () => {
    expect(IORING_OP_LAST).toBe(IORING_OP_PIPE + 1);
    const names = Object.keys(PREP_FOR_OPCODE).sort();
    expect(names).toEqual(Object.keys(IoringOp).sort());
    for (let op = 0; op < IORING_OP_LAST; op++) {
      const name = OPCODE_NAMES[op] as IoringOpName;
      expect(name, `opcode ${op} has a name`).toBeString();
      expect(PREP_FOR_OPCODE[name].length, `IORING_OP_${name} (${op}) has a helper`).toBeGreaterThan(0);
    }
  });

  test("every exported prep* helper is listed under an opcode", () => {
    const listed = new Set<PrepHelper>(Object.values(PREP_FOR_OPCODE).flat());
    const exported = Object.entries(prep).filter(([k, v]) => /^prep[A-Z]/.test(k) && typeof v === "function" && !MODIFIERS.has(k));
    expect(exported.length).toBeGreaterThan(90);
    for (const [name, fn] of exported) expect(listed.has(fn as PrepHelper), `${name} is in PREP_FOR_OPCODE`).toBe(true);
  });

  for (const [name, helpers] of Object.entries(PREP_FOR_OPCODE)) {
    test(`IORING_OP_${name}: each helper writes opcode ${IoringOp[name as IoringOpName]}`, () => {
      for (const fn of helpers) {
        const args = ARGS[fn.name];
        expect(args, `${fn.name} has test arguments`).toBeDefined();
        const u32 = new Uint32Array(32).fill(0xdeadbeef);
        const sqe = new Sqe(u32, 0);
        (fn as (sqe: Sqe, ...a: unknown[]) => void)(sqe, ...args!);
        expect(sqe.opcode, fn.name).toBe(IoringOp[name as IoringOpName]);
        // prep clears what it does not set: no 0xdeadbeef is left in the 64 bytes except user_data
        for (let k = 0; k < 16; k++) if (k !== 8 && k !== 9) expect(u32[k], `${fn.name} word ${k}`).not.toBe(0xdeadbeef);
      }
    });
  }
});

describe("encodings of the newer helpers, field by field as liburing writes them", () => {
  const fresh = () => new Sqe(new Uint32Array(32), 0);

  test("recv_zc (no liburing twin; its tests' encoding): len, zcrx_ifq_idx in file_index, ioprio MULTISHOT", () => {
    const s = fresh();
    prep.prepRecvZc(s, 5, 4096, 3, 0x40);
    expect([s.fd, s.len, s.fileIndex, s.opFlags, s.ioprio, s.addr, s.off]).toEqual([5, 4096, 3, 0x40, 2, 0, 0]);
  });

  test("cmd_sock: cmd_op in off, level/optname in addr, optval in addr3, optlen in file_index", () => {
    const s = fresh();
    const optval = new Int32Array(1);
    prep.prepCmdSock(s, 2, 7, 1, 3, optval);
    expect([s.fd, s.u32[2], s.u32[3], s.u32[4], s.u32[5], s.fileIndex]).toEqual([7, 2, 0, 1, 3, 4]);
    expect(s.addr3).toBeGreaterThan(0);
  });

  test("waitid: fd = id, len = idtype, off = infop, waitid_flags, file_index = options", () => {
    const s = fresh();
    const info = new Uint8Array(128);
    prep.prepWaitid(s, 1, 4242, info, 4, 0);
    expect([s.fd, s.len, s.fileIndex, s.opFlags]).toEqual([4242, 1, 4, 0]);
    expect(s.off).toBeGreaterThan(0);
  });

  test("futex_wait/wake: fd = futex2 flags, addr = the word, off = val, addr3 = mask", () => {
    const s = fresh();
    const word = new Uint32Array(1);
    prep.prepFutexWake(s, word, 3, 0xffffffff, 0x82, 0);
    expect([s.fd, s.off, s.addr3, s.len, s.opFlags]).toEqual([0x82, 3, 0xffffffff, 0, 0]);
  });

  test("msg_ring_fd: addr = IORING_MSG_SEND_FD, addr3 = source, file_index = target + 1 (ALLOC stays ~0), off = data", () => {
    const s = fresh();
    prep.prepMsgRingFd(s, 9, 2, 5, 0xbeef);
    expect([s.fd, s.addr, s.addr3, s.fileIndex, s.off]).toEqual([9, 1, 2, 6, 0xbeef]);
    prep.prepMsgRingFdAlloc(s, 9, 2, 0xbeef);
    expect(s.fileIndex).toBe(0xffffffff);
  });

  test("poll_update: addr = old user_data, off = new, len = flags, poll32_events = mask", () => {
    const s = fresh();
    prep.prepPollUpdate(s, 0x11, 0x22, 1, 6);
    expect([s.fd, s.addr, s.off, s.len, s.opFlags]).toEqual([-1, 0x11, 0x22, 6, 1]);
  });

  test("timeout_update: addr = user_data, off = the timespec, timeout_flags |= IORING_TIMEOUT_UPDATE", () => {
    const s = fresh();
    prep.prepTimeoutUpdate(s, ts, 0x33, 0);
    expect([s.addr, s.off, s.opFlags]).toEqual([0x33, ts.address, 2]);
  });

  test("send_set_addr: addr2 = the sockaddr, addr_len (low u16 of file_index) = its size", () => {
    const s = fresh();
    prep.prepSendto(s, 3, buf, 0, sa);
    expect(s.fileIndex & 0xffff).toBe(16);
    expect(s.off).toBeGreaterThan(0);
  });

  test("provide_buffers: fd = nr, addr = pool, len = size, off = first bid, buf_group = bgid", () => {
    const s = fresh();
    prep.prepProvideBuffers(s, buf, 16, 4, 9, 100);
    expect([s.fd, s.len, s.off, s.bufGroup]).toEqual([4, 16, 100, 9]);
    expect(() => prep.prepProvideBuffers(s, buf, 16, 5, 9, 100)).toThrow(RangeError); // 80 > 64 bytes
  });

  test("read_multishot and fixed_fd_install set the one flag their op needs, as liburing does", () => {
    const s = fresh();
    prep.prepReadMultishot(s, 3, 0, 0, 7);
    expect([s.flags, s.bufGroup]).toEqual([1 << 5, 7]);
    prep.prepFixedFdInstall(s, 2);
    expect(s.flags).toBe(1 << 0);
  });
});
