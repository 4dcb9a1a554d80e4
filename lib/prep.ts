/**
 * Prep helpers: one thin function per io_uring operation, each the twin of a
 * liburing `io_uring_prep_*()` with liburing's argument order. Where liburing
 * takes `(buf, nbytes)`, the TS twin takes one ArrayBufferView whose
 * byteLength is nbytes. They only write bytes into an SQE, so they are tested
 * without a kernel (`test/sqe.test.ts`, `test/prep-table.test.ts`), and each
 * is run against the kernel in `test/ops.test.ts`.
 *
 * The helpers are grouped by family, in this order: the common body and
 * paths; read/write; sync and space; files and paths; xattrs; pipes and
 * splice; the fixed-file table; sockets; zero-copy sends; uring_cmd; poll and
 * epoll; timeouts; cancellation; provided buffers; messages between rings;
 * processes and futexes. `PREP_FOR_OPCODE` at the end maps every opcode the
 * 6.18 kernel knows (0 NOP … 62 PIPE) to the helpers that write it.
 *
 * Like liburing's, every helper resets the SQE's flags to 0 (except
 * prepReadMultishot and prepFixedFdInstall, which set the one flag their
 * operation requires, as liburing's do): set IOSQE_* flags (and user_data)
 * after the prep call.
 *
 * ## Safety
 *
 * The kernel reads and writes the memory behind these addresses after
 * `submit()` returns. Whatever an operation points at — a data buffer, an
 * `IoVecs`, a timespec, a statx buffer, a sockaddr and its length word, a
 * msghdr, an open_how, a futex word, a siginfo — must stay referenced by your
 * code until that operation's CQE has been reaped (for multishot operations:
 * the last CQE, the one without IORING_CQE_F_MORE; for zero-copy sends: the
 * notification CQE). The garbage collector frees any buffer it cannot reach
 * from JS, even when the kernel holds its address, and the kernel then writes
 * into whatever reuses the memory. Paths and xattr names are the exception:
 * the kernel copies them while it consumes the SQE, and the SQE handle keeps a
 * string's bytes alive until then. The `Uring` Promise tier keeps everything
 * alive for you.
 */
import {
  IORING_ACCEPT_MULTISHOT,
  IORING_ASYNC_CANCEL_FD,
  IORING_FILE_INDEX_ALLOC,
  IORING_MSG_RING_FLAGS_PASS,
  IORING_MSG_SEND_FD,
  IORING_POLL_ADD_MULTI,
  IORING_RECV_MULTISHOT,
  IORING_RECVSEND_BUNDLE,
  IORING_RECVSEND_FIXED_BUF,
  IORING_TIMEOUT_UPDATE,
  IOSQE_BUFFER_SELECT,
  IOSQE_FIXED_FILE,
  IORING_OP_ACCEPT,
  IORING_OP_ASYNC_CANCEL,
  IORING_OP_BIND,
  IORING_OP_CLOSE,
  IORING_OP_CONNECT,
  IORING_OP_EPOLL_CTL,
  IORING_OP_EPOLL_WAIT,
  IORING_OP_FADVISE,
  IORING_OP_FALLOCATE,
  IORING_OP_FGETXATTR,
  IORING_OP_FILES_UPDATE,
  IORING_OP_FIXED_FD_INSTALL,
  IORING_OP_FSETXATTR,
  IORING_OP_FSYNC,
  IORING_OP_FTRUNCATE,
  IORING_OP_FUTEX_WAIT,
  IORING_OP_FUTEX_WAITV,
  IORING_OP_FUTEX_WAKE,
  IORING_OP_GETXATTR,
  IORING_OP_LINK_TIMEOUT,
  IORING_OP_LINKAT,
  IORING_OP_LISTEN,
  IORING_OP_MADVISE,
  IORING_OP_MKDIRAT,
  IORING_OP_MSG_RING,
  IORING_OP_NOP,
  IORING_OP_OPENAT,
  IORING_OP_OPENAT2,
  IORING_OP_PIPE,
  IORING_OP_POLL_ADD,
  IORING_OP_POLL_REMOVE,
  IORING_OP_PROVIDE_BUFFERS,
  IORING_OP_READ,
  IORING_OP_READ_FIXED,
  IORING_OP_READ_MULTISHOT,
  IORING_OP_READV,
  IORING_OP_READV_FIXED,
  IORING_OP_RECV,
  IORING_OP_RECV_ZC,
  IORING_OP_RECVMSG,
  IORING_OP_REMOVE_BUFFERS,
  IORING_OP_RENAMEAT,
  IORING_OP_SEND,
  IORING_OP_SEND_ZC,
  IORING_OP_SENDMSG,
  IORING_OP_SENDMSG_ZC,
  IORING_OP_SETXATTR,
  IORING_OP_SHUTDOWN,
  IORING_OP_SOCKET,
  IORING_OP_SPLICE,
  IORING_OP_STATX,
  IORING_OP_SYMLINKAT,
  IORING_OP_SYNC_FILE_RANGE,
  IORING_OP_TEE,
  IORING_OP_TIMEOUT,
  IORING_OP_TIMEOUT_REMOVE,
  IORING_OP_UNLINKAT,
  IORING_OP_URING_CMD,
  IORING_OP_WAITID,
  IORING_OP_WRITE,
  IORING_OP_WRITE_FIXED,
  IORING_OP_WRITEV,
  IORING_OP_WRITEV_FIXED,
  AT_FDCWD,
  type IoringOpName,
} from "./constants.ts";
import { invalidArgument } from "./errors.ts";
import { addressOf, addressOfOwned, describe } from "./memory.ts";
import { EPOLL_EVENT_SIZE, FutexWaitv, IoVecs, MsgHdr, OpenHow, SIGINFO_SIZE, Timespec } from "./structs.ts";
import { checkUserData, setU64, Sqe, SQW, type U64 } from "./sqe.ts";

// ================================================================ the common body, paths

/**
 * The common body of every prep helper. Mirrors io_uring_prep_rw(): sets
 * opcode (flags and ioprio to 0), fd, addr, len, off, and zeroes the op-specific
 * fields; user_data is left as it is.
 */
export function prepRw(op: number, sqe: Sqe, fd: number, addr: number, len: number, offset: U64): void {
  // Cheap checks, so bad input is an error instead of a 0 in the SQE: an SQE handle of a live ring,
  // 32-bit integers for fd and len (NaN would become fd 0, stdin), integer addr/offset (setU64).
  if (!(sqe instanceof Sqe) || sqe.i + 16 > sqe.u32.length) throw badSqe(sqe);
  if ((fd | 0) !== fd) throw invalidArgument("fd", `Expected a 32-bit integer; got ${String(fd)}.`, typeof fd === "number" ? "range" : "type");
  if ((len | 0) !== len && len >>> 0 !== len) {
    throw invalidArgument("len", `Expected a 32-bit integer; got ${String(len)}.`, typeof len === "number" ? "range" : "type");
  }
  const u = sqe.u32;
  const i = sqe.i;
  // not fresh from the first word written on, so a throw below (a bad offset or addr) cannot
  // leave a half-written slot that a later prep would take for a fresh one
  const fresh = sqe.fresh;
  sqe.fresh = false;
  u[i] = op;
  u[i + SQW.fd] = fd;
  // the common small-number cases inline; setU64 for the rest (negative, ≥ 2^32, bigint)
  if (typeof offset === "number" && offset >= 0 && offset < 4294967296) {
    u[i + SQW.off] = offset;
    u[i + SQW.off + 1] = 0;
  } else setU64(u, i + SQW.off, offset, "offset");
  if (addr >= 0 && addr < 4294967296) {
    u[i + SQW.addr] = addr;
    u[i + SQW.addr + 1] = 0;
  } else if (addr === undefined) {
    throw invalidArgument("addr", "Got undefined: a Timespec, IoVecs or buffer argument is missing or of the wrong type.", "type");
  } else setU64(u, i + SQW.addr, addr, "addr");
  u[i + SQW.len] = len;
  // A fresh slot (see Sqe.fresh) holds zeros in every word below: they are already there
  // (liburing ≥ 2.6 splits the work the same way, between io_uring_initialize_sqe() in get_sqe
  // and a five-field prep_rw). Skipping them saves 7 of 14 stores per SQE. Any other slot
  // (prepped before, set by hand, unsafeGetSqe, a test view) gets them.
  if (fresh) return;
  u[i + SQW.opFlags] = 0;
  u[i + SQW.bufIndex] = 0;
  u[i + SQW.fileIndex] = 0;
  u[i + SQW.addr3] = 0;
  u[i + SQW.addr3 + 1] = 0;
  u[i + SQW.pad2] = 0;
  u[i + SQW.pad2 + 1] = 0;
}

/** The error for something that is not an SQE of a live ring (null, a plain object, an SQE of a closed ring). */
function badSqe(sqe: unknown): Error {
  if (sqe instanceof Sqe) {
    const err = new Error("bun-uring: this SQE belongs to a closed ring");
    (err as { code?: string }).code = "ERR_URING_CLOSED";
    return err;
  }
  return invalidArgument("sqe", `Expected an Sqe from ring.getSqe(); got ${sqe === null ? "null" : typeof sqe === "object" ? `an instance of ${sqe.constructor?.name ?? "Object"}` : typeof sqe}.`, "type");
}
const encoder = new TextEncoder();

