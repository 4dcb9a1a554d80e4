/**
 * Submission and completion queue entries as seen from JS: thin handles over
 * one slot of the SQE array / CQ ring, read and written through `Uint32Array`
 * views (64-bit fields as two u32 halves; a BigInt view is 20–30× slower).
 *
 * Kernel-free: an `Sqe` can sit on any `Uint32Array`, which is how
 * `test/sqe.test.ts` checks the encoding of every prep helper byte by byte.
 */
import { invalidArgument } from "./errors.ts";
import { CQE, SQE, w } from "./layout.ts";

const TWO32 = 4294967296;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Word indexes inside one SQE. */
export const SQW = {
  head: w(SQE.opcode), // opcode | flags << 8 | ioprio << 16
  fd: w(SQE.fd),
  off: w(SQE.off),
  addr: w(SQE.addr),
  len: w(SQE.len),
  opFlags: w(SQE.op_flags),
  userData: w(SQE.user_data),
  bufIndex: w(SQE.buf_index), // buf_index | personality << 16
  fileIndex: w(SQE.file_index),
  addr3: w(SQE.addr3),
  pad2: w(SQE.pad2),
} as const;

/** Word indexes inside one CQE. */
export const CQW = { userData: w(CQE.user_data), res: w(CQE.res), flags: w(CQE.flags) } as const;

/** A 64-bit value the caller may give as a number or a bigint. */
export type U64 = number | bigint;

/**
 * Write a u64 as two u32 halves. Numbers are taken modulo 2^64, so -1 is
 * 0xffff_ffff_ffff_ffff (io_uring's "current file position" offset).
 * @throws {RangeError} a number that is not a safe integer (NaN, ±Infinity, 2^64, 1.5 beyond 2^32).
 * @throws {TypeError} neither a number nor a bigint. `name` goes in the message.
 */
export function setU64(u32: Uint32Array, index: number, value: U64, name = "value"): void {
  if (typeof value === "number") {
    if (value >= 0 && value < TWO32) {
      // the common case (addresses < 4 GiB are rare, but offsets, lengths and ids are small)
      u32[index] = value;
      u32[index + 1] = 0;
    } else {
      // NaN and 2^64 would otherwise become 0: an offset, address or length silently wrong
      if (!Number.isSafeInteger(value)) throw invalidArgument(name, `Expected an integer (or a bigint); got ${value}.`, "range");
      u32[index] = value >>> 0;
      u32[index + 1] = Math.floor(value / TWO32) >>> 0;
    }
  } else if (typeof value === "bigint") {
    u32[index] = Number(value & 0xffffffffn);
    u32[index + 1] = Number((value >> 32n) & 0xffffffffn);
  } else {
    throw invalidArgument(name, `Expected a number or bigint; got ${value === null ? "null" : typeof value}.`, "type");
  }
}

/** Read a u64 as a number (exact up to 2^53 − 1). */
export function getU64(u32: Uint32Array, index: number): number {
  return u32[index]! + u32[index + 1]! * TWO32;
}

/** Read a u64 as a bigint (always exact). */
export function getU64Big(u32: Uint32Array, index: number): bigint {
  return BigInt(u32[index]!) | (BigInt(u32[index + 1]!) << 32n);
}

/** A handle's slot must lie inside its view (handles are made by the ring; this keeps a hand-made one honest). */
function checkSlot(u32: Uint32Array, wordIndex: number, words: number): void {
  if (!(u32 instanceof Uint32Array)) throw invalidArgument("u32", "Expected a Uint32Array over ring memory.", "type");
  if (!Number.isInteger(wordIndex) || wordIndex < 0 || wordIndex + words > u32.length) {
    throw invalidArgument("wordIndex", `Expected an integer from 0 to ${u32.length - words}; got ${String(wordIndex)}.`, "range");
  }
}

