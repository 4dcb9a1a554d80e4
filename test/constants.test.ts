// Kernel-free: pins lib/constants.ts against Linux 6.18 include/uapi/linux/io_uring.h.
import { describe, expect, test } from "bun:test";
import * as C from "../lib/constants.ts";
import {
  decodeFlags,
  IORING_CQE_F_NAMES,
  IORING_ENTER_FLAG_NAMES,
  IORING_SETUP_FLAG_NAMES,
  IoringOp,
  IOSQE_FLAG_NAMES,
  OPCODE_NAMES,
} from "../lib/constants.ts";

const exported = C as unknown as Record<string, unknown>;
/** IoringOp lookup widened to number, so expect() compares plain numbers. */
const opValue = (name: string): number => IoringOp[name as C.IoringOpName];

test("opcodes match the 6.18 enum io_uring_op", () => {
  expect(C.IORING_OP_NOP).toBe(0);
  expect(C.IORING_OP_READV).toBe(1);
  expect(C.IORING_OP_READ_FIXED).toBe(4);
  expect(C.IORING_OP_SENDMSG).toBe(9);
  expect(C.IORING_OP_TIMEOUT).toBe(11);
  expect(C.IORING_OP_ACCEPT).toBe(13);
  expect(C.IORING_OP_OPENAT).toBe(18);
  expect(C.IORING_OP_CLOSE).toBe(19);
  expect(C.IORING_OP_STATX).toBe(21);
  expect(C.IORING_OP_READ).toBe(22);
  expect(C.IORING_OP_WRITE).toBe(23);
  expect(C.IORING_OP_SPLICE).toBe(30);
  expect(C.IORING_OP_LINKAT).toBe(39);
  expect(C.IORING_OP_MSG_RING).toBe(40);
  expect(C.IORING_OP_URING_CMD).toBe(46);
  expect(C.IORING_OP_SEND_ZC).toBe(47);
  expect(C.IORING_OP_READ_MULTISHOT).toBe(49);
  expect(C.IORING_OP_FUTEX_WAITV).toBe(53);
  expect(C.IORING_OP_FTRUNCATE).toBe(55);
  expect(C.IORING_OP_RECV_ZC).toBe(58);
  expect(C.IORING_OP_EPOLL_WAIT).toBe(59);
  expect(C.IORING_OP_WRITEV_FIXED).toBe(61);
  expect(C.IORING_OP_PIPE).toBe(62);
  expect(C.IORING_OP_LAST).toBe(63);
  // 6.19+ opcodes must not be here.
  expect(exported.IORING_OP_NOP128).toBeUndefined();
  expect(exported.IORING_OP_URING_CMD128).toBeUndefined();
});

test("every IORING_OP_* export equals IoringOp[name], and they form 0..LAST-1", () => {
  const ops = Object.keys(exported).filter((k) => k.startsWith("IORING_OP_") && k !== "IORING_OP_LAST");
  expect(ops.length).toBe(63);
  for (const key of ops) {
    expect(opValue(key.slice("IORING_OP_".length))).toBe(exported[key] as number);
  }
  expect(Object.keys(IoringOp).length).toBe(ops.length);
  const values: number[] = Object.values(IoringOp).sort((a, b) => a - b);
  expect(values).toEqual(Array.from({ length: C.IORING_OP_LAST }, (_, i) => i));
});

test("OPCODE_NAMES is indexed by opcode", () => {
  expect(OPCODE_NAMES.length).toBe(63);
  expect(OPCODE_NAMES[0]).toBe("NOP");
  expect(OPCODE_NAMES[4]).toBe("READ_FIXED");
  expect(OPCODE_NAMES[18]).toBe("OPENAT");
  expect(OPCODE_NAMES[22]).toBe("READ");
  expect(OPCODE_NAMES[62]).toBe("PIPE");
  for (let op = 0; op < OPCODE_NAMES.length; op++) {
    expect(opValue(OPCODE_NAMES[op]!)).toBe(op);
  }
  expect(Object.isFrozen(OPCODE_NAMES)).toBe(true);
});