/** A path as a NUL-terminated C string, validated. Strings are encoded as UTF-8. */
export function cString(path: string | Uint8Array, name = "path"): Uint8Array {
  if (typeof path === "string") {
    if (path.includes("\0")) throw invalidArgument(name, `Paths must not contain NUL bytes; got ${JSON.stringify(path)}.`);
    return encoder.encode(`${path}\0`); // owned: see setPath

  }
  if (path instanceof Uint8Array) {
    const nul = path.indexOf(0);
    if (path.length === 0 || nul !== path.length - 1) {
      throw invalidArgument(name, "A Uint8Array path must end with its only NUL byte (a C string).");
    }
    return path;
  }
  throw invalidArgument(name, `Expected a string or a NUL-terminated Uint8Array; got ${typeof path}.`, "type");
}
/** Put a path's C string in `addr`, and keep its bytes alive on the SQE handle until the kernel has read it. */
function setPath(sqe: Sqe, bytes: Uint8Array, index: number, from: string | Uint8Array): void {
  sqe.keep = bytes;
  setU64(sqe.u32, sqe.i + index, cStringAddress(bytes, from));
}
/**
 * The address of a C string made by cString(`from`): a string was encoded by us into an array
 * nobody else sees (no `.buffer` touch needed); a caller's Uint8Array gets the full addressOf().
 */
export function cStringAddress(bytes: Uint8Array, from: string | Uint8Array): number {
  if (!(bytes instanceof Uint8Array)) throw invalidArgument("bytes", "Expected the Uint8Array cString() returned.", "type");
  return typeof from === "string" ? addressOfOwned(bytes) : addressOf(bytes);
}
/** Two paths: `addr` (first) and `off` (second), both kept alive on the SQE handle. */
function setPaths(sqe: Sqe, first: Uint8Array, firstFrom: string | Uint8Array, second: Uint8Array, secondFrom: string | Uint8Array): void {
  sqe.keep = [first, second];
  setU64(sqe.u32, sqe.i + SQW.addr, cStringAddress(first, firstFrom));
  setU64(sqe.u32, sqe.i + SQW.off, cStringAddress(second, secondFrom));
}
/** Keep several C strings alive on the SQE handle until the kernel has read it. */
function keepAll(sqe: Sqe, ...bytes: Uint8Array[]): void {
  sqe.keep = bytes;
}

/** An address for a view the caller owns (touches `.buffer` first), or 0 for null. */
function addrOrNull(view: ArrayBufferView | null): number {
  return view === null || view === undefined ? 0 : addressOf(view); // not `view ?`: NaN, 0 and "" are no views
}

/**
 * A struct argument must be the library's class: a look-alike `{ address, length }` or another
 * struct (a Timespec where a msghdr goes) would hand the kernel memory of the wrong shape and size.
 */
function expectStruct(value: unknown, cls: abstract new (...args: never[]) => unknown, name: string): void {
  if (!(value instanceof cls)) throw invalidArgument(name, `Expected ${/^[AEIOU]/.test(cls.name) ? "an" : "a"} ${cls.name}; got ${describe(value)}.`, "type");
}

/**
 * A u32 field prepRw does not write (op flags, masks, a fixed-file slot, a cmd op): NaN, 1.5, 2^40
 * or "1" would otherwise land in the SQE as 0, 1, 0 or 1. Negative 32-bit values keep their bits.
 */
function u32Arg(v: number, name: string): number {
  if ((v | 0) !== v && v >>> 0 !== v) throw invalidArgument(name, `Expected a 32-bit integer; got ${String(v)}.`, typeof v === "number" ? "range" : "type");
  return v;
}

/**
 * A u16 field (buf_index, buf_group): an integer, then cast to 16 bits as C's `(__u16)` does
 * (test/sqe.test.ts pins that); `& 0xffff` alone made NaN, 1.5 and "1" 0, 1 and 1.
 */
function u16Arg(v: number, name: string): number {
  return u32Arg(v, name) & 0xffff;
}

/** A 32-bit fd for a field prepRw does not check (splice_fd_in, addr3, off): NaN or 1.5 would go in as 0 or 1. */
function checkFd(fd: number, name: string): void {
  if ((fd | 0) !== fd) throw invalidArgument(name, `Expected a 32-bit integer; got ${String(fd)}.`, typeof fd === "number" ? "range" : "type");
}

/** The bytes of one or more struct epoll_event: an EpollEvents (or `{ bytes }`) or a view, at least one event long. */
function epollView(ev: unknown, name: string): ArrayBufferView {
  const bytes = ev !== null && typeof ev === "object" && !ArrayBuffer.isView(ev) ? (ev as { bytes?: unknown }).bytes : ev;
  if (!ArrayBuffer.isView(bytes)) throw invalidArgument(name, `Expected an EpollEvents or a view of struct epoll_event; got ${describe(ev)}.`, "type");
  if (bytes.byteLength < EPOLL_EVENT_SIZE) {
    throw invalidArgument(name, `Needs room for one struct epoll_event (${EPOLL_EVENT_SIZE} bytes); got ${bytes.byteLength}.`, "range");
  }
  return bytes;
}

/** A futex word: a Uint32Array (or Int32Array, as Atomics.wait uses) with at least one element — the kernel reads 4 bytes. */
function futexAddress(futex: Uint32Array | Int32Array): number {
  if (!(futex instanceof Uint32Array || futex instanceof Int32Array) || futex.length === 0) {
    throw invalidArgument("futex", `Expected a non-empty Uint32Array or Int32Array (the 32-bit futex word); got ${describe(futex)}.`, "type");
  }
  return addressOf(futex);
}

/** Set bits in the SQE's ioprio (u16 at byte 2), where send/recv/accept keep their IORING_* flags. */
function orIoprio(sqe: Sqe, bits: number): void {
  sqe.fresh = false; // a word other than fd/user_data: no longer known to be 0
  sqe.u32[sqe.i] |= (bits & 0xffff) << 16;
}

/** Set the fixed-file slot a *_direct op installs into: liburing's __io_uring_set_target_fixed_file(). */
function setTargetFixedFile(sqe: Sqe, fileIndex: number, name = "fileIndex"): void {
  u32Arg(fileIndex, name);
  // 0 means "not direct", so slots are encoded as index + 1; IORING_FILE_INDEX_ALLOC (C's ~0U,
  // also reached as -1) stays as it is.
  const idx = fileIndex >>> 0;
  sqe.fresh = false;
  sqe.u32[sqe.i + SQW.fileIndex] = idx === IORING_FILE_INDEX_ALLOC ? idx : (idx + 1) >>> 0;
}

/** Mirrors io_uring_prep_nop(). Linux ≥ 5.1. */
export function prepNop(sqe: Sqe): void {
  // A fresh slot is all zeros but fd and user_data, and IORING_OP_NOP is 0: of prepRw()'s
  // fields only fd = -1 is left to write. Anything else (re-prepped, unsafeGetSqe, a test view) takes prepRw().
  // (fresh implies a pool handle of an open ring: close() clears it, so no bounds check here)
  // `fresh === true` only on an Sqe (a plain object passed by mistake has no such field and goes
  // to prepRw(), which names the error); the typeof guard keeps null/undefined there too.
  // The slot stays fresh: every word but fd and user_data is still zero (see Sqe.fresh).
  if (typeof sqe === "object" && sqe !== null && sqe.fresh === true) {
    sqe.u32[sqe.i + SQW.fd] = -1;
    return;
  }
  prepRw(IORING_OP_NOP, sqe, -1, 0, 0, 0);
}

// ================================================================ read / write

/**
 * Read into `buf` from `fd` at `offset` (−1: the file position). Mirrors io_uring_prep_read(). Linux ≥ 5.6.
 * **Safety**: keep `buf` referenced until the CQE.
 */
export function prepRead(sqe: Sqe, fd: number, buf: ArrayBufferView, offset: U64): void {
  prepRw(IORING_OP_READ, sqe, fd, addressOf(buf), buf.byteLength, offset);
}
/**
 * Write `buf` to `fd` at `offset` (−1: the file position). Mirrors io_uring_prep_write(). Linux ≥ 5.6.
 * **Safety**: keep `buf` referenced until the CQE.
 */
export function prepWrite(sqe: Sqe, fd: number, buf: ArrayBufferView, offset: U64): void {
  prepRw(IORING_OP_WRITE, sqe, fd, addressOf(buf), buf.byteLength, offset);
}
/**
 * Scatter read. Mirrors io_uring_prep_readv() (`flags` = io_uring_prep_readv2's RWF_*). Linux ≥ 5.1.
 * **Safety**: keep `iovecs` referenced until the CQE.
 */
export function prepReadv(sqe: Sqe, fd: number, iovecs: IoVecs, offset: U64, flags = 0): void {
  expectStruct(iovecs, IoVecs, "iovecs");
  prepRw(IORING_OP_READV, sqe, fd, iovecs.address, iovecs.length, offset);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}
/** Scatter read with RWF_* flags. Mirrors io_uring_prep_readv2(). Linux ≥ 5.6. **Safety**: keep `iovecs` referenced until the CQE. */
export function prepReadv2(sqe: Sqe, fd: number, iovecs: IoVecs, offset: U64, flags: number): void {
  prepReadv(sqe, fd, iovecs, offset, flags);
}

/**
 * Gather write. Mirrors io_uring_prep_writev() (`flags` = io_uring_prep_writev2's RWF_*). Linux ≥ 5.1.
 * **Safety**: keep `iovecs` referenced until the CQE.
 */
export function prepWritev(sqe: Sqe, fd: number, iovecs: IoVecs, offset: U64, flags = 0): void {
  expectStruct(iovecs, IoVecs, "iovecs");
  prepRw(IORING_OP_WRITEV, sqe, fd, iovecs.address, iovecs.length, offset);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}
/** Gather write with RWF_* flags. Mirrors io_uring_prep_writev2(). Linux ≥ 5.6. **Safety**: keep `iovecs` referenced until the CQE. */
export function prepWritev2(sqe: Sqe, fd: number, iovecs: IoVecs, offset: U64, flags: number): void {
  prepWritev(sqe, fd, iovecs, offset, flags);
}

