/**
 * Kernel structs the raw tier hands to the kernel by address: iovec arrays
 * and timespecs. Each keeps its backing memory and knows its address; keep
 * the object referenced until the CQE of every operation that points at it.
 */
import { invalidArgument } from "./errors.ts";
import { IOVEC, TIMESPEC, w } from "./layout.ts";
import { addressOf, addressOfOwned, asView } from "./memory.ts";
import { setU64 } from "./sqe.ts";

/**
 * An iovec array for readv/writev: the buffers and the `struct iovec[]` the
 * kernel reads, kept together. Keep the IoVecs referenced until the CQE.
 */
export class IoVecs {
  readonly buffers: readonly ArrayBufferView[];
  /** @internal the struct iovec[] */
  readonly table: Uint32Array;
  readonly address: number;
  constructor(buffers: ArrayBufferView[]) {
    if (!Array.isArray(buffers)) throw invalidArgument("buffers", "Expected an array of ArrayBufferViews.", "type");
    this.buffers = buffers.slice();
    this.table = new Uint32Array(Math.max(1, buffers.length) * w(IOVEC.SIZE));
    buffers.forEach((b, k) => {
      const v = asView(b, `buffers[${k}]`);
      setU64(this.table, k * 4, addressOf(v));
      setU64(this.table, k * 4 + 2, v.byteLength);
    });
    this.address = addressOf(this.table);
  }
  get length(): number {
    return this.buffers.length;
  }
  /** Total bytes over all buffers. */
  get byteLength(): number {
    let n = 0;
    for (const b of this.buffers) n += b.byteLength;
    return n;
  }
}

/** A struct __kernel_timespec for timeouts. Keep it referenced until the timeout's CQE. */
export class Timespec {
  /** @internal */
  readonly words = new Uint32Array(w(TIMESPEC.SIZE));
  readonly address: number;
  constructor(ms = 0) {
    this.address = addressOfOwned(this.words); // ours, never exposed as a buffer
    this.set(ms);
  }
  /** Set from milliseconds (fractions allowed: 0.5 = 500 µs). */
  set(ms: number): this {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw invalidArgument("ms", `Expected a finite number ≥ 0; got ${ms}.`, "range");
    const ns = Math.round(ms * 1e6);
    setU64(this.words, w(TIMESPEC.tv_sec), Math.floor(ns / 1e9));
    setU64(this.words, w(TIMESPEC.tv_nsec), ns % 1e9);
    return this;
  }
}

// ---------------------------------------------------------------- more kernel structs (LP64: x86_64, aarch64)

/** `struct open_how` for openat2(2) — 24 bytes: flags, mode, resolve (each u64). Keep it referenced until the CQE. */
export class OpenHow {
  /** @internal */
  readonly words = new Uint32Array(6);
  readonly address: number;
  /** `flags`: O_* open flags; `mode`: creation mode; `resolve`: RESOLVE_* bits (RESOLVE_BENEATH = 0x08, …). */
  constructor(flags = 0, mode = 0, resolve = 0) {
    this.address = addressOfOwned(this.words);
    // named, so NaN/2^64/a string is an error about `flags`, not about some "value"
    setU64(this.words, 0, flags, "flags");
    setU64(this.words, 2, mode, "mode");
    setU64(this.words, 4, resolve, "resolve");
  }
  /** sizeof(struct open_how), what openat2 puts in `len`. */
  static readonly SIZE = 24;
}

/**
 * `struct msghdr` for sendmsg/recvmsg — 56 bytes: msg_name (8), msg_namelen (u32 at 8), msg_iov (16),
 * msg_iovlen (24), msg_control (32), msg_controllen (40), msg_flags (int at 48).
 * It keeps the name buffer, the IoVecs and the control buffer referenced: keep the MsgHdr until the CQE.
 */
export class MsgHdr {
  /** @internal */
  readonly words = new Uint32Array(14);
  readonly address: number;
  readonly name: ArrayBufferView | null;
  readonly iov: IoVecs | null;
  readonly control: ArrayBufferView | null;
  constructor(iov: IoVecs | null, name: ArrayBufferView | null = null, control: ArrayBufferView | null = null) {
    if (iov !== null && !(iov instanceof IoVecs)) throw invalidArgument("iov", "Expected an IoVecs or null.", "type");
    this.iov = iov;
    this.name = name === null ? null : asView(name, "name");
    this.control = control === null ? null : asView(control, "control");
    this.address = addressOfOwned(this.words);
    setU64(this.words, 0, this.name ? addressOf(this.name) : 0);
    this.words[2] = this.name ? this.name.byteLength : 0;
    setU64(this.words, 4, iov ? iov.address : 0);
    setU64(this.words, 6, iov ? iov.length : 0);
    setU64(this.words, 8, this.control ? addressOf(this.control) : 0);
    setU64(this.words, 10, this.control ? this.control.byteLength : 0);
  }
  /** msg_namelen: after recvmsg, the length of the peer address the kernel wrote. */
  get namelen(): number {
    return this.words[2]!;
  }
  /** msg_flags: after recvmsg, MSG_TRUNC and friends. */
  get flags(): number {
    return this.words[12]! | 0;
  }
  static readonly SIZE = 56;
}

/** FUTEX2_SIZE_U32: the futex word is 32 bits (the only size futex2 supports in 6.18). */
export const FUTEX2_SIZE_U32 = 0x02;
/** FUTEX2_PRIVATE: the futex is private to this process. */
export const FUTEX2_PRIVATE = 128;
/** FUTEX_BITSET_MATCH_ANY: a wait/wake mask matching every waiter. */
export const FUTEX_BITSET_MATCH_ANY = 0xffffffff;