test("setup, enter and feature flags", () => {
  expect(C.IORING_SETUP_IOPOLL).toBe(1);
  expect(C.IORING_SETUP_SQPOLL).toBe(2);
  expect(C.IORING_SETUP_CQSIZE).toBe(8);
  expect(C.IORING_SETUP_SINGLE_ISSUER).toBe(1 << 12);
  expect(C.IORING_SETUP_DEFER_TASKRUN).toBe(1 << 13);
  expect(C.IORING_SETUP_NO_MMAP).toBe(1 << 14);
  expect(C.IORING_SETUP_REGISTERED_FD_ONLY).toBe(1 << 15);
  expect(C.IORING_SETUP_NO_SQARRAY).toBe(1 << 16);
  expect(C.IORING_SETUP_HYBRID_IOPOLL).toBe(1 << 17);
  expect(C.IORING_SETUP_CQE_MIXED).toBe(1 << 18);
  expect(exported.IORING_SETUP_SQE_MIXED).toBeUndefined(); // 6.19

  expect(C.IORING_ENTER_GETEVENTS).toBe(1);
  expect(C.IORING_ENTER_SQ_WAKEUP).toBe(2);
  expect(C.IORING_ENTER_SQ_WAIT).toBe(4);
  expect(C.IORING_ENTER_EXT_ARG).toBe(8);
  expect(C.IORING_ENTER_REGISTERED_RING).toBe(16);
  expect(C.IORING_ENTER_ABS_TIMER).toBe(32);
  expect(C.IORING_ENTER_EXT_ARG_REG).toBe(64);
  expect(C.IORING_ENTER_NO_IOWAIT).toBe(128);

  expect(C.IORING_FEAT_SINGLE_MMAP).toBe(1);
  expect(C.IORING_FEAT_NODROP).toBe(2);
  expect(C.IORING_FEAT_EXT_ARG).toBe(1 << 8);
  expect(C.IORING_FEAT_NO_IOWAIT).toBe(1 << 17);
});

test("sqe flags and their bit numbers", () => {
  expect(C.IOSQE_FIXED_FILE).toBe(1);
  expect(C.IOSQE_IO_DRAIN).toBe(2);
  expect(C.IOSQE_IO_LINK).toBe(4);
  expect(C.IOSQE_IO_HARDLINK).toBe(8);
  expect(C.IOSQE_ASYNC).toBe(16);
  expect(C.IOSQE_BUFFER_SELECT).toBe(32);
  expect(C.IOSQE_CQE_SKIP_SUCCESS).toBe(1 << 6);
  expect(C.IOSQE_CQE_SKIP_SUCCESS_BIT).toBe(6);
  expect(C.IORING_FILE_INDEX_ALLOC).toBe(0xffffffff);
});

test("cqe flags, ring flags and mmap offsets", () => {
  expect(C.IORING_CQE_F_BUFFER).toBe(1);
  expect(C.IORING_CQE_F_MORE).toBe(2);
  expect(C.IORING_CQE_F_SOCK_NONEMPTY).toBe(4);
  expect(C.IORING_CQE_F_NOTIF).toBe(8);
  expect(C.IORING_CQE_F_BUF_MORE).toBe(16);
  expect(C.IORING_CQE_F_SKIP).toBe(32);
  expect(C.IORING_CQE_F_32).toBe(1 << 15);
  expect(C.IORING_CQE_BUFFER_SHIFT).toBe(16);

  expect(C.IORING_SQ_NEED_WAKEUP).toBe(1);
  expect(C.IORING_SQ_CQ_OVERFLOW).toBe(2);
  expect(C.IORING_SQ_TASKRUN).toBe(4);
  expect(C.IORING_CQ_EVENTFD_DISABLED).toBe(1);

  expect(C.IORING_OFF_SQ_RING).toBe(0);
  expect(C.IORING_OFF_CQ_RING).toBe(0x8000000);
  expect(C.IORING_OFF_SQES).toBe(0x10000000);
  expect(C.IORING_OFF_PBUF_RING).toBe(2 ** 31);
  expect(C.IORING_OFF_PBUF_SHIFT).toBe(16);
  expect(C.IORING_OFF_MMAP_MASK).toBe(0xf8000000);
});