/**
 * Read into (part of) registered buffer `bufIndex`; `buf` must lie inside it.
 * Mirrors io_uring_prep_read_fixed(). Linux ≥ 5.1.
 */
export function prepReadFixed(sqe: Sqe, fd: number, buf: ArrayBufferView, offset: U64, bufIndex: number): void {
  prepRw(IORING_OP_READ_FIXED, sqe, fd, addressOf(buf), buf.byteLength, offset);
  sqe.u32[sqe.i + SQW.bufIndex] = u16Arg(bufIndex, "bufIndex");
}
/** Write from (part of) registered buffer `bufIndex`. Mirrors io_uring_prep_write_fixed(). Linux ≥ 5.1. */
export function prepWriteFixed(sqe: Sqe, fd: number, buf: ArrayBufferView, offset: U64, bufIndex: number): void {
  prepRw(IORING_OP_WRITE_FIXED, sqe, fd, addressOf(buf), buf.byteLength, offset);
  sqe.u32[sqe.i + SQW.bufIndex] = u16Arg(bufIndex, "bufIndex");
}
/**
 * Scatter read into registered buffer `bufIndex`: every iovec must lie inside that buffer.
 * Mirrors io_uring_prep_readv_fixed(). Linux ≥ 6.15. **Safety**: keep `iovecs` referenced until the CQE.
 */
export function prepReadvFixed(sqe: Sqe, fd: number, iovecs: IoVecs, offset: U64, flags: number, bufIndex: number): void {
  expectStruct(iovecs, IoVecs, "iovecs");
  prepRw(IORING_OP_READV_FIXED, sqe, fd, iovecs.address, iovecs.length, offset);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
  sqe.u32[sqe.i + SQW.bufIndex] = u16Arg(bufIndex, "bufIndex");
}

/**
 * Gather write from registered buffer `bufIndex`. Mirrors io_uring_prep_writev_fixed(). Linux ≥ 6.15.
 * **Safety**: keep `iovecs` referenced until the CQE.
 */
export function prepWritevFixed(sqe: Sqe, fd: number, iovecs: IoVecs, offset: U64, flags: number, bufIndex: number): void {
  expectStruct(iovecs, IoVecs, "iovecs");
  prepRw(IORING_OP_WRITEV_FIXED, sqe, fd, iovecs.address, iovecs.length, offset);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
  sqe.u32[sqe.i + SQW.bufIndex] = u16Arg(bufIndex, "bufIndex");
}

/**
 * Read again and again (a pipe, a socket, an eventfd) into buffers picked from provided-buffer
 * group `bufGroup`: one CQE per read, IORING_CQE_F_MORE while armed, the buffer id in the flags.
 * `nbytes` 0 reads up to each buffer's size. Sets IOSQE_BUFFER_SELECT itself, as liburing does.
 * Mirrors io_uring_prep_read_multishot(). Linux ≥ 6.7.
 */
export function prepReadMultishot(sqe: Sqe, fd: number, nbytes: number, offset: U64, bufGroup: number): void {
  prepRw(IORING_OP_READ_MULTISHOT, sqe, fd, 0, nbytes, offset);
  sqe.u32[sqe.i + SQW.bufIndex] = u16Arg(bufGroup, "bufGroup");
  sqe.flags = IOSQE_BUFFER_SELECT;
}

// ================================================================ sync and space

/** fsync(2), or fdatasync with IORING_FSYNC_DATASYNC. Mirrors io_uring_prep_fsync(). Linux ≥ 5.1. */
export function prepFsync(sqe: Sqe, fd: number, fsyncFlags = 0): void {
  prepRw(IORING_OP_FSYNC, sqe, fd, 0, 0, 0);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(fsyncFlags, "fsyncFlags");
}
/** sync_file_range(2) of `len` bytes at `offset`. Mirrors io_uring_prep_sync_file_range(). Linux ≥ 5.2. */
export function prepSyncFileRange(sqe: Sqe, fd: number, len: number, offset: U64, flags = 0): void {
  prepRw(IORING_OP_SYNC_FILE_RANGE, sqe, fd, 0, len, offset);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}

/** fallocate(2). Mirrors io_uring_prep_fallocate() (note liburing's order: mode, offset, len). Linux ≥ 5.6. */
export function prepFallocate(sqe: Sqe, fd: number, mode: number, offset: U64, len: U64): void {
  prepRw(IORING_OP_FALLOCATE, sqe, fd, 0, mode, offset);
  setU64(sqe.u32, sqe.i + SQW.addr, len, "len");
}
/** posix_fadvise(2) over `len` (u32) bytes at `offset`. Mirrors io_uring_prep_fadvise(). Linux ≥ 5.6. */
export function prepFadvise(sqe: Sqe, fd: number, offset: U64, len: number, advice: number): void {
  prepRw(IORING_OP_FADVISE, sqe, fd, 0, len, offset);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(advice, "advice");
}

/** posix_fadvise(2) with a 64-bit length (in `addr`). Mirrors io_uring_prep_fadvise64(). Linux ≥ 6.7. */
export function prepFadvise64(sqe: Sqe, fd: number, offset: U64, len: U64, advice: number): void {
  prepRw(IORING_OP_FADVISE, sqe, fd, 0, 0, offset);
  setU64(sqe.u32, sqe.i + SQW.addr, len, "len");
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(advice, "advice");
}

/**
 * madvise's `addr`: as in C, a pointer — a number (e.g. `allocShared().address`: madvise wants page
 * alignment, which a typed array rarely has) or a view. A number must be a plausible address
 * (an integer ≥ 0): NaN, −1 or 1.5 would advise on memory nobody meant.
 */
function madviseAddress(addr: number | ArrayBufferView): number {
  if (typeof addr !== "number") return addressOf(addr);
  if (!Number.isSafeInteger(addr) || addr < 0) throw invalidArgument("addr", `Expected an address (an integer ≥ 0) or a view; got ${addr}.`, "range");
  return addr;
}

/**
 * madvise(2) over `length` bytes at `addr` (an address, page-aligned, or a view starting on a page).
 * **Safety**: a number `addr` is not checked against anything you own: MADV_DONTNEED there zeroes the pages.
 * Mirrors io_uring_prep_madvise(). Linux ≥ 5.6.
 */
export function prepMadvise(sqe: Sqe, addr: number | ArrayBufferView, length: number, advice: number): void {
  prepRw(IORING_OP_MADVISE, sqe, -1, madviseAddress(addr), length, 0);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(advice, "advice");
}

/** madvise(2) with a 64-bit length (in `off`). Mirrors io_uring_prep_madvise64(). Linux ≥ 6.7. */
export function prepMadvise64(sqe: Sqe, addr: number | ArrayBufferView, length: U64, advice: number): void {
  prepRw(IORING_OP_MADVISE, sqe, -1, madviseAddress(addr), 0, length);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(advice, "advice");
}

/** ftruncate(2). Mirrors io_uring_prep_ftruncate(). Linux ≥ 6.9. */
export function prepFtruncate(sqe: Sqe, fd: number, len: U64): void {
  prepRw(IORING_OP_FTRUNCATE, sqe, fd, 0, 0, len);
}

// ================================================================ files and paths

/** openat(2); the CQE's res is the new fd. Mirrors io_uring_prep_openat(). Linux ≥ 5.6. */
export function prepOpenat(sqe: Sqe, dfd: number, path: string | Uint8Array, flags: number, mode = 0): void {
  const bytes = cString(path); // validated before the SQE is touched
  prepRw(IORING_OP_OPENAT, sqe, dfd, 0, mode, 0);
  setPath(sqe, bytes, SQW.addr, path);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}
/** openat(2) relative to the working directory. Mirrors io_uring_prep_open(). Linux ≥ 5.6. */
export function prepOpen(sqe: Sqe, path: string | Uint8Array, flags: number, mode = 0): void {
  prepOpenat(sqe, AT_FDCWD, path, flags, mode);
}

/**
 * openat(2) into fixed-file slot `fileIndex` of the registered file table (IORING_FILE_INDEX_ALLOC:
 * any free slot, returned in res). Mirrors io_uring_prep_openat_direct(). Linux ≥ 5.15.
 */
export function prepOpenatDirect(
  sqe: Sqe,
  dfd: number,
  path: string | Uint8Array,
  flags: number,
  mode: number,
  fileIndex: number,
): void {
  prepOpenat(sqe, dfd, path, flags, mode);
  setTargetFixedFile(sqe, fileIndex);
}
/** openat(2) relative to the working directory, into fixed-file slot `fileIndex`. Mirrors io_uring_prep_open_direct(). Linux ≥ 5.15. */
export function prepOpenDirect(sqe: Sqe, path: string | Uint8Array, flags: number, mode: number, fileIndex: number): void {
  prepOpenatDirect(sqe, AT_FDCWD, path, flags, mode, fileIndex);
}

/**
 * openat2(2) with a `struct open_how` (flags, mode, RESOLVE_* bits); res is the new fd.
 * Mirrors io_uring_prep_openat2(). Linux ≥ 5.6. **Safety**: keep `how` referenced until the CQE.
 */
export function prepOpenat2(sqe: Sqe, dfd: number, path: string | Uint8Array, how: OpenHow): void {
  if (!(how instanceof OpenHow)) throw invalidArgument("how", "Expected an OpenHow.", "type");
  const bytes = cString(path);
  prepRw(IORING_OP_OPENAT2, sqe, dfd, 0, OpenHow.SIZE, how.address);
  setPath(sqe, bytes, SQW.addr, path);
}

