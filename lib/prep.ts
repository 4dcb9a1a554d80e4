/**
 * Prep helpers: one thin function per io_uring operation, each the twin of a
 * liburing `io_uring_prep_*()` with liburing's argument order. Where liburing
 * takes `(buf, nbytes)`, the TS twin takes one ArrayBufferView whose
 * byteLength is nbytes. They only write bytes into an SQE, so they are tested
 * without a kernel (`test/sqe.test.ts`).
 *
 * Like liburing's, every helper resets the SQE's flags to 0: set IOSQE_*
 * flags (and user_data) after the prep call.
 *
 * ## Safety
 *
 * The kernel reads and writes the memory behind these addresses after
 * `submit()` returns. Whatever an operation points at — a data buffer, an
 * `IoVecs`, a timespec, a statx buffer, a sockaddr and its length word —
 * must stay referenced by your code until that operation's CQE has been
 * reaped (for multishot operations: the last CQE, the one without
 * IORING_CQE_F_MORE). The garbage collector frees any buffer it cannot reach
 * from JS, even when the kernel holds its address, and the kernel then writes
 * into whatever reuses the memory. Paths are the exception: the kernel copies
 * them while it consumes the SQE, and the SQE handle keeps a string's bytes
 * alive until then. The `Uring` Promise tier keeps everything alive for you.
 */
import {
  IORING_ACCEPT_MULTISHOT,
  IORING_ASYNC_CANCEL_FD,
  IORING_FILE_INDEX_ALLOC,
  IORING_OP_ASYNC_CANCEL,
  IORING_OP_FALLOCATE,
  IORING_OP_FTRUNCATE,
  IORING_OP_LINK_TIMEOUT,
  IORING_OP_LINKAT,
  IORING_OP_MKDIRAT,
  IORING_OP_RENAMEAT,
  IORING_OP_SYMLINKAT,
  IORING_OP_UNLINKAT,
  IORING_RECV_MULTISHOT,
  IORING_OP_ACCEPT,
  IORING_OP_CLOSE,
  IORING_OP_CONNECT,
  IORING_OP_FSYNC,
  IORING_OP_NOP,
  IORING_OP_OPENAT,
  IORING_OP_READ,
  IORING_OP_READ_FIXED,
  IORING_OP_READV,
  IORING_OP_RECV,
  IORING_OP_SEND,
  IORING_OP_SHUTDOWN,
  IORING_OP_SOCKET,
  IORING_OP_SPLICE,
  IORING_OP_STATX,
  IORING_OP_TIMEOUT,
  IORING_OP_WRITE,
  IORING_OP_WRITE_FIXED,
  IORING_OP_WRITEV,
} from "./constants.ts";
import { invalidArgument } from "./errors.ts";
import { addressOf, addressOfOwned } from "./memory.ts";
import type { IoVecs, Timespec } from "./structs.ts";
import { checkUserData, setU64, Sqe, SQW, type U64 } from "./sqe.ts";

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

/** Mirrors io_uring_prep_nop(). Linux ≥ 5.1. */
export function prepNop(sqe: Sqe): void {
  prepRw(IORING_OP_NOP, sqe, -1, 0, 0, 0);
}

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
  prepRw(IORING_OP_READV, sqe, fd, iovecs?.address, iovecs?.length, offset);
  sqe.u32[sqe.i + SQW.opFlags] = flags;
}

/**
 * Gather write. Mirrors io_uring_prep_writev() (`flags` = io_uring_prep_writev2's RWF_*). Linux ≥ 5.1.
 * **Safety**: keep `iovecs` referenced until the CQE.
 */
export function prepWritev(sqe: Sqe, fd: number, iovecs: IoVecs, offset: U64, flags = 0): void {
  prepRw(IORING_OP_WRITEV, sqe, fd, iovecs?.address, iovecs?.length, offset);
  sqe.u32[sqe.i + SQW.opFlags] = flags;
}