test("register opcodes", () => {
  expect(C.IORING_REGISTER_BUFFERS).toBe(0);
  expect(C.IORING_UNREGISTER_BUFFERS).toBe(1);
  expect(C.IORING_REGISTER_FILES).toBe(2);
  expect(C.IORING_REGISTER_EVENTFD).toBe(4);
  expect(C.IORING_REGISTER_PROBE).toBe(8);
  expect(C.IORING_REGISTER_RING_FDS).toBe(20);
  expect(C.IORING_REGISTER_PBUF_RING).toBe(22);
  expect(C.IORING_UNREGISTER_PBUF_RING).toBe(23);
  expect(C.IORING_REGISTER_NAPI).toBe(27);
  expect(C.IORING_REGISTER_MEM_REGION).toBe(34);
  expect(C.IORING_REGISTER_QUERY).toBe(35);
  expect(C.IORING_REGISTER_LAST).toBe(36);
  expect(C.IORING_REGISTER_USE_REGISTERED_RING).toBe(2 ** 31);
  expect(exported.IORING_REGISTER_ZCRX_REFILL).toBeUndefined(); // removed before 6.18 final
  expect(exported.IORING_REGISTER_ZCRX_CTRL).toBeUndefined(); // 6.19
  expect(C.IORING_REGISTER_FILES_SKIP).toBe(-2);
  expect(C.IORING_RESTRICTION_SQE_FLAGS_REQUIRED).toBe(3);
  expect(C.IORING_RESTRICTION_LAST).toBe(4);
});

test("per-op flags", () => {
  expect(C.IORING_FSYNC_DATASYNC).toBe(1);
  expect(C.IORING_TIMEOUT_ABS).toBe(1);
  expect(C.IORING_TIMEOUT_MULTISHOT).toBe(64);
  expect(C.IORING_TIMEOUT_CLOCK_MASK).toBe(12);
  expect(C.IORING_TIMEOUT_UPDATE_MASK).toBe(18);
  expect(C.IORING_LINK_TIMEOUT_UPDATE).toBe(16);
  expect(C.SPLICE_F_FD_IN_FIXED).toBe(2 ** 31);
  expect(C.IORING_POLL_ADD_MULTI).toBe(1);
  expect(C.IORING_POLL_ADD_LEVEL).toBe(8);
  expect(C.IORING_ASYNC_CANCEL_OP).toBe(32);
  expect(C.IORING_RECV_MULTISHOT).toBe(2);
  expect(C.IORING_RECVSEND_BUNDLE).toBe(16);
  expect(C.IORING_NOTIF_USAGE_ZC_COPIED).toBe(2 ** 31);
  expect(C.IORING_ACCEPT_POLL_FIRST).toBe(4);
  expect(C.IORING_MSG_SEND_FD).toBe(1);
  expect(C.IORING_MSG_RING_FLAGS_PASS).toBe(2);
  expect(C.IORING_NOP_CQE32).toBe(32);
  expect(C.IORING_URING_CMD_MASK).toBe(3);
  expect(C.IOU_PBUF_RING_MMAP).toBe(1);
  expect(C.IOU_PBUF_RING_INC).toBe(2);
  expect(C.IORING_REG_WAIT_TS).toBe(1);
  expect(C.SOCKET_URING_OP_SETSOCKOPT).toBe(3);
  expect(C.SOCKET_URING_OP_TX_TIMESTAMP).toBe(4);
  expect(C.IORING_CQE_F_TSTAMP_HW).toBe(1 << 16);
});

test("all numeric exports are non-negative integers, except the few signed ones", () => {
  const signed = new Set(["AT_FDCWD", "IORING_REGISTER_FILES_SKIP"]);
  for (const [k, v] of Object.entries(exported)) {
    if (typeof v !== "number") continue;
    expect(Number.isSafeInteger(v)).toBe(true);
    if (!signed.has(k)) expect(v).toBeGreaterThanOrEqual(0);
  }
});

test("syscall numbers and libc constants", () => {
  expect(C.__NR_io_uring_setup).toBe(425);
  expect(C.__NR_io_uring_enter).toBe(426);
  expect(C.__NR_io_uring_register).toBe(427);
  expect(C.AT_FDCWD).toBe(-100);
  expect(C.AT_REMOVEDIR).toBe(0x200);
  expect(C.O_CREAT).toBe(0o100);
  expect(C.O_CLOEXEC).toBe(0o2000000);
  if (process.arch === "arm64") {
    expect(C.O_DIRECTORY).toBe(0o40000);
    expect(C.O_TMPFILE).toBe(0o20040000);
  } else {
    expect(C.O_DIRECTORY).toBe(0o200000);
    expect(C.O_NOFOLLOW).toBe(0o400000);
    expect(C.O_TMPFILE).toBe(0o20200000);
  }
  expect(C.MAP_POPULATE).toBe(0x8000);
  expect(C.SOCK_CLOEXEC).toBe(0o2000000);
  expect(C.AF_INET6).toBe(10);
  expect(C.MSG_NOSIGNAL).toBe(0x4000);
});