/** openat2(2) into fixed-file slot `fileIndex` (or IORING_FILE_INDEX_ALLOC). Mirrors io_uring_prep_openat2_direct(). Linux ≥ 5.15. */
export function prepOpenat2Direct(sqe: Sqe, dfd: number, path: string | Uint8Array, how: OpenHow, fileIndex: number): void {
  prepOpenat2(sqe, dfd, path, how);
  setTargetFixedFile(sqe, fileIndex);
}

/** close(2). Mirrors io_uring_prep_close(). Linux ≥ 5.6. */
export function prepClose(sqe: Sqe, fd: number): void {
  prepRw(IORING_OP_CLOSE, sqe, fd, 0, 0, 0);
}
/** Close fixed-file slot `fileIndex`. Mirrors io_uring_prep_close_direct(). Linux ≥ 5.15. */
export function prepCloseDirect(sqe: Sqe, fileIndex: number): void {
  prepClose(sqe, 0);
  sqe.u32[sqe.i + SQW.fileIndex] = ((u32Arg(fileIndex, "fileIndex") >>> 0) + 1) >>> 0;
}
/**
 * statx(2) into `statxbuf` (≥ 256 bytes). Mirrors io_uring_prep_statx(). Linux ≥ 5.6.
 * **Safety**: keep `statxbuf` referenced until the CQE.
 */
export function prepStatx(
  sqe: Sqe,
  dfd: number,
  path: string | Uint8Array,
  flags: number,
  mask: number,
  statxbuf: ArrayBufferView,
): void {
  if (statxbuf.byteLength < 256) throw invalidArgument("statxbuf", `Needs ≥ 256 bytes; got ${statxbuf.byteLength}.`, "range");
  const bytes = cString(path);
  prepRw(IORING_OP_STATX, sqe, dfd, 0, mask, addressOf(statxbuf));
  setPath(sqe, bytes, SQW.addr, path);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}