/** Validate a user_data value: a number 0 … 2^53−1 or a bigint 0 … 2^64−1. */
export function checkUserData(value: unknown): U64 {
  if (typeof value === "number") {
    if (value >= 0 && value <= MAX_SAFE && Number.isInteger(value)) return value;
    throw invalidArgument("userData", `Expected an integer from 0 to 2^53-1 (or a bigint); got ${value}.`, "range");
  }
  if (typeof value === "bigint") {
    if (value >= 0n && value <= 0xffffffffffffffffn) return value;
    throw invalidArgument("userData", `Expected a bigint from 0 to 2^64-1; got ${value}.`, "range");
  }
  throw invalidArgument("userData", `Expected a number or bigint; got ${typeof value}.`, "type");
}

/**
 * One submission queue entry: a handle on a 64-byte slot of the SQE array.
 * Mirrors `struct io_uring_sqe`. Handles are pooled per slot: the one
 * `getSqe()` returns is valid until you submit it.
 */
export class Sqe {
  /** @internal the SQE array (or any view, for kernel-free tests) */
  u32: Uint32Array;
  /** @internal word index of this SQE's first byte in `u32` */
  readonly i: number;
  /** @internal keeps a path string's bytes alive until the kernel has read the SQE. */
  keep: unknown = undefined;
  /**
   * @internal true while every word of the slot but fd and user_data is known to be zero (set by
   * getSqe(), which hands out zeroed slots): prepRw() then skips the op-specific words, and
   * prepNop() writes only fd (IORING_OP_NOP is 0), leaving the slot fresh. Cleared by prepRw()
   * before its first write and by every setter or helper that writes any other word (the setters
   * of fd and user_data leave it: no prep relies on those being 0). Code that writes `u32` by
   * hand must clear it, or a prep would take the words it wrote for zeros.
   */
  fresh = false;
  /** @internal the pooled handle of the next slot (a ring links its pool in a circle); itself otherwise */
  next: Sqe = this;

  constructor(u32: Uint32Array, wordIndex: number) {
    checkSlot(u32, wordIndex, 16);
    this.u32 = u32;
    this.i = wordIndex;
  }

  /** IORING_OP_* */
  get opcode(): number {
    return this.u32[this.i]! & 0xff;
  }
  set opcode(v: number) {
    this.fresh = false;
    this.u32[this.i] = (this.u32[this.i]! & 0xffffff00) | (v & 0xff);
  }
  /** IOSQE_* flags. Prep helpers reset them to 0, as liburing's do: set flags after prep. */
  get flags(): number {
    return (this.u32[this.i]! >>> 8) & 0xff;
  }
  set flags(v: number) {
    this.fresh = false;
    this.u32[this.i] = (this.u32[this.i]! & 0xffff00ff) | ((v & 0xff) << 8);
  }
  get ioprio(): number {
    return this.u32[this.i]! >>> 16;
  }
  set ioprio(v: number) {
    this.fresh = false;
    this.u32[this.i] = (this.u32[this.i]! & 0xffff) | ((v & 0xffff) << 16);
  }
  get fd(): number {
    return this.u32[this.i + SQW.fd]! | 0;
  }
  set fd(v: number) {
    this.u32[this.i + SQW.fd] = v;
  }
  /** `off` / `addr2`: a file offset (−1 = current position), or op-specific. */
  get off(): number {
    return getU64(this.u32, this.i + SQW.off);
  }
  set off(v: U64) {
    this.fresh = false;
    setU64(this.u32, this.i + SQW.off, v);
  }
  /** `addr`: a buffer or struct address, or op-specific. */
  get addr(): number {
    return getU64(this.u32, this.i + SQW.addr);
  }
  set addr(v: U64) {
    this.fresh = false;
    setU64(this.u32, this.i + SQW.addr, v);
  }
  get len(): number {
    return this.u32[this.i + SQW.len]!;
  }
  set len(v: number) {
    this.fresh = false;
    this.u32[this.i + SQW.len] = v;
  }
  /** The op-specific flags word: rw_flags, fsync_flags, open_flags, msg_flags, timeout_flags, … */
  get opFlags(): number {
    return this.u32[this.i + SQW.opFlags]!;
  }
  set opFlags(v: number) {
    this.fresh = false;
    this.u32[this.i + SQW.opFlags] = v;
  }
  /** Comes back unchanged in the CQE. A number 0 … 2^53−1, or a bigint for the full 64 bits. */
  get userData(): number {
    return getU64(this.u32, this.i + SQW.userData);
  }
  set userData(v: U64) {
    setU64(this.u32, this.i + SQW.userData, checkUserData(v));
  }
  /** The full 64-bit user_data. */
  get userDataBigInt(): bigint {
    return getU64Big(this.u32, this.i + SQW.userData);
  }
  /** `buf_index` (fixed buffers) or `buf_group` (provided buffers). */
  get bufIndex(): number {
    return this.u32[this.i + SQW.bufIndex]! & 0xffff;
  }
  set bufIndex(v: number) {
    this.fresh = false;
    const j = this.i + SQW.bufIndex;
    this.u32[j] = (this.u32[j]! & 0xffff0000) | (v & 0xffff);
  }
  get bufGroup(): number {
    return this.bufIndex;
  }
  set bufGroup(v: number) {
    this.bufIndex = v;
  }
  get personality(): number {
    return this.u32[this.i + SQW.bufIndex]! >>> 16;
  }
  set personality(v: number) {
    this.fresh = false;
    const j = this.i + SQW.bufIndex;
    this.u32[j] = (this.u32[j]! & 0xffff) | ((v & 0xffff) << 16);
  }
  /** `file_index` / `splice_fd_in` / `addr_len`. */
  get fileIndex(): number {
    return this.u32[this.i + SQW.fileIndex]!;
  }
  set fileIndex(v: number) {
    this.fresh = false;
    this.u32[this.i + SQW.fileIndex] = v;
  }
  get addr3(): number {
    return getU64(this.u32, this.i + SQW.addr3);
  }
  set addr3(v: U64) {
    this.fresh = false;
    setU64(this.u32, this.i + SQW.addr3, v);
  }