test("decode tables cover their groups", () => {
  expect(IOSQE_FLAG_NAMES.length).toBe(7);
  expect(IORING_ENTER_FLAG_NAMES.length).toBe(8);
  expect(IORING_CQE_F_NAMES.length).toBe(7);
  expect(IORING_SETUP_FLAG_NAMES.length).toBe(19);
  for (const table of [IOSQE_FLAG_NAMES, IORING_ENTER_FLAG_NAMES, IORING_CQE_F_NAMES, IORING_SETUP_FLAG_NAMES]) {
    let seen = 0;
    for (const [mask] of table) {
      expect(mask & (mask - 1)).toBe(0); // one bit each
      expect(seen & mask).toBe(0); // no duplicates
      seen |= mask;
    }
  }
  // Each setup flag export is in the table under its short name.
  for (const [key, v] of Object.entries(exported)) {
    if (!key.startsWith("IORING_SETUP_") || key.endsWith("_NAMES")) continue;
    expect(IORING_SETUP_FLAG_NAMES).toContainEqual([v as number, key.slice("IORING_SETUP_".length)]);
  }
});

test("decodeFlags", () => {
  expect(decodeFlags(0, IOSQE_FLAG_NAMES)).toEqual([]);
  expect(decodeFlags(C.IOSQE_IO_LINK, IOSQE_FLAG_NAMES)).toEqual(["IO_LINK"]);
  expect(decodeFlags(C.IOSQE_FIXED_FILE | C.IOSQE_CQE_SKIP_SUCCESS, IOSQE_FLAG_NAMES)).toEqual([
    "FIXED_FILE",
    "CQE_SKIP_SUCCESS",
  ]);
  expect(decodeFlags(C.IOSQE_IO_LINK | 0x80, IOSQE_FLAG_NAMES)).toEqual(["IO_LINK", "0x80"]);
  expect(decodeFlags(C.IORING_ENTER_GETEVENTS | C.IORING_ENTER_EXT_ARG, IORING_ENTER_FLAG_NAMES)).toEqual([
    "GETEVENTS",
    "EXT_ARG",
  ]);
  expect(decodeFlags(C.IORING_CQE_F_MORE | C.IORING_CQE_F_32, IORING_CQE_F_NAMES)).toEqual(["MORE", "32"]);
  expect(decodeFlags(0xf0000000 | 1, IORING_SETUP_FLAG_NAMES)).toEqual(["IOPOLL", "0xf0000000"]);
  expect(decodeFlags(-1, IORING_ENTER_FLAG_NAMES)).toEqual([
    "GETEVENTS",
    "SQ_WAKEUP",
    "SQ_WAIT",
    "EXT_ARG",
    "REGISTERED_RING",
    "ABS_TIMER",
    "EXT_ARG_REG",
    "NO_IOWAIT",
    "0xffffff00",
  ]);
  expect(decodeFlags(C.SPLICE_F_FD_IN_FIXED, [[C.SPLICE_F_FD_IN_FIXED, "FD_IN_FIXED"]])).toEqual(["FD_IN_FIXED"]);
  expect(decodeFlags(0x80000000, [])).toEqual(["0x80000000"]);
});

describe("errno names", () => {
  test("errnoName/errnoNumber know node's errnos and the Linux-only ones node:os leaves out", async () => {
    const { errnoName, errnoNumber } = await import("../lib/errors.ts");
    expect(errnoName(-2)).toBe("ENOENT");
    expect(errnoName(11)).toBe("EAGAIN");
    expect(errnoName(-77)).toBe("EBADFD"); // io_uring: a ring created with R_DISABLED, not yet enabled
    expect(errnoName(-121)).toBe("EREMOTEIO");
    expect(errnoNumber("EBADFD")).toBe(77);
    expect(errnoNumber("ENOENT")).toBe(2);
    expect(errnoName(4095)).toBe("UNKNOWN_ERRNO_4095");
    // every number from 1 to 133 except the two aliases' holes (41, 58) has a name
    for (let n = 1; n <= 133; n++) if (n !== 41 && n !== 58) expect(errnoName(n)).not.toStartWith("UNKNOWN");
  });
});