/**
 * An array of `struct futex_waitv` for FUTEX_WAITV — 24 bytes each: val (u64), uaddr (u64), flags (u32), reserved.
 * Each entry waits while word `index` of `word` still holds `val`. Keep it (and the words) referenced until the CQE.
 */
export class FutexWaitv {
  /** @internal */
  readonly table: Uint32Array;
  readonly address: number;
  readonly words: readonly Uint32Array[];
  constructor(entries: { word: Uint32Array; val: number; flags?: number }[]) {
    if (!Array.isArray(entries) || entries.length === 0) throw invalidArgument("entries", "Expected a non-empty array.", "type");
    // FUTEX_WAITV_MAX in the kernel: more is EINVAL at submit, so say it here
    if (entries.length > 128) throw invalidArgument("entries", `At most 128 futexes (FUTEX_WAITV_MAX); got ${entries.length}.`, "range");
    this.table = new Uint32Array(entries.length * 6);
    entries.forEach((e, k) => {
      if (e === null || typeof e !== "object") throw invalidArgument(`entries[${k}]`, "Expected { word, val, flags? }.", "type");
      if (!(e.word instanceof Uint32Array) || e.word.length === 0) throw invalidArgument(`entries[${k}].word`, "Expected a non-empty Uint32Array.", "type");
      // val is compared with the 32-bit futex word: NaN or 2^32 would silently become 0
      if (!Number.isInteger(e.val) || e.val < 0 || e.val > 0xffffffff) {
        throw invalidArgument(`entries[${k}].val`, `Expected an integer 0…2^32-1; got ${String(e.val)}.`, typeof e.val === "number" ? "range" : "type");
      }
      const flags = e.flags ?? FUTEX2_SIZE_U32 | FUTEX2_PRIVATE;
      if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) {
        throw invalidArgument(`entries[${k}].flags`, `Expected FUTEX2_* bits (a u32); got ${String(flags)}.`, typeof flags === "number" ? "range" : "type");
      }
      setU64(this.table, k * 6, e.val);
      setU64(this.table, k * 6 + 2, addressOf(e.word));
      this.table[k * 6 + 4] = flags;
    });
    this.words = entries.map((e) => e.word);
    this.address = addressOfOwned(this.table);
  }
  get length(): number {
    return this.table.length / 6;
  }
}

/** sizeof(struct epoll_event): packed on x86_64 (u32 events, u64 data at 4 → 12 bytes), 16 elsewhere. */
export const EPOLL_EVENT_SIZE: number = process.arch === "x64" ? 12 : 16;
/** epoll_ctl(2) ops and event bits. */
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLLIN = 0x001;
export const EPOLLOUT = 0x004;

/** poll(2) event bits for poll_add. */
export const POLLIN = 0x001;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;

/** waitid(2) id types and options. */
export const P_ALL = 0;
export const P_PID = 1;
export const WEXITED = 4;
/** sizeof(siginfo_t): waitid writes si_signo (0), si_code (8), si_pid (16), si_uid (20), si_status (24). */
export const SIGINFO_SIZE = 128;

/** An array of `struct epoll_event` (see EPOLL_EVENT_SIZE): `events` and the 64-bit `data` of each. */
export class EpollEvents {
  readonly bytes: Uint8Array;
  readonly #dv: DataView;
  constructor(count: number) {
    // EP_MAX_EVENTS in the kernel: INT_MAX / sizeof(struct epoll_event)
    const max = Math.floor(0x7fffffff / EPOLL_EVENT_SIZE);
    if (!Number.isInteger(count) || count < 1 || count > max) {
      throw invalidArgument("count", `Expected an integer 1…${max}; got ${String(count)}.`, typeof count === "number" ? "range" : "type");
    }
    this.bytes = new Uint8Array(count * EPOLL_EVENT_SIZE);
    this.#dv = new DataView(this.bytes.buffer);
  }
  get length(): number {
    return this.bytes.byteLength / EPOLL_EVENT_SIZE;
  }
  /** Byte offset of entry `i`, checked: a DataView's own RangeError has no code and names no argument. */
  #at(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) {
      throw invalidArgument("i", `Expected an index 0…${this.length - 1}; got ${String(i)}.`, typeof i === "number" ? "range" : "type");
    }
    return i * EPOLL_EVENT_SIZE;
  }
  events(i: number): number {
    return this.#dv.getUint32(this.#at(i), true);
  }
  data(i: number): bigint {
    return this.#dv.getBigUint64(this.#at(i) + (EPOLL_EVENT_SIZE === 12 ? 4 : 8), true);
  }
  set(i: number, events: number, data: bigint | number): this {
    const at = this.#at(i);
    if (!Number.isInteger(events) || events < -0x80000000 || events > 0xffffffff) {
      throw invalidArgument("events", `Expected EPOLL* bits (a u32); got ${String(events)}.`, typeof events === "number" ? "range" : "type");
    }
    const ok = typeof data === "bigint" ? data >= 0n && data < 2n ** 64n : Number.isSafeInteger(data) && data >= 0;
    if (!ok) throw invalidArgument("data", `Expected an integer 0…2^64-1 (a bigint above 2^53); got ${String(data)}.`, typeof data === "number" || typeof data === "bigint" ? "range" : "type");
    this.#dv.setUint32(at, events >>> 0, true);
    this.#dv.setBigUint64(at + (EPOLL_EVENT_SIZE === 12 ? 4 : 8), BigInt(data), true);
    return this;
  }
}
