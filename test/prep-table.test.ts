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
  prepRecvZc: [3, 0, 0],
  prepUringCmd: [0, 3],
  prepCmdSock: [0, 3, 0, 0, null],
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