/** renameat2(2). Mirrors io_uring_prep_renameat(). Linux ≥ 5.11. */
export function prepRenameat(
  sqe: Sqe,
  olddfd: number,
  oldpath: string | Uint8Array,
  newdfd: number,
  newpath: string | Uint8Array,
  flags = 0,
): void {
  prepTwoPaths(IORING_OP_RENAMEAT, sqe, olddfd, oldpath, newdfd, newpath, flags);
}
/** rename(2). Mirrors io_uring_prep_rename(). Linux ≥ 5.11. */
export function prepRename(sqe: Sqe, oldpath: string | Uint8Array, newpath: string | Uint8Array): void {
  prepRenameat(sqe, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

/** The shape renameat and linkat share: fd = olddfd, addr = oldpath, len = newdfd, off = newpath, op flags. */
function prepTwoPaths(
  op: number,
  sqe: Sqe,
  olddfd: number,
  oldpath: string | Uint8Array,
  newdfd: number,
  newpath: string | Uint8Array,
  flags: number,
): void {
  const a = cString(oldpath, "oldpath");
  const b = cString(newpath, "newpath");
  prepRw(op, sqe, olddfd, 0, newdfd, 0);
  setPaths(sqe, a, oldpath, b, newpath);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}
/** unlinkat(2) (AT_REMOVEDIR for a directory). Mirrors io_uring_prep_unlinkat(). Linux ≥ 5.11. */
export function prepUnlinkat(sqe: Sqe, dfd: number, path: string | Uint8Array, flags = 0): void {
  const bytes = cString(path);
  prepRw(IORING_OP_UNLINKAT, sqe, dfd, 0, 0, 0);
  setPath(sqe, bytes, SQW.addr, path);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}
/** unlink(2) (AT_REMOVEDIR: rmdir). Mirrors io_uring_prep_unlink(). Linux ≥ 5.11. */
export function prepUnlink(sqe: Sqe, path: string | Uint8Array, flags = 0): void {
  prepUnlinkat(sqe, AT_FDCWD, path, flags);
}

/** mkdirat(2). Mirrors io_uring_prep_mkdirat(). Linux ≥ 5.15. */
export function prepMkdirat(sqe: Sqe, dfd: number, path: string | Uint8Array, mode: number): void {
  const bytes = cString(path);
  prepRw(IORING_OP_MKDIRAT, sqe, dfd, 0, mode, 0);
  setPath(sqe, bytes, SQW.addr, path);
}
/** mkdir(2). Mirrors io_uring_prep_mkdir(). Linux ≥ 5.15. */
export function prepMkdir(sqe: Sqe, path: string | Uint8Array, mode: number): void {
  prepMkdirat(sqe, AT_FDCWD, path, mode);
}

/** symlinkat(2): a link at `linkpath` pointing to `target`. Mirrors io_uring_prep_symlinkat(). Linux ≥ 5.15. */
export function prepSymlinkat(sqe: Sqe, target: string | Uint8Array, newdirfd: number, linkpath: string | Uint8Array): void {
  const a = cString(target, "target");
  const b = cString(linkpath, "linkpath");
  prepRw(IORING_OP_SYMLINKAT, sqe, newdirfd, 0, 0, 0);
  setPaths(sqe, a, target, b, linkpath);
}
/** symlink(2). Mirrors io_uring_prep_symlink(). Linux ≥ 5.15. */
export function prepSymlink(sqe: Sqe, target: string | Uint8Array, linkpath: string | Uint8Array): void {
  prepSymlinkat(sqe, target, AT_FDCWD, linkpath);
}

/** linkat(2). Mirrors io_uring_prep_linkat(). Linux ≥ 5.15. */
export function prepLinkat(
  sqe: Sqe,
  olddfd: number,
  oldpath: string | Uint8Array,
  newdfd: number,
  newpath: string | Uint8Array,
  flags = 0,
): void {
  prepTwoPaths(IORING_OP_LINKAT, sqe, olddfd, oldpath, newdfd, newpath, flags);
}
/** link(2). Mirrors io_uring_prep_link(). Linux ≥ 5.15. */
export function prepLink(sqe: Sqe, oldpath: string | Uint8Array, newpath: string | Uint8Array, flags = 0): void {
  prepLinkat(sqe, AT_FDCWD, oldpath, AT_FDCWD, newpath, flags);
}

// ================================================================ extended attributes

/** The shape of the four xattr ops: addr = name, len = value size, off = value, addr3 = path, xattr_flags. */
function prepXattr(op: number, sqe: Sqe, fd: number, name: string | Uint8Array, value: ArrayBufferView, path: string | Uint8Array | null, flags: number): void {
  const n = cString(name, "name");
  const p = path === null ? null : cString(path);
  prepRw(op, sqe, fd, cStringAddress(n, name), value.byteLength, addressOf(value));
  if (p) {
    setU64(sqe.u32, sqe.i + SQW.addr3, cStringAddress(p, path!));
    keepAll(sqe, n, p);
  } else keepAll(sqe, n);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}

/**
 * getxattr(2): read attribute `name` of `path` into `value`; res is its size.
 * Mirrors io_uring_prep_getxattr(). Linux ≥ 5.19. **Safety**: keep `value` referenced until the CQE.
 */
export function prepGetxattr(sqe: Sqe, name: string | Uint8Array, value: ArrayBufferView, path: string | Uint8Array): void {
  prepXattr(IORING_OP_GETXATTR, sqe, 0, name, value, path, 0);
}

/**
 * setxattr(2): set attribute `name` of `path` to `value` (XATTR_CREATE 1 / XATTR_REPLACE 2 in `flags`).
 * Mirrors io_uring_prep_setxattr() (its `len` is value.byteLength). Linux ≥ 5.19.
 * **Safety**: keep `value` referenced until the CQE.
 */
export function prepSetxattr(sqe: Sqe, name: string | Uint8Array, value: ArrayBufferView, path: string | Uint8Array, flags = 0): void {
  prepXattr(IORING_OP_SETXATTR, sqe, 0, name, value, path, flags);
}

/** fgetxattr(2). Mirrors io_uring_prep_fgetxattr(). Linux ≥ 5.19. **Safety**: keep `value` referenced until the CQE. */
export function prepFgetxattr(sqe: Sqe, fd: number, name: string | Uint8Array, value: ArrayBufferView): void {
  prepXattr(IORING_OP_FGETXATTR, sqe, fd, name, value, null, 0);
}

/** fsetxattr(2). Mirrors io_uring_prep_fsetxattr(). Linux ≥ 5.19. **Safety**: keep `value` referenced until the CQE. */
export function prepFsetxattr(sqe: Sqe, fd: number, name: string | Uint8Array, value: ArrayBufferView, flags = 0): void {
  prepXattr(IORING_OP_FSETXATTR, sqe, fd, name, value, null, flags);
}

// ================================================================ pipes, splice, tee

/**
 * splice(2): move `nbytes` from `fdIn` (at `offIn`; −1 for a pipe or the file position) to `fdOut`
 * (at `offOut`) without copying through user memory — one of the two must be a pipe.
 * Mirrors io_uring_prep_splice(). Linux ≥ 5.7.
 */
export function prepSplice(sqe: Sqe, fdIn: number, offIn: U64, fdOut: number, offOut: U64, nbytes: number, spliceFlags = 0): void {
  if ((fdIn | 0) !== fdIn) throw invalidArgument("fdIn", `Expected a 32-bit integer; got ${String(fdIn)}.`, typeof fdIn === "number" ? "range" : "type");
  prepRw(IORING_OP_SPLICE, sqe, fdOut, 0, nbytes, offOut);
  setU64(sqe.u32, sqe.i + SQW.addr, offIn, "offIn"); // splice_off_in
  sqe.u32[sqe.i + SQW.fileIndex] = fdIn; // splice_fd_in
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(spliceFlags, "spliceFlags");
}
/**
 * tee(2): duplicate up to `nbytes` from pipe `fdIn` into pipe `fdOut` without consuming them.
 * Mirrors io_uring_prep_tee(). Linux ≥ 5.8.
 */
export function prepTee(sqe: Sqe, fdIn: number, fdOut: number, nbytes: number, spliceFlags = 0): void {
  checkFd(fdIn, "fdIn"); // splice_fd_in is not prepRw's fd: NaN would be fd 0
  prepRw(IORING_OP_TEE, sqe, fdOut, 0, nbytes, 0);
  sqe.u32[sqe.i + SQW.fileIndex] = fdIn; // splice_fd_in
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(spliceFlags, "spliceFlags");
}

/**
 * pipe2(2): the kernel writes [read end, write end] into `fds` (an Int32Array of ≥ 2).
 * Mirrors io_uring_prep_pipe(). Linux ≥ 6.16. **Safety**: keep `fds` referenced until the CQE.
 */
export function prepPipe(sqe: Sqe, fds: Int32Array, pipeFlags = 0): void {
  if (!(fds instanceof Int32Array) || fds.length < 2) throw invalidArgument("fds", `Expected an Int32Array of at least 2 elements; got ${describe(fds)}${fds instanceof Int32Array ? ` of ${fds.length}` : ""}.`, "type");
  prepRw(IORING_OP_PIPE, sqe, 0, addressOf(fds), 0, 0);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(pipeFlags, "pipeFlags");
}

/**
 * pipe2(2) into fixed-file slots `fileIndex` and `fileIndex + 1` (IORING_FILE_INDEX_ALLOC: any two;
 * `fds` receives the slots). Mirrors io_uring_prep_pipe_direct(). Linux ≥ 6.16.
 */
export function prepPipeDirect(sqe: Sqe, fds: Int32Array, pipeFlags: number, fileIndex: number): void {
  prepPipe(sqe, fds, pipeFlags);
  setTargetFixedFile(sqe, fileIndex);
}

// ================================================================ the fixed-file table

/**
 * Update fixed-file slots from `offset` with `fds` (-1 clears a slot; IORING_FILE_INDEX_ALLOC as
 * offset: any free slots, written back into `fds`). res: how many were updated.
 * Mirrors io_uring_prep_files_update(). Linux ≥ 5.6. **Safety**: keep `fds` referenced until the CQE.
 */
export function prepFilesUpdate(sqe: Sqe, fds: Int32Array, offset: number): void {
  if (!(fds instanceof Int32Array) || fds.length === 0) throw invalidArgument("fds", `Expected a non-empty Int32Array; got ${describe(fds)}.`, "type");
  // a slot number, or IORING_FILE_INDEX_ALLOC (~0U, also as -1): `>>> 0` alone made NaN slot 0
  if (!Number.isInteger(offset) || offset < -1 || offset > 0xffffffff) {
    throw invalidArgument("offset", `Expected a slot 0…2^32-2 or IORING_FILE_INDEX_ALLOC; got ${String(offset)}.`, typeof offset === "number" ? "range" : "type");
  }
  prepRw(IORING_OP_FILES_UPDATE, sqe, -1, addressOf(fds), fds.length, offset >>> 0);
}

/**
 * Install fixed-file slot `fd` as a regular file descriptor (res is the new fd); O_CLOEXEC unless
 * IORING_FIXED_FD_NO_CLOEXEC. Sets IOSQE_FIXED_FILE itself, as liburing does.
 * Mirrors io_uring_prep_fixed_fd_install(). Linux ≥ 6.8.
 */
export function prepFixedFdInstall(sqe: Sqe, fd: number, flags = 0): void {
  prepRw(IORING_OP_FIXED_FD_INSTALL, sqe, fd, 0, 0, 0);
  sqe.flags = IOSQE_FIXED_FILE;
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}

// ================================================================ sockets

/** socket(2); res is the new fd. Mirrors io_uring_prep_socket(). Linux ≥ 5.19. */
export function prepSocket(sqe: Sqe, domain: number, type: number, protocol: number, flags = 0): void {
  prepRw(IORING_OP_SOCKET, sqe, domain, 0, protocol, u32Arg(type, "type")); // in off: prepRw would take 1.5
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}
/** socket(2) into fixed-file slot `fileIndex` (or IORING_FILE_INDEX_ALLOC). Mirrors io_uring_prep_socket_direct(). Linux ≥ 5.19. */
export function prepSocketDirect(sqe: Sqe, domain: number, type: number, protocol: number, fileIndex: number, flags = 0): void {
  prepSocket(sqe, domain, type, protocol, flags);
  setTargetFixedFile(sqe, fileIndex);
}

/** socket(2) into any free fixed-file slot (res is the slot). Mirrors io_uring_prep_socket_direct_alloc(). Linux ≥ 5.19. */
export function prepSocketDirectAlloc(sqe: Sqe, domain: number, type: number, protocol: number, flags = 0): void {
  prepSocket(sqe, domain, type, protocol, flags);
  setTargetFixedFile(sqe, IORING_FILE_INDEX_ALLOC);
}

/**
 * bind(2) to the sockaddr in `addr` (its byteLength is addrlen). Mirrors io_uring_prep_bind(). Linux ≥ 6.11.
 * **Safety**: keep `addr` referenced until the CQE.
 */
export function prepBind(sqe: Sqe, fd: number, addr: ArrayBufferView): void {
  prepRw(IORING_OP_BIND, sqe, fd, addressOf(addr), 0, addr.byteLength);
}

/** listen(2). Mirrors io_uring_prep_listen(). Linux ≥ 6.11. */
export function prepListen(sqe: Sqe, fd: number, backlog: number): void {
  prepRw(IORING_OP_LISTEN, sqe, fd, 0, backlog, 0);
}

/**
 * accept4(2); res is the new fd. `addr`/`addrlen` (a Uint32Array holding the sockaddr size)
 * receive the peer address, or pass null for both. Mirrors io_uring_prep_accept(). Linux ≥ 5.5.
 * **Safety**: keep `addr` and `addrlen` referenced until the CQE.
 */
export function prepAccept(sqe: Sqe, fd: number, addr: ArrayBufferView | null, addrlen: Uint32Array | null, flags = 0): void {
  prepRw(IORING_OP_ACCEPT, sqe, fd, addrOrNull(addr), 0, addrOrNull(addrlen));
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}
/**
 * accept4(2) into fixed-file slot `fileIndex` (IORING_FILE_INDEX_ALLOC: any free slot, res is the slot).
 * Mirrors io_uring_prep_accept_direct(). Linux ≥ 5.19.
 */
export function prepAcceptDirect(
  sqe: Sqe,
  fd: number,
  addr: ArrayBufferView | null,
  addrlen: Uint32Array | null,
  flags: number,
  fileIndex: number,
): void {
  prepAccept(sqe, fd, addr, addrlen, flags);
  setTargetFixedFile(sqe, fileIndex);
}

/**
 * accept4(2) again and again: one CQE per connection, each with IORING_CQE_F_MORE while the
 * request stays armed. Mirrors io_uring_prep_multishot_accept(). Linux ≥ 5.19.
 */
export function prepMultishotAccept(sqe: Sqe, fd: number, addr: ArrayBufferView | null, addrlen: Uint32Array | null, flags = 0): void {
  prepAccept(sqe, fd, addr, addrlen, flags);
  sqe.u32[sqe.i] |= IORING_ACCEPT_MULTISHOT << 16;
}
/** Multishot accept, each connection into any free fixed-file slot. Mirrors io_uring_prep_multishot_accept_direct(). Linux ≥ 5.19. */
export function prepMultishotAcceptDirect(sqe: Sqe, fd: number, addr: ArrayBufferView | null, addrlen: Uint32Array | null, flags = 0): void {
  prepMultishotAccept(sqe, fd, addr, addrlen, flags);
  setTargetFixedFile(sqe, IORING_FILE_INDEX_ALLOC);
}

/**
 * connect(2) to the sockaddr in `addr` (its byteLength is addrlen). Mirrors io_uring_prep_connect(). Linux ≥ 5.5.
 * **Safety**: keep `addr` referenced until the CQE.
 */
export function prepConnect(sqe: Sqe, fd: number, addr: ArrayBufferView): void {
  prepRw(IORING_OP_CONNECT, sqe, fd, addressOf(addr), 0, addr.byteLength);
}
/** shutdown(2). Mirrors io_uring_prep_shutdown(). Linux ≥ 5.11. */
export function prepShutdown(sqe: Sqe, fd: number, how: number): void {
  prepRw(IORING_OP_SHUTDOWN, sqe, fd, 0, how, 0);
}
/** send(2). Mirrors io_uring_prep_send(). Linux ≥ 5.6. **Safety**: keep `buf` referenced until the CQE. */
export function prepSend(sqe: Sqe, sockfd: number, buf: ArrayBufferView, flags = 0): void {
  prepRw(IORING_OP_SEND, sqe, sockfd, addressOf(buf), buf.byteLength, 0);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}
/**
 * sendto(2): send to the sockaddr `addr` (a datagram socket). Mirrors io_uring_prep_sendto(). Linux ≥ 6.0.
 * **Safety**: keep `buf` and `addr` referenced until the CQE.
 */
export function prepSendto(sqe: Sqe, sockfd: number, buf: ArrayBufferView, flags: number, addr: ArrayBufferView): void {
  prepSend(sqe, sockfd, buf, flags);
  prepSendSetAddr(sqe, addr);
}

/**
 * Give a send (or send_zc) a destination address: addr2 = the sockaddr, addr_len = its size.
 * Mirrors io_uring_prep_send_set_addr(). Linux ≥ 6.0. **Safety**: keep `destAddr` referenced until the CQE.
 */
export function prepSendSetAddr(sqe: Sqe, destAddr: ArrayBufferView): void {
  // it amends an SQE without prepRw, so it makes prepRw's SQE check itself, before writing anything
  if (!(sqe instanceof Sqe) || sqe.i + 16 > sqe.u32.length) throw badSqe(sqe);
  const addr = addressOf(destAddr);
  if (destAddr.byteLength > 0xffff) throw invalidArgument("destAddr", `addr_len is 16 bits: at most 65535 bytes; got ${destAddr.byteLength}.`, "range");
  sqe.fresh = false; // it writes addr2 and addr_len: a later prepRw() may not skip them
  setU64(sqe.u32, sqe.i + SQW.off, addr);
  const j = sqe.i + SQW.fileIndex;
  sqe.u32[j] = (sqe.u32[j]! & 0xffff0000) | (destAddr.byteLength & 0xffff);
}

/**
 * Send up to `len` bytes from the provided buffers of a buffer ring, several buffers in one go:
 * set IOSQE_BUFFER_SELECT and `bufGroup` after this call. Mirrors io_uring_prep_send_bundle(). Linux ≥ 6.10.
 */
export function prepSendBundle(sqe: Sqe, sockfd: number, len: number, flags = 0): void {
  prepRw(IORING_OP_SEND, sqe, sockfd, 0, len, 0);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
  orIoprio(sqe, IORING_RECVSEND_BUNDLE);
}

/** recv(2). Mirrors io_uring_prep_recv(). Linux ≥ 5.6. **Safety**: keep `buf` referenced until the CQE. */
export function prepRecv(sqe: Sqe, sockfd: number, buf: ArrayBufferView, flags = 0): void {
  prepRw(IORING_OP_RECV, sqe, sockfd, addressOf(buf), buf.byteLength, 0);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}
/**
 * recv(2) again and again: one CQE per message, each with IORING_CQE_F_MORE while armed. Pass
 * `buf` null and set IOSQE_BUFFER_SELECT + `bufGroup` to receive into a provided-buffer ring (the
 * buffer id comes in the CQE flags). Mirrors io_uring_prep_recv_multishot(). Linux ≥ 6.0.
 */
export function prepRecvMultishot(sqe: Sqe, sockfd: number, buf: ArrayBufferView | null, flags = 0): void {
  prepRw(IORING_OP_RECV, sqe, sockfd, addrOrNull(buf), buf ? buf.byteLength : 0, 0);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
  sqe.u32[sqe.i] |= IORING_RECV_MULTISHOT << 16;
}
/** sendmsg(2). Mirrors io_uring_prep_sendmsg(). Linux ≥ 5.3. **Safety**: keep `msg` referenced until the CQE. */
export function prepSendmsg(sqe: Sqe, fd: number, msg: MsgHdr, flags = 0): void {
  expectStruct(msg, MsgHdr, "msg");
  prepRw(IORING_OP_SENDMSG, sqe, fd, msg.address, 1, 0);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}

/** recvmsg(2); after the CQE, `msg.namelen` and `msg.flags` hold what the kernel wrote. Mirrors io_uring_prep_recvmsg(). Linux ≥ 5.3. **Safety**: keep `msg` referenced until the CQE. */
export function prepRecvmsg(sqe: Sqe, fd: number, msg: MsgHdr, flags = 0): void {
  expectStruct(msg, MsgHdr, "msg");
  prepRw(IORING_OP_RECVMSG, sqe, fd, msg.address, 1, 0);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}

/**
 * recvmsg(2) again and again into provided buffers (set IOSQE_BUFFER_SELECT and `bufGroup`); each
 * buffer starts with a struct io_uring_recvmsg_out. `msg` gives only the name/control sizes.
 * Mirrors io_uring_prep_recvmsg_multishot(). Linux ≥ 6.0.
 */
export function prepRecvmsgMultishot(sqe: Sqe, fd: number, msg: MsgHdr, flags = 0): void {
  prepRecvmsg(sqe, fd, msg, flags);
  orIoprio(sqe, IORING_RECV_MULTISHOT);
}

// ================================================================ zero-copy networking

/**
 * Zero-copy send: two CQEs, the result (with IORING_CQE_F_MORE) and later a notification
 * (IORING_CQE_F_NOTIF) once the kernel no longer reads `buf`. `zcFlags`: IORING_RECVSEND_POLL_FIRST,
 * IORING_SEND_ZC_REPORT_USAGE. Mirrors io_uring_prep_send_zc(). Linux ≥ 6.0.
 * **Safety**: keep `buf` referenced until the notification CQE.
 */
export function prepSendZc(sqe: Sqe, sockfd: number, buf: ArrayBufferView, flags = 0, zcFlags = 0): void {
  prepRw(IORING_OP_SEND_ZC, sqe, sockfd, addressOf(buf), buf.byteLength, 0);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
  orIoprio(sqe, u32Arg(zcFlags, "zcFlags")); // ioprio is 16 bits: orIoprio keeps the low 16
}

/** Zero-copy send from registered buffer `bufIndex`. Mirrors io_uring_prep_send_zc_fixed(). Linux ≥ 6.0. */
export function prepSendZcFixed(sqe: Sqe, sockfd: number, buf: ArrayBufferView, flags: number, zcFlags: number, bufIndex: number): void {
  prepSendZc(sqe, sockfd, buf, flags, zcFlags);
  orIoprio(sqe, IORING_RECVSEND_FIXED_BUF);
  sqe.u32[sqe.i + SQW.bufIndex] = u16Arg(bufIndex, "bufIndex");
}

/** Zero-copy sendmsg(2), with the same notification CQE as prepSendZc. Mirrors io_uring_prep_sendmsg_zc(). Linux ≥ 6.1. */
export function prepSendmsgZc(sqe: Sqe, fd: number, msg: MsgHdr, flags = 0): void {
  prepSendmsg(sqe, fd, msg, flags);
  sqe.opcode = IORING_OP_SENDMSG_ZC;
}

/**
 * Zero-copy sendmsg(2) whose iovecs all lie in registered buffer `bufIndex`.
 * Mirrors io_uring_prep_sendmsg_zc_fixed(). Linux ≥ 6.15.
 */
export function prepSendmsgZcFixed(sqe: Sqe, fd: number, msg: MsgHdr, flags: number, bufIndex: number): void {
  prepSendmsgZc(sqe, fd, msg, flags);
  orIoprio(sqe, IORING_RECVSEND_FIXED_BUF);
  sqe.u32[sqe.i + SQW.bufIndex] = u16Arg(bufIndex, "bufIndex");
}

/**
 * Zero-copy receive (always multishot) through zcrx interface queue `ifqIdx`, registered with
 * IORING_REGISTER_ZCRX_IFQ. liburing has no prep helper for it (its tests fill the SQE by hand);
 * this writes what they write. Linux ≥ 6.15.
 *
 * Not exercised by the test suite: zcrx needs a NIC with header split and flow steering bound to
 * an RX queue, and a ring with CQE32 — no such device exists on a test machine.
 */
export function prepRecvZc(sqe: Sqe, fd: number, len: number, ifqIdx: number, msgFlags = 0): void {
  prepRw(IORING_OP_RECV_ZC, sqe, fd, 0, len, 0);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(msgFlags, "msgFlags");
  sqe.u32[sqe.i + SQW.fileIndex] = u32Arg(ifqIdx, "ifqIdx"); // zcrx_ifq_idx
  orIoprio(sqe, IORING_RECV_MULTISHOT);
}

// ================================================================ uring_cmd

/**
 * A driver command `cmdOp` on `fd` (NVMe passthrough, block discard, socket commands); the command
 * payload, if any, goes in the SQE's cmd area (bytes 48 on; 80 bytes more with IORING_SETUP_SQE128).
 * Mirrors io_uring_prep_uring_cmd(). Linux ≥ 5.19.
 */
export function prepUringCmd(sqe: Sqe, cmdOp: number, fd: number): void {
  prepRw(IORING_OP_URING_CMD, sqe, fd, 0, 0, 0);
  sqe.u32[sqe.i + SQW.off] = u32Arg(cmdOp, "cmdOp"); // cmd_op; __pad1 stays 0
}

/** BLOCK_URING_CMD_DISCARD: _IO(0x12, 0). */
export const BLOCK_URING_CMD_DISCARD = 0x1200;

/**
 * Discard `nbytes` at `offset` of a block device (BLOCK_URING_CMD_DISCARD).
 * Mirrors io_uring_prep_cmd_discard(). Linux ≥ 6.12.
 *
 * Exercised only by its refusal: the test suite has no block device it may discard (a file
 * answers −EOPNOTSUPP); on a device opened O_WRONLY it discards the range.
 *
 * liburing's io_uring_prep_uring_cmd128() has no twin here: it writes IORING_OP_URING_CMD128,
 * which Linux 6.18 does not have; on 6.18 a big command is IORING_OP_URING_CMD on a ring
 * created with `sqe128: true`.
 */
export function prepCmdDiscard(sqe: Sqe, fd: number, offset: U64, nbytes: U64): void {
  prepUringCmd(sqe, BLOCK_URING_CMD_DISCARD, fd);
  setU64(sqe.u32, sqe.i + SQW.addr, offset);
  setU64(sqe.u32, sqe.i + SQW.addr3, nbytes);
}

/**
 * A socket command (SOCKET_URING_OP_SIOCINQ / SIOCOUTQ / GETSOCKOPT / SETSOCKOPT) on socket `fd`:
 * level and optname in `addr`, optval in `addr3`, optlen (optval.byteLength) in `optlen`. res: the
 * queue size, or the option length for GETSOCKOPT. Mirrors io_uring_prep_cmd_sock(). Linux ≥ 6.7.
 * **Safety**: keep `optval` referenced until the CQE.
 */
export function prepCmdSock(sqe: Sqe, cmdOp: number, fd: number, level: number, optname: number, optval: ArrayBufferView | null): void {
  prepRw(IORING_OP_URING_CMD, sqe, fd, 0, 0, 0);
  sqe.u32[sqe.i + SQW.off] = u32Arg(cmdOp, "cmdOp");
  sqe.u32[sqe.i + SQW.addr] = u32Arg(level, "level");
  sqe.u32[sqe.i + SQW.addr + 1] = u32Arg(optname, "optname");
  setU64(sqe.u32, sqe.i + SQW.addr3, addrOrNull(optval));
  sqe.u32[sqe.i + SQW.fileIndex] = optval ? optval.byteLength : 0; // addrOrNull checked it
}

// ================================================================ poll and epoll

/** poll(2) for `pollMask` (POLLIN, POLLOUT, …) on `fd`, once; res is the events that fired. Mirrors io_uring_prep_poll_add(). Linux ≥ 5.1. */
export function prepPollAdd(sqe: Sqe, fd: number, pollMask: number): void {
  prepRw(IORING_OP_POLL_ADD, sqe, fd, 0, 0, 0);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(pollMask, "pollMask"); // poll32_events (little-endian: as is)
}

/** poll that stays armed: one CQE (with IORING_CQE_F_MORE) per readiness. Mirrors io_uring_prep_poll_multishot(). Linux ≥ 5.13. */
export function prepPollMultishot(sqe: Sqe, fd: number, pollMask: number): void {
  prepPollAdd(sqe, fd, pollMask);
  sqe.u32[sqe.i + SQW.len] = IORING_POLL_ADD_MULTI;
}

/** Remove the poll whose user_data is `userData`. Mirrors io_uring_prep_poll_remove(). Linux ≥ 5.1. */
export function prepPollRemove(sqe: Sqe, userData: U64): void {
  prepRw(IORING_OP_POLL_REMOVE, sqe, -1, 0, 0, 0);
  setU64(sqe.u32, sqe.i + SQW.addr, checkUserData(userData), "userData"); // as sqe.userData takes it: -1 is not all ones
}

/**
 * Change an armed poll's mask (IORING_POLL_UPDATE_EVENTS) and/or user_data (IORING_POLL_UPDATE_USER_DATA).
 * Mirrors io_uring_prep_poll_update(). Linux ≥ 5.13.
 */
export function prepPollUpdate(sqe: Sqe, oldUserData: U64, newUserData: U64, pollMask: number, flags: number): void {
  prepRw(IORING_OP_POLL_REMOVE, sqe, -1, 0, flags, checkUserData(newUserData)); // as sqe.userData takes it: -1 is not all ones
  setU64(sqe.u32, sqe.i + SQW.addr, checkUserData(oldUserData), "oldUserData");
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(pollMask, "pollMask");
}

/**
 * epoll_ctl(2): `op` (EPOLL_CTL_ADD/MOD/DEL) for `fd` on epoll instance `epfd`; `ev` holds one
 * struct epoll_event (null for DEL). Mirrors io_uring_prep_epoll_ctl(). Linux ≥ 5.6.
 * **Safety**: keep `ev` referenced until the CQE.
 */
export function prepEpollCtl(sqe: Sqe, epfd: number, fd: number, op: number, ev: { bytes: Uint8Array } | ArrayBufferView | null): void {
  checkFd(fd, "fd"); // it goes in `off`: `>>> 0` made NaN fd 0
  const view = ev === null ? null : epollView(ev, "ev");
  prepRw(IORING_OP_EPOLL_CTL, sqe, epfd, addrOrNull(view), op, fd >>> 0);
}

/**
 * epoll_wait(2) on `fd` into `events` (struct epoll_event[], `maxevents` of them); res is how many
 * fired. Mirrors io_uring_prep_epoll_wait(). Linux ≥ 6.15. **Safety**: keep `events` referenced until the CQE.
 */
export function prepEpollWait(sqe: Sqe, fd: number, events: { bytes: Uint8Array } | ArrayBufferView, maxevents: number, flags = 0): void {
  const view = epollView(events, "events");
  if (view.byteLength < maxevents * EPOLL_EVENT_SIZE) {
    throw invalidArgument("events", `Needs room for ${maxevents} epoll events (${maxevents * EPOLL_EVENT_SIZE} bytes); got ${view.byteLength}.`, "range");
  }
  prepRw(IORING_OP_EPOLL_WAIT, sqe, fd, addressOf(view), maxevents, 0);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}

// ================================================================ timeouts

/**
 * Complete after `ts` elapses, or after `count` other completions (0: time only); res is
 * −ETIME when the time ran out. Mirrors io_uring_prep_timeout(). Linux ≥ 5.4.
 * **Safety**: keep `ts` referenced until the CQE.
 */
export function prepTimeout(sqe: Sqe, ts: Timespec, count = 0, flags = 0): void {
  expectStruct(ts, Timespec, "ts");
  prepRw(IORING_OP_TIMEOUT, sqe, -1, ts.address, 1, u32Arg(count, "count")); // in off: prepRw would take 1.5
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}
/** Remove the timeout whose user_data is `userData` (res −ENOENT: not found, −EALREADY: firing). Mirrors io_uring_prep_timeout_remove(). Linux ≥ 5.5. */
export function prepTimeoutRemove(sqe: Sqe, userData: U64, flags = 0): void {
  prepRw(IORING_OP_TIMEOUT_REMOVE, sqe, -1, 0, 0, 0);
  setU64(sqe.u32, sqe.i + SQW.addr, checkUserData(userData), "userData"); // as sqe.userData takes it: -1 is not all ones
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}

/**
 * Re-arm the timeout whose user_data is `userData` with `ts` (IORING_LINK_TIMEOUT_UPDATE in `flags`
 * for a link timeout). Mirrors io_uring_prep_timeout_update(). Linux ≥ 5.11.
 * **Safety**: keep `ts` referenced until the CQE.
 */
export function prepTimeoutUpdate(sqe: Sqe, ts: Timespec, userData: U64, flags = 0): void {
  expectStruct(ts, Timespec, "ts");
  prepRw(IORING_OP_TIMEOUT_REMOVE, sqe, -1, 0, 0, ts.address);
  setU64(sqe.u32, sqe.i + SQW.addr, checkUserData(userData), "userData"); // as sqe.userData takes it: -1 is not all ones
  sqe.u32[sqe.i + SQW.opFlags] = (u32Arg(flags, "flags") | IORING_TIMEOUT_UPDATE) >>> 0;
}

/**
 * A timeout for the previous SQE of a link chain (give it IOSQE_IO_LINK): if `ts` runs out first,
 * that request is cancelled. Mirrors io_uring_prep_link_timeout(). Linux ≥ 5.5.
 * **Safety**: keep `ts` referenced until the CQE.
 */
export function prepLinkTimeout(sqe: Sqe, ts: Timespec, flags = 0): void {
  expectStruct(ts, Timespec, "ts");
  prepRw(IORING_OP_LINK_TIMEOUT, sqe, -1, ts.address, 1, 0);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}

// ================================================================ cancellation

/** Cancel the request whose user_data is `userData` (or, with IORING_ASYNC_CANCEL_ANY, every request;
 *  with IORING_ASYNC_CANCEL_ALL, all matches). res: 0, −ENOENT (not found), −EALREADY (running).
 *  Mirrors io_uring_prep_cancel64(). Linux ≥ 5.5 (flags ≥ 5.19). */
export function prepCancel64(sqe: Sqe, userData: U64, flags = 0): void {
  prepRw(IORING_OP_ASYNC_CANCEL, sqe, -1, 0, 0, 0);
  setU64(sqe.u32, sqe.i + SQW.addr, checkUserData(userData), "userData"); // as sqe.userData takes it: -1 is not all ones
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}
/** Cancel by user_data: in C it takes a pointer, here the same 64-bit value as prepCancel64. Mirrors io_uring_prep_cancel(). Linux ≥ 5.5. */
export function prepCancel(sqe: Sqe, userData: U64, flags = 0): void {
  prepCancel64(sqe, userData, flags);
}

/** Cancel requests on file descriptor `fd`. Mirrors io_uring_prep_cancel_fd(). Linux ≥ 5.19. */
export function prepCancelFd(sqe: Sqe, fd: number, flags = 0): void {
  prepRw(IORING_OP_ASYNC_CANCEL, sqe, fd, 0, 0, 0);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags") | IORING_ASYNC_CANCEL_FD;
}

// ================================================================ provided buffers (the classic kind)

/**
 * Hand the kernel `nr` buffers of `len` bytes, cut from `buf`, as group `bgid` with ids `bid`,
 * `bid + 1`, …; ops with IOSQE_BUFFER_SELECT pick from them. Mirrors io_uring_prep_provide_buffers().
 * Linux ≥ 5.7. **Safety**: keep `buf` referenced until the buffers are used or removed.
 */
export function prepProvideBuffers(sqe: Sqe, buf: ArrayBufferView, len: number, nr: number, bgid: number, bid: number): void {
  if (buf.byteLength < len * nr) throw invalidArgument("buf", `Needs ${len} × ${nr} bytes; got ${buf.byteLength}.`, "range");
  prepRw(IORING_OP_PROVIDE_BUFFERS, sqe, nr, addressOf(buf), len, u32Arg(bid, "bid")); // in off: prepRw would take 1.5; the kernel says E2BIG above 65535
  sqe.u32[sqe.i + SQW.bufIndex] = u16Arg(bgid, "bgid");
}

/** Take back up to `nr` unused buffers of group `bgid`; res is how many. Mirrors io_uring_prep_remove_buffers(). Linux ≥ 5.7. */
export function prepRemoveBuffers(sqe: Sqe, nr: number, bgid: number): void {
  prepRw(IORING_OP_REMOVE_BUFFERS, sqe, nr, 0, 0, 0);
  sqe.u32[sqe.i + SQW.bufIndex] = u16Arg(bgid, "bgid");
}

// ================================================================ messages between rings

/**
 * Post a CQE on the ring whose fd is `fd`: user_data `data`, res `len`. Mirrors io_uring_prep_msg_ring().
 * Linux ≥ 5.18.
 */
export function prepMsgRing(sqe: Sqe, fd: number, len: number, data: U64, flags = 0): void {
  prepRw(IORING_OP_MSG_RING, sqe, fd, 0, len, data);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}

/** Like prepMsgRing, with the target CQE's flags set to `cqeFlags`. Mirrors io_uring_prep_msg_ring_cqe_flags(). Linux ≥ 6.3. */
export function prepMsgRingCqeFlags(sqe: Sqe, fd: number, len: number, data: U64, flags: number, cqeFlags: number): void {
  prepRw(IORING_OP_MSG_RING, sqe, fd, 0, len, data);
  sqe.u32[sqe.i + SQW.opFlags] = (IORING_MSG_RING_FLAGS_PASS | u32Arg(flags, "flags")) >>> 0;
  sqe.u32[sqe.i + SQW.fileIndex] = u32Arg(cqeFlags, "cqeFlags");
}

/**
 * Send fixed file `sourceFd` of this ring into fixed-file slot `targetFd` of the ring `fd`
 * (IORING_FILE_INDEX_ALLOC: any free slot); that ring gets a CQE with user_data `data`.
 * Mirrors io_uring_prep_msg_ring_fd(). Linux ≥ 6.0.
 */
export function prepMsgRingFd(sqe: Sqe, fd: number, sourceFd: number, targetFd: number, data: U64, flags = 0): void {
  checkFd(sourceFd, "sourceFd"); // a fixed-file slot in addr3: setU64 alone took 1.5 and 2^40
  prepRw(IORING_OP_MSG_RING, sqe, fd, IORING_MSG_SEND_FD, 0, data);
  setU64(sqe.u32, sqe.i + SQW.addr3, sourceFd);
  setTargetFixedFile(sqe, targetFd, "targetFd");
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}

/** prepMsgRingFd into any free slot of the target ring. Mirrors io_uring_prep_msg_ring_fd_alloc(). Linux ≥ 6.0. */
export function prepMsgRingFdAlloc(sqe: Sqe, fd: number, sourceFd: number, data: U64, flags = 0): void {
  prepMsgRingFd(sqe, fd, sourceFd, IORING_FILE_INDEX_ALLOC, data, flags);
}

// ================================================================ processes and futexes

/**
 * waitid(2): wait for a child (`idtype` P_PID/P_ALL/…, `id`, `options` WEXITED/…), its siginfo_t
 * written to `infop` (≥ 128 bytes, or null). Mirrors io_uring_prep_waitid(). Linux ≥ 6.7.
 * **Safety**: keep `infop` referenced until the CQE.
 */
export function prepWaitid(sqe: Sqe, idtype: number, id: number, infop: ArrayBufferView | null, options: number, flags = 0): void {
  if (infop !== null && ArrayBuffer.isView(infop) && infop.byteLength < SIGINFO_SIZE) {
    throw invalidArgument("infop", `The kernel writes a siginfo_t of ${SIGINFO_SIZE} bytes; got ${infop.byteLength}.`, "range");
  }
  prepRw(IORING_OP_WAITID, sqe, id, 0, idtype, addrOrNull(infop));
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
  sqe.u32[sqe.i + SQW.fileIndex] = u32Arg(options, "options");
}

/**
 * Wait on the futex word `futex[0]` while it holds `val` (`mask` selects wakers; FUTEX_BITSET_MATCH_ANY
 * for all). `futexFlags`: FUTEX2_SIZE_U32 | FUTEX2_PRIVATE. Mirrors io_uring_prep_futex_wait(). Linux ≥ 6.7.
 * **Safety**: keep `futex` referenced until the CQE (a Uint32Array over a SharedArrayBuffer works across threads).
 */
export function prepFutexWait(sqe: Sqe, futex: Uint32Array | Int32Array, val: U64, mask: U64, futexFlags: number, flags = 0): void {
  prepRw(IORING_OP_FUTEX_WAIT, sqe, futexFlags, futexAddress(futex), 0, val);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
  setU64(sqe.u32, sqe.i + SQW.addr3, mask);
}

/** Wake up to `val` waiters on the futex word `futex[0]`; res is how many woke. Mirrors io_uring_prep_futex_wake(). Linux ≥ 6.7. */
export function prepFutexWake(sqe: Sqe, futex: Uint32Array | Int32Array, val: U64, mask: U64, futexFlags: number, flags = 0): void {
  prepRw(IORING_OP_FUTEX_WAKE, sqe, futexFlags, futexAddress(futex), 0, val);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
  setU64(sqe.u32, sqe.i + SQW.addr3, mask);
}

/**
 * Wait on several futexes at once; res is the index of the one that woke. Mirrors io_uring_prep_futex_waitv().
 * Linux ≥ 6.7. **Safety**: keep `futexv` referenced until the CQE.
 */
export function prepFutexWaitv(sqe: Sqe, futexv: FutexWaitv, flags = 0): void {
  expectStruct(futexv, FutexWaitv, "futexv");
  prepRw(IORING_OP_FUTEX_WAITV, sqe, 0, futexv.address, futexv.length, 0);
  sqe.u32[sqe.i + SQW.opFlags] = u32Arg(flags, "flags");
}

// ================================================================ every opcode, and its helpers

/** A prep helper: writes one SQE. */
export type PrepHelper = (sqe: Sqe, ...args: never[]) => void;

/**
 * Every opcode of Linux 6.18 (0 NOP … 62 PIPE) and the helpers that write it — the kernel-free test
 * `test/prep-table.test.ts` fails if an opcode has none, or if a helper writes another opcode, so
 * no hole in the raw tier can hide.
 */
export const PREP_FOR_OPCODE: Readonly<Record<IoringOpName, readonly PrepHelper[]>> = Object.freeze({
  NOP: [prepNop],
  READV: [prepReadv, prepReadv2],
  WRITEV: [prepWritev, prepWritev2],
  FSYNC: [prepFsync],
  READ_FIXED: [prepReadFixed],
  WRITE_FIXED: [prepWriteFixed],
  POLL_ADD: [prepPollAdd, prepPollMultishot],
  POLL_REMOVE: [prepPollRemove, prepPollUpdate],
  SYNC_FILE_RANGE: [prepSyncFileRange],
  SENDMSG: [prepSendmsg],
  RECVMSG: [prepRecvmsg, prepRecvmsgMultishot],
  TIMEOUT: [prepTimeout],
  TIMEOUT_REMOVE: [prepTimeoutRemove, prepTimeoutUpdate],
  ACCEPT: [prepAccept, prepAcceptDirect, prepMultishotAccept, prepMultishotAcceptDirect],
  ASYNC_CANCEL: [prepCancel64, prepCancel, prepCancelFd],
  LINK_TIMEOUT: [prepLinkTimeout],
  CONNECT: [prepConnect],
  FALLOCATE: [prepFallocate],
  OPENAT: [prepOpenat, prepOpen, prepOpenatDirect, prepOpenDirect],
  CLOSE: [prepClose, prepCloseDirect],
  FILES_UPDATE: [prepFilesUpdate],
  STATX: [prepStatx],
  READ: [prepRead],
  WRITE: [prepWrite],
  FADVISE: [prepFadvise, prepFadvise64],
  MADVISE: [prepMadvise, prepMadvise64],
  SEND: [prepSend, prepSendto, prepSendBundle],
  RECV: [prepRecv, prepRecvMultishot],
  OPENAT2: [prepOpenat2, prepOpenat2Direct],
  EPOLL_CTL: [prepEpollCtl],
  SPLICE: [prepSplice],
  PROVIDE_BUFFERS: [prepProvideBuffers],
  REMOVE_BUFFERS: [prepRemoveBuffers],
  TEE: [prepTee],
  SHUTDOWN: [prepShutdown],
  RENAMEAT: [prepRenameat, prepRename],
  UNLINKAT: [prepUnlinkat, prepUnlink],
  MKDIRAT: [prepMkdirat, prepMkdir],
  SYMLINKAT: [prepSymlinkat, prepSymlink],
  LINKAT: [prepLinkat, prepLink],
  MSG_RING: [prepMsgRing, prepMsgRingCqeFlags, prepMsgRingFd, prepMsgRingFdAlloc],
  FSETXATTR: [prepFsetxattr],
  SETXATTR: [prepSetxattr],
  FGETXATTR: [prepFgetxattr],
  GETXATTR: [prepGetxattr],
  SOCKET: [prepSocket, prepSocketDirect, prepSocketDirectAlloc],
  URING_CMD: [prepUringCmd, prepCmdSock, prepCmdDiscard],
  SEND_ZC: [prepSendZc, prepSendZcFixed],
  SENDMSG_ZC: [prepSendmsgZc, prepSendmsgZcFixed],
  READ_MULTISHOT: [prepReadMultishot],
  WAITID: [prepWaitid],
  FUTEX_WAIT: [prepFutexWait],
  FUTEX_WAKE: [prepFutexWake],
  FUTEX_WAITV: [prepFutexWaitv],
  FIXED_FD_INSTALL: [prepFixedFdInstall],
  FTRUNCATE: [prepFtruncate],
  BIND: [prepBind],
  LISTEN: [prepListen],
  RECV_ZC: [prepRecvZc],
  EPOLL_WAIT: [prepEpollWait],
  READV_FIXED: [prepReadvFixed],
  WRITEV_FIXED: [prepWritevFixed],
  PIPE: [prepPipe, prepPipeDirect],
});