/**
 * Read into (part of) registered buffer `bufIndex`; `buf` must lie inside it.
 * Mirrors io_uring_prep_read_fixed(). Linux ≥ 5.1.
 */
export function prepReadFixed(sqe: Sqe, fd: number, buf: ArrayBufferView, offset: U64, bufIndex: number): void {
  prepRw(IORING_OP_READ_FIXED, sqe, fd, addressOf(buf), buf.byteLength, offset);
  sqe.u32[sqe.i + SQW.bufIndex] = bufIndex & 0xffff;
}

/** Write from (part of) registered buffer `bufIndex`. Mirrors io_uring_prep_write_fixed(). Linux ≥ 5.1. */
export function prepWriteFixed(sqe: Sqe, fd: number, buf: ArrayBufferView, offset: U64, bufIndex: number): void {
  prepRw(IORING_OP_WRITE_FIXED, sqe, fd, addressOf(buf), buf.byteLength, offset);
  sqe.u32[sqe.i + SQW.bufIndex] = bufIndex & 0xffff;
}

/** fsync(2), or fdatasync with IORING_FSYNC_DATASYNC. Mirrors io_uring_prep_fsync(). Linux ≥ 5.1. */
export function prepFsync(sqe: Sqe, fd: number, fsyncFlags = 0): void {
  prepRw(IORING_OP_FSYNC, sqe, fd, 0, 0, 0);
  sqe.u32[sqe.i + SQW.opFlags] = fsyncFlags;
}

/** openat(2); the CQE's res is the new fd. Mirrors io_uring_prep_openat(). Linux ≥ 5.6. */
export function prepOpenat(sqe: Sqe, dfd: number, path: string | Uint8Array, flags: number, mode = 0): void {
  const bytes = cString(path); // validated before the SQE is touched
  prepRw(IORING_OP_OPENAT, sqe, dfd, 0, mode, 0);
  setPath(sqe, bytes, SQW.addr, path);
  sqe.u32[sqe.i + SQW.opFlags] = flags;
}