  /** Mirrors io_uring_sqe_set_data64(). */
  setData(v: U64): this {
    this.userData = v;
    return this;
  }
  /** Mirrors io_uring_sqe_set_flags(). */
  setFlags(v: number): this {
    this.flags = v;
    return this;
  }
  /** The 64 bytes as a copy, for debugging and tests. */
  bytes(): Uint8Array {
    return new Uint8Array(this.u32.buffer, this.u32.byteOffset + this.i * 4, SQE.SIZE).slice();
  }
}

/**
 * One completion queue entry: a handle on a 16-byte slot of the CQ ring.
 * Mirrors `struct io_uring_cqe`. Like liburing's `struct io_uring_cqe *`, it
 * reads the slot itself: read what you need before `cqeSeen()`/`cqAdvance()`
 * hands the slot back to the kernel.
 */
export class Cqe {
  /** @internal the CQ ring (or any view) */
  u32: Uint32Array;
  /** @internal word index of this CQE in `u32` (forEachCqe() moves its one handle from slot to slot) */
  i: number;

  constructor(u32: Uint32Array, wordIndex: number) {
    checkSlot(u32, wordIndex, 4);
    this.u32 = u32;
    this.i = wordIndex;
  }
  /** The SQE's user_data, as a number (exact up to 2^53−1; use `userDataBigInt` beyond). */
  get userData(): number {
    return getU64(this.u32, this.i + CQW.userData);
  }
  get userDataBigInt(): bigint {
    return getU64Big(this.u32, this.i + CQW.userData);
  }
  /** The result: ≥ 0 on success (bytes, an fd, …), −errno on failure. */
  get res(): number {
    return this.u32[this.i + CQW.res]! | 0;
  }
  /** IORING_CQE_F_* */
  get flags(): number {
    return this.u32[this.i + CQW.flags]!;
  }
  /** The 16 extra bytes of a CQE32 entry, as two u64 numbers. */
  get bigCqe(): [number, number] {
    return [getU64(this.u32, this.i + 4), getU64(this.u32, this.i + 6)];
  }
}