/** Set the fixed-file slot a *_direct op installs into: liburing's __io_uring_set_target_fixed_file(). */
function setTargetFixedFile(sqe: Sqe, fileIndex: number): void {
  // 0 means "not direct", so slots are encoded as index + 1; IORING_FILE_INDEX_ALLOC (C's ~0U,
  // also reached as -1) stays as it is.
  const idx = fileIndex >>> 0;
  sqe.u32[sqe.i + SQW.fileIndex] = idx === IORING_FILE_INDEX_ALLOC ? idx : (idx + 1) >>> 0;
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

/** close(2). Mirrors io_uring_prep_close(). Linux ≥ 5.6. */
export function prepClose(sqe: Sqe, fd: number): void {
  prepRw(IORING_OP_CLOSE, sqe, fd, 0, 0, 0);
}

/** Close fixed-file slot `fileIndex`. Mirrors io_uring_prep_close_direct(). Linux ≥ 5.15. */
export function prepCloseDirect(sqe: Sqe, fileIndex: number): void {
  prepClose(sqe, 0);
  sqe.u32[sqe.i + SQW.fileIndex] = ((fileIndex >>> 0) + 1) >>> 0;
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
  sqe.u32[sqe.i + SQW.opFlags] = flags;
}

/**
 * Complete after `ts` elapses, or after `count` other completions (0: time only); res is
 * −ETIME when the time ran out. Mirrors io_uring_prep_timeout(). Linux ≥ 5.4.
 * **Safety**: keep `ts` referenced until the CQE.
 */
export function prepTimeout(sqe: Sqe, ts: Timespec, count = 0, flags = 0): void {
  prepRw(IORING_OP_TIMEOUT, sqe, -1, ts?.address, 1, count);
  sqe.u32[sqe.i + SQW.opFlags] = flags;
}

/** socket(2); res is the new fd. Mirrors io_uring_prep_socket(). Linux ≥ 5.19. */
export function prepSocket(sqe: Sqe, domain: number, type: number, protocol: number, flags = 0): void {
  prepRw(IORING_OP_SOCKET, sqe, domain, 0, protocol, type);
  sqe.u32[sqe.i + SQW.opFlags] = flags;
}

/**
 * accept4(2); res is the new fd. `addr`/`addrlen` (a Uint32Array holding the sockaddr size)
 * receive the peer address, or pass null for both. Mirrors io_uring_prep_accept(). Linux ≥ 5.5.
 * **Safety**: keep `addr` and `addrlen` referenced until the CQE.
 */
export function prepAccept(sqe: Sqe, fd: number, addr: ArrayBufferView | null, addrlen: Uint32Array | null, flags = 0): void {
  prepRw(IORING_OP_ACCEPT, sqe, fd, addr ? addressOf(addr) : 0, 0, addrlen ? addressOf(addrlen) : 0);
  sqe.u32[sqe.i + SQW.opFlags] = flags;
}

/**
 * connect(2) to the sockaddr in `addr` (its byteLength is addrlen). Mirrors io_uring_prep_connect(). Linux ≥ 5.5.
 * **Safety**: keep `addr` referenced until the CQE.
 */
export function prepConnect(sqe: Sqe, fd: number, addr: ArrayBufferView): void {
  prepRw(IORING_OP_CONNECT, sqe, fd, addressOf(addr), 0, addr.byteLength);
}

/** send(2). Mirrors io_uring_prep_send(). Linux ≥ 5.6. **Safety**: keep `buf` referenced until the CQE. */
export function prepSend(sqe: Sqe, sockfd: number, buf: ArrayBufferView, flags = 0): void {
  prepRw(IORING_OP_SEND, sqe, sockfd, addressOf(buf), buf.byteLength, 0);
  sqe.u32[sqe.i + SQW.opFlags] = flags;
}

/** recv(2). Mirrors io_uring_prep_recv(). Linux ≥ 5.6. **Safety**: keep `buf` referenced until the CQE. */
export function prepRecv(sqe: Sqe, sockfd: number, buf: ArrayBufferView, flags = 0): void {
  prepRw(IORING_OP_RECV, sqe, sockfd, addressOf(buf), buf.byteLength, 0);
  sqe.u32[sqe.i + SQW.opFlags] = flags;
}

/** shutdown(2). Mirrors io_uring_prep_shutdown(). Linux ≥ 5.11. */
export function prepShutdown(sqe: Sqe, fd: number, how: number): void {
  prepRw(IORING_OP_SHUTDOWN, sqe, fd, 0, how, 0);
}

/** Cancel the request whose user_data is `userData` (or, with IORING_ASYNC_CANCEL_ANY, every request;
 *  with IORING_ASYNC_CANCEL_ALL, all matches). res: 0, −ENOENT (not found), −EALREADY (running).
 *  Mirrors io_uring_prep_cancel64(). Linux ≥ 5.5 (flags ≥ 5.19). */
export function prepCancel64(sqe: Sqe, userData: U64, flags = 0): void {
  prepRw(IORING_OP_ASYNC_CANCEL, sqe, -1, 0, 0, 0);
  setU64(sqe.u32, sqe.i + SQW.addr, checkUserData(userData), "userData"); // as sqe.userData takes it: -1 is not all ones
  sqe.u32[sqe.i + SQW.opFlags] = flags;
}

/** Cancel requests on file descriptor `fd`. Mirrors io_uring_prep_cancel_fd(). Linux ≥ 5.19. */
export function prepCancelFd(sqe: Sqe, fd: number, flags = 0): void {
  prepRw(IORING_OP_ASYNC_CANCEL, sqe, fd, 0, 0, 0);
  sqe.u32[sqe.i + SQW.opFlags] = flags | IORING_ASYNC_CANCEL_FD;
}

/**
 * A timeout for the previous SQE of a link chain (give it IOSQE_IO_LINK): if `ts` runs out first,
 * that request is cancelled. Mirrors io_uring_prep_link_timeout(). Linux ≥ 5.5.
 * **Safety**: keep `ts` referenced until the CQE.
 */
export function prepLinkTimeout(sqe: Sqe, ts: Timespec, flags = 0): void {
  prepRw(IORING_OP_LINK_TIMEOUT, sqe, -1, ts?.address, 1, 0);
  sqe.u32[sqe.i + SQW.opFlags] = flags;
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
  sqe.u32[sqe.i + SQW.opFlags] = flags;
}

/** unlinkat(2) (AT_REMOVEDIR for a directory). Mirrors io_uring_prep_unlinkat(). Linux ≥ 5.11. */
export function prepUnlinkat(sqe: Sqe, dfd: number, path: string | Uint8Array, flags = 0): void {
  const bytes = cString(path);
  prepRw(IORING_OP_UNLINKAT, sqe, dfd, 0, 0, 0);
  setPath(sqe, bytes, SQW.addr, path);
  sqe.u32[sqe.i + SQW.opFlags] = flags;
}

/** mkdirat(2). Mirrors io_uring_prep_mkdirat(). Linux ≥ 5.15. */
export function prepMkdirat(sqe: Sqe, dfd: number, path: string | Uint8Array, mode: number): void {
  const bytes = cString(path);
  prepRw(IORING_OP_MKDIRAT, sqe, dfd, 0, mode, 0);
  setPath(sqe, bytes, SQW.addr, path);
}

/** symlinkat(2): a link at `linkpath` pointing to `target`. Mirrors io_uring_prep_symlinkat(). Linux ≥ 5.15. */
export function prepSymlinkat(sqe: Sqe, target: string | Uint8Array, newdirfd: number, linkpath: string | Uint8Array): void {
  const a = cString(target, "target");
  const b = cString(linkpath, "linkpath");
  prepRw(IORING_OP_SYMLINKAT, sqe, newdirfd, 0, 0, 0);
  setPaths(sqe, a, target, b, linkpath);
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

/** fallocate(2). Mirrors io_uring_prep_fallocate() (note liburing's order: mode, offset, len). Linux ≥ 5.6. */
export function prepFallocate(sqe: Sqe, fd: number, mode: number, offset: U64, len: U64): void {
  prepRw(IORING_OP_FALLOCATE, sqe, fd, 0, mode, offset);
  setU64(sqe.u32, sqe.i + SQW.addr, len, "len");
}

/** ftruncate(2). Mirrors io_uring_prep_ftruncate(). Linux ≥ 6.9. */
export function prepFtruncate(sqe: Sqe, fd: number, len: U64): void {
  prepRw(IORING_OP_FTRUNCATE, sqe, fd, 0, 0, len);
}

/**
 * accept4(2) again and again: one CQE per connection, each with IORING_CQE_F_MORE while the
 * request stays armed. Mirrors io_uring_prep_multishot_accept(). Linux ≥ 5.19.
 */
export function prepMultishotAccept(sqe: Sqe, fd: number, addr: ArrayBufferView | null, addrlen: Uint32Array | null, flags = 0): void {
  prepAccept(sqe, fd, addr, addrlen, flags);
  sqe.u32[sqe.i] |= IORING_ACCEPT_MULTISHOT << 16;
}

/**
 * recv(2) again and again: one CQE per message, each with IORING_CQE_F_MORE while armed. Pass
 * `buf` null and set IOSQE_BUFFER_SELECT + `bufGroup` to receive into a provided-buffer ring (the
 * buffer id comes in the CQE flags). Mirrors io_uring_prep_recv_multishot(). Linux ≥ 6.0.
 */
export function prepRecvMultishot(sqe: Sqe, sockfd: number, buf: ArrayBufferView | null, flags = 0): void {
  prepRw(IORING_OP_RECV, sqe, sockfd, buf ? addressOf(buf) : 0, buf ? buf.byteLength : 0, 0);
  sqe.u32[sqe.i + SQW.opFlags] = flags;
  sqe.u32[sqe.i] |= IORING_RECV_MULTISHOT << 16;
}

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
  sqe.u32[sqe.i + SQW.opFlags] = spliceFlags;
}
