/**
 * The raw ring: io_uring_setup, the SQ/CQ protocol, io_uring_enter and the
 * registration basics. Mirrors liburing's `struct io_uring` and its
 * `queue.c`/`setup.c`/`register.c`; names are liburing's in camelCase.
 *
 * Everything the kernel may touch after `submit()` returns — buffers,
 * iovecs, timespecs, sockaddrs, statx buffers — must stay referenced by you
 * until its CQE is reaped (see the Safety notes in `prep.ts`). The `Uring`
 * Promise tier does that for you.
 */
import { ioUringEnter, ioUringRegister, ioUringSetup, closeFd } from "../ffi/syscalls.ts";
import { add32, clearBits, fullFence, loadAcquire, loadAcquireAfterCall, storeRelease, storeReleaseAfterReads, sub32 } from "./barrier.ts";
import {
  IORING_ENTER_EXT_ARG,
  IORING_ENTER_GETEVENTS,
  IORING_ENTER_REGISTERED_RING,
  IORING_ENTER_SQ_WAKEUP,
  IORING_FEAT_SINGLE_MMAP,
  IORING_OFF_SQ_RING,
  IORING_OFF_SQES,
  IORING_REGISTER_BUFFERS,
  IORING_REGISTER_BUFFERS2,
  IORING_REGISTER_BUFFERS_UPDATE,
  IORING_REGISTER_CLOCK,
  IORING_REGISTER_ENABLE_RINGS,
  IORING_REGISTER_FILE_ALLOC_RANGE,
  IORING_REGISTER_FILES_UPDATE2,
  IORING_REGISTER_PBUF_STATUS,
  IORING_REGISTER_PERSONALITY,
  IORING_REGISTER_RESTRICTIONS,
  IORING_REGISTER_RING_FDS,
  IORING_RESTRICTION_REGISTER_OP,
  IORING_RESTRICTION_SQE_FLAGS_ALLOWED,
  IORING_RESTRICTION_SQE_FLAGS_REQUIRED,
  IORING_RESTRICTION_SQE_OP,
  IORING_UNREGISTER_PERSONALITY,
  IORING_UNREGISTER_RING_FDS,
  IORING_REGISTER_EVENTFD,
  IORING_REGISTER_EVENTFD_ASYNC,
  IORING_REGISTER_FILES,
  IORING_REGISTER_FILES2,
  IORING_REGISTER_FILES_UPDATE,
  IORING_REGISTER_IOWQ_MAX_WORKERS,
  IORING_REGISTER_PBUF_RING,
  IORING_REGISTER_PROBE,
  IORING_RSRC_REGISTER_SPARSE,
  IORING_SETUP_CLAMP,
  IORING_SETUP_COOP_TASKRUN,
  IORING_SETUP_CQE32,
  IORING_SETUP_CQSIZE,
  IORING_SETUP_DEFER_TASKRUN,
  IORING_SETUP_IOPOLL,
  IORING_SETUP_NO_MMAP,
  IORING_SETUP_NO_SQARRAY,
  IORING_SETUP_R_DISABLED,
  IORING_SETUP_SINGLE_ISSUER,
  IORING_SETUP_SQE128,
  IORING_SETUP_SQPOLL,
  IORING_SETUP_SQ_AFF,
  IORING_SETUP_SUBMIT_ALL,
  IORING_SETUP_TASKRUN_FLAG,
  IORING_SQ_CQ_OVERFLOW,
  IORING_SQ_NEED_WAKEUP,
  IORING_SQ_TASKRUN,
  IORING_CQ_EVENTFD_DISABLED,
  IORING_UNREGISTER_BUFFERS,
  IORING_UNREGISTER_EVENTFD,
  IORING_UNREGISTER_FILES,
  IORING_UNREGISTER_PBUF_RING,
  IO_URING_OP_SUPPORTED,
  OPCODE_NAMES,
} from "./constants.ts";
import { check, ERRNO, errnoName, invalidArgument, memlockAdvice, ringClosed, setupAdvice, UringError } from "./errors.ts";
import { BufferRing } from "./bufring.ts";
import { BUF_REG, CQ_OFF, GETEVENTS_ARG, roundupPow2, IOVEC, PARAMS, PROBE, RSRC_REGISTER, RSRC_UPDATE, SQ_OFF, w } from "./layout.ts";
import {
  addressOf,
  allocShared,
  asView,
  mapRegion,
  type MemoryMode,
  type Region,
  ringRegionBytes,
  sqeRegionBytes,
  unmapRegion,
} from "./memory.ts";
import { type IoUringOptions, IoUringOptionsSchema, parseOptions } from "./options.ts";
import { Cqe, setU64, Sqe } from "./sqe.ts";
import { Timespec } from "./structs.ts";
import { installTrace, traceFromEnv } from "./trace.ts";

const { EINTR, EAGAIN, EBUSY, EEXIST, EINVAL, ENOMEM, ETIME } = ERRNO;

const KERN_MAX_ENTRIES = 32768;
const KERN_MAX_CQ_ENTRIES = 2 * KERN_MAX_ENTRIES;

/** What `ring.memory` reports: the mode in use and the buffers holding each region. */
export interface RingMemoryInfo {
  readonly mode: MemoryMode;
  /** The region holding the SQ ring (head, tail, flags, index array). */
  readonly sq: Region;
  /** The region holding the CQ ring (head, tail, CQEs). With one region for both rings, the same as `sq`. */
  readonly cq: Region;
  /** The SQE array. */
  readonly sqes: Region;
}

/** Which index writer a shared handle is: the SQ tail's ("submitter"), the CQ head's ("reaper"), or both. */
export type SharedRole = "submitter" | "reaper" | "both";

/** A ring described for another thread: plain data and SharedArrayBuffers, safe to postMessage. */
export interface SharedRing {
  readonly fd: number;
  /** The 30 u32 words of the io_uring_params the kernel returned (flags, sizes, ring offsets). */
  readonly params: readonly number[];
  readonly rings: Region & { buffer: SharedArrayBuffer };
  readonly sqes: Region & { buffer: SharedArrayBuffer };
  readonly role: SharedRole;
}

/** What `ring.counters()` returns: every head, tail and flag word of both rings. */
export interface RingCounters {
  sqHead: number;
  sqTail: number;
  sqeTail: number;
  cqHead: number;
  cqTail: number;
  sqFlags: number;
  cqOverflow: number;
  sqDropped: number;
}

/** The kernel's answer to IORING_REGISTER_PROBE. Mirrors `struct io_uring_probe`. */
export class Probe {
  /** The highest opcode the kernel knows. */
  readonly lastOp: number;
  readonly #flags: Uint16Array;
  constructor(lastOp: number, flags: Uint16Array) {
    this.lastOp = lastOp;
    this.#flags = flags;
  }
  /** Mirrors io_uring_opcode_supported(). */
  isSupported(op: number): boolean {
    return op >= 0 && op <= this.lastOp && op < this.#flags.length && (this.#flags[op]! & IO_URING_OP_SUPPORTED) !== 0;
  }
  /** The names of the supported opcodes, in opcode order. */
  supported(): string[] {
    const out: string[] = [];
    for (let op = 0; op <= this.lastOp; op++) if (this.isSupported(op)) out.push(OPCODE_NAMES[op] ?? `OP_${op}`);
    return out;
  }
}

/** One attempt at io_uring_setup(): the flags and where the memory lives. */
interface SetupAttempt {
  flags: number;
  mode: MemoryMode;
}

/**
 * An io_uring instance: the ring fd, its mapped SQ/CQ rings and SQE array.
 * Mirrors liburing's `struct io_uring` and `io_uring_queue_init_params()`.
 *
 * @example
 * ```ts
 * using ring = new IoUring(8);
 * const sqe = ring.getSqe()!;
 * prepNop(sqe);
 * sqe.userData = 0xaaaaaaaa;
 * ring.submitAndWait(1);
 * const cqe = ring.peekCqe()!;
 * console.log(cqe.userData, cqe.res); // 2863311530 0
 * ring.cqeSeen(cqe);
 * ```
 * @throws {TypeError|RangeError} an invalid option, naming the field.
 * @throws {UringError} the kernel refused: EPERM (io_uring disabled), ENOMEM, ENOSYS, EINVAL — with advice.
 */
export class IoUring {
  /** The ring fd; -1 once closed. */
  fd = -1;
  /** The IORING_SETUP_* flags the ring was created with. */
  readonly flags: number;
  /** IORING_FEAT_* reported by the kernel. */
  readonly features: number;
  /** SQ size (a power of two). */
  readonly sqEntries: number;
  /** CQ size (a power of two). */
  readonly cqEntries: number;
  /** How many io_uring_enter(2) calls this ring has made (for tests and the curious). */
  enterCount = 0;

  // ---- views: the ring region (SQ+CQ) and the SQE array, as u32 words ----
  /** @internal */ sqRing: Uint32Array;
  /** @internal */ cqRing: Uint32Array;
  /** @internal */ sqes: Uint32Array;
  /** The SQE array as 8-byte words, for zeroing slots (null if the region is not 8-byte aligned). */
  readonly #sqes64: Float64Array | null;
  /** The SQE array as bytes, for zeroing many slots: a Uint8Array's fill() is a memset, 2× a Uint32Array's. */
  readonly #sqes8: Uint8Array;
  // word indexes of the fields inside the ring region (the `k` prefix: the kernel writes it)
  readonly #sqKHead: number;
  readonly #sqKTail: number;
  readonly #sqKFlags: number;
  readonly #sqKDropped: number;
  readonly #cqKHead: number;
  readonly #cqKTail: number;
  readonly #cqKOverflow: number;
  readonly #cqKFlags: number;
  readonly #sqMask: number;
  readonly #cqMask: number;
  readonly #sqpoll: boolean;
  readonly #iopoll: boolean;
  // private mirrors (no `k`): the next SQE to hand out, and the last tail published
  #sqeTail = 0;
  #sqeHead = 0;
  /** The kernel's SQ head as last loaded: a lower bound, refreshed when the SQ looks full. */
  #sqHeadCache = 0;
  /** `#sqHeadCache + sqEntries` (mod 2^32): the SQ is full by the cached head when the tail reaches it. */
  #sqLimit = 0;
  #sqeWords = 16;
  // the CQ head: this side is its only writer, so a private copy is exact
  #cqHead = 0;
  /** The kernel's CQ tail as last loaded (acquire): a lower bound, so cqAdvance() can check `n` without another load. */
  #cqTailSeen = 0;
  readonly #sqePool: Sqe[];
  /** The pooled handle of slot `#sqeTail & mask`: getSqe() hands it out and moves to its `next`. */
  #sqeNext: Sqe;
  readonly #cqePool: Cqe[];
  /** The one handle forEachCqe() moves from CQE to CQE (valid only during the callback). */
  readonly #cqeCursor: Cqe;
  /** Word index of CQE slot 0 in `cqRing`. */
  readonly #cqes: number;
  /** Words per CQE (4, or 8 with CQE32), and the word index just past the last CQE. */
  readonly #cqeWords: number;
  readonly #cqesEnd: number;
  readonly #memory: RingMemoryInfo;
  readonly #params: Uint32Array;
  /** Attached from another thread's ring: never closes the fd. */
  readonly #attached: boolean = false;
  /** Which indexes this handle may write (see share()). */
  #canSubmit = true;
  #canReap = true;
  /** Owner references: registered buffers, their iovec table, scratch structs the kernel reads. */
  #registeredBuffers: ArrayBufferView[] | null = null;
  #registeredBufferTable: Uint32Array | null = null;
  #eventfd = -1;
  /** Registered provided-buffer rings, kept alive while the kernel may pick from them. */
  readonly #bufRings = new Map<number, BufferRing>();
  /** The ring's index in this thread's registered ring fds (registerRingFd), or -1. */
  #ringIndex = -1;
  /** struct io_uring_getevents_arg + its timespec, reused by waitCqeTimeout(). */
  readonly #waitArg = new Uint32Array(w(GETEVENTS_ARG.SIZE));
  readonly #waitTs = new Timespec();
  readonly #waitArgAddr: number;
  // The two syscalls behind #enter and #register. Only a traced ring (lib/trace.ts) swaps them,
  // through _traceSyscalls(); every other ring calls the raw ones, and its hot path is unchanged.
  #sysEnter: typeof ioUringEnter = ioUringEnter;
  #sysRegister: typeof ioUringRegister = ioUringRegister;

  constructor(entries: number, options?: IoUringOptions);
  /** @internal attach to a shared ring — use `IoUring.attach()`. */
  constructor(shared: SharedRing);
  constructor(entries: number | SharedRing, options?: IoUringOptions) {
    let params: Uint32Array;
    let memory: RingMemoryInfo;
    if (typeof entries === "object" && entries !== null && "rings" in entries) {
      const shared = checkShared(entries);
      params = Uint32Array.from(shared.params);
      memory = { mode: "shared", sq: shared.rings, cq: shared.rings, sqes: shared.sqes };
      this.fd = shared.fd;
      this.#attached = true;
      this.#canSubmit = shared.role !== "reaper";
      this.#canReap = shared.role !== "submitter";
    } else {
      const made = setupRing(entries as number, options);
      this.fd = made.fd;
      params = made.params;
      memory = made.memory;
    }
    this.#params = params;
    this.#memory = memory;
    this.flags = params[w(PARAMS.flags)]!;
    this.features = params[w(PARAMS.features)]!;
    this.sqEntries = params[w(PARAMS.sq_entries)]!;
    this.cqEntries = params[w(PARAMS.cq_entries)]!;
    const sqOff = (f: number) => params[w(PARAMS.sq_off + f)]!;
    const cqOff = (f: number) => params[w(PARAMS.cq_off + f)]!;
    const rings = memory.sq;
    this.sqRing = new Uint32Array(rings.buffer, rings.byteOffset, rings.byteLength >>> 2);
    this.cqRing = this.sqRing;
    this.sqes = new Uint32Array(memory.sqes.buffer, memory.sqes.byteOffset, memory.sqes.byteLength >>> 2);
    this.#sqes8 = new Uint8Array(memory.sqes.buffer, memory.sqes.byteOffset, memory.sqes.byteLength);
    this.#sqes64 =
      memory.sqes.byteOffset % 8 === 0 ? new Float64Array(memory.sqes.buffer, memory.sqes.byteOffset, memory.sqes.byteLength >>> 3) : null;
    this.#sqKHead = w(sqOff(SQ_OFF.head));
    this.#sqKTail = w(sqOff(SQ_OFF.tail));
    this.#sqKFlags = w(sqOff(SQ_OFF.flags));
    this.#sqKDropped = w(sqOff(SQ_OFF.dropped));
    this.#cqKHead = w(cqOff(CQ_OFF.head));
    this.#cqKTail = w(cqOff(CQ_OFF.tail));
    this.#cqKOverflow = w(cqOff(CQ_OFF.overflow));
    this.#cqKFlags = w(cqOff(CQ_OFF.flags));
    this.#sqMask = this.sqRing[w(sqOff(SQ_OFF.ring_mask))]!;
    this.#cqMask = this.cqRing[w(cqOff(CQ_OFF.ring_mask))]!;
    this.#sqpoll = (this.flags & IORING_SETUP_SQPOLL) !== 0;
    this.#iopoll = (this.flags & IORING_SETUP_IOPOLL) !== 0;

    // The SQ index array is identity-mapped once, by the ring's creator: SQE slot i is always array entry i.
    if (!this.#attached && (this.flags & IORING_SETUP_NO_SQARRAY) === 0) {
      const array = w(sqOff(SQ_OFF.array));
      for (let i = 0; i < this.sqEntries; i++) this.sqRing[array + i] = i;
    }
    const sqeWords = this.flags & IORING_SETUP_SQE128 ? 32 : 16;
    this.#sqeWords = sqeWords;
    // A new ring starts at 0; a ring attached from another thread starts where its owner left off.
    this.#sqeTail = this.#sqeHead = loadAcquire(this.sqRing, this.#sqKTail);
    this.#sqHeadCache = loadAcquire(this.sqRing, this.#sqKHead);
    this.#sqLimit = add32(this.#sqHeadCache, this.sqEntries);
    // An attached handle finds slots that may still hold consumed SQEs: zero the free ones
    // (never those in [head, tail), which the kernel has yet to read).
    if (this.#attached) this.#zeroSlots(this.#sqeTail, this.sqEntries - sub32(this.#sqeTail, this.#sqHeadCache));
    this.#cqHead = loadAcquire(this.cqRing, this.#cqKHead);
    this.#cqTailSeen = this.#cqHead;

    const cqeWords = this.flags & IORING_SETUP_CQE32 ? 8 : 4;
    const cqes = w(cqOff(CQ_OFF.cqes));
    this.#sqePool = Array.from({ length: this.sqEntries }, (_, i) => new Sqe(this.sqes, i * sqeWords));
    for (let i = 0; i < this.sqEntries; i++) this.#sqePool[i]!.next = this.#sqePool[(i + 1) & this.#sqMask]!;
    this.#sqeNext = this.#sqePool[this.#sqeTail & this.#sqMask]!;
    this.#cqePool = Array.from({ length: this.cqEntries }, (_, i) => new Cqe(this.cqRing, cqes + i * cqeWords));
    this.#cqeCursor = new Cqe(this.cqRing, cqes);
    this.#cqes = cqes;
    this.#cqeWords = cqeWords;
    this.#cqesEnd = cqes + this.cqEntries * cqeWords;
    this.#waitArgAddr = addressOf(this.#waitArg);
    setU64(this.#waitArg, w(GETEVENTS_ARG.ts), this.#waitTs.address);
    this.#waitArg[w(GETEVENTS_ARG.sigmask_sz)] = 8; // _NSIG / 8
    // `trace` option, else BUN_URING_TRACE: only then are this instance's methods replaced by traced ones
    const trace = options?.trace ?? traceFromEnv();
    if (trace) installTrace(this, trace);
  }

  /** @internal lib/trace.ts: route this ring's io_uring_enter/io_uring_register through traced versions. */
  _traceSyscalls(enter: typeof ioUringEnter, register: typeof ioUringRegister): void {
    // called from the constructor (installTrace), on a ring that is open; never after close()
    if (this.fd < 0) throw ringClosed("_traceSyscalls");
    if (typeof enter !== "function" || typeof register !== "function") throw invalidArgument("enter/register", "Expected two syscall functions.", "type");
    this.#sysEnter = enter;
    this.#sysRegister = register;
  }

  /** @internal lib/learn.ts: the CQE handle of CQ counter `index` (slot `index & mask`), read-only use. */
  _cqeAt(index: number): Cqe {
    // the CQE pool views the CQ ring: after close() (munmap in "mmap" mode) reading it is unsafe
    if (this.fd < 0) throw ringClosed("_cqeAt");
    return this.#cqePool[index & this.#cqMask]!;
  }

  /**
   * Build a second `IoUring` over a ring another thread created, from the
   * structured-clonable description its owner made with `ring.share()` (post it
   * to a Worker with `postMessage`). The new handle has the role the owner gave
   * away: "reaper" (reads CQEs, writes the CQ head), "submitter" (fills SQEs,
   * writes the SQ tail) or "both". It never closes the ring fd: the owner does.
   */
  static attach(shared: SharedRing): IoUring {
    return new IoUring(checkShared(shared));
  }

  /**
   * Describe this ring for `IoUring.attach()` in another thread, handing it
   * `role`; this handle gives that role up (its calls for it throw
   * ERR_URING_ROLE), because each index has exactly one writer: the SQ tail
   * one submitter, the CQ head one reaper. Needs shared memory (`memory.mode`
   * "shared"). Refused where the kernel would refuse the other thread:
   * IORING_SETUP_SINGLE_ISSUER rings can only submit from their creator, and
   * IORING_SETUP_DEFER_TASKRUN rings only complete work when their creator
   * enters, so they can hand out neither role.
   */
  share(role: SharedRole = "reaper"): SharedRing {
    if (this.fd < 0) throw ringClosed("share");
    if (role !== "reaper" && role !== "submitter" && role !== "both") {
      throw invalidArgument("role", `Expected "reaper", "submitter" or "both"; got ${String(role)}.`);
    }
    if (this.#memory.mode !== "shared") {
      throw roleError(`share() needs the rings in SharedArrayBuffers (memory "shared"); this ring uses "${this.#memory.mode}"`);
    }
    if (role !== "reaper" && this.flags & IORING_SETUP_SINGLE_ISSUER) {
      throw roleError("a SINGLE_ISSUER ring can only submit from the thread that created it: share it as \"reaper\"");
    }
    if (this.flags & IORING_SETUP_DEFER_TASKRUN) {
      throw roleError("a DEFER_TASKRUN ring completes work only when its creator enters the kernel: it cannot be shared");
    }
    if (role !== "submitter" && !this.#canReap) throw roleError("this handle is not the reaper: it cannot give that role away");
    if (role !== "reaper" && !this.#canSubmit) throw roleError("this handle is not the submitter: it cannot give that role away");
    if (role !== "submitter") this.#canReap = false;
    if (role !== "reaper") this.#canSubmit = false;
    return {
      fd: this.fd,
      params: Array.from(this.#params),
      rings: { ...this.#memory.sq },
      sqes: { ...this.#memory.sqes },
      role,
    } as SharedRing;
  }

  /** Which memory mode the rings use, and the buffers holding them. In "mmap" mode the buffers
   *  are views of the mapping: they must not be touched after `close()`. */
  get memory(): RingMemoryInfo {
    return this.#memory;
  }

  /**
   * A snapshot of every ring counter, for learning and debugging (each read is an acquire load):
   * `sqHead` (kernel writes), `sqTail` (published by us), `sqeTail` (our private next-SQE counter,
   * ahead of sqTail by the SQEs filled but not yet submitted), `cqHead` (we write), `cqTail` (kernel
   * writes), `sqFlags` (IORING_SQ_*), `cqOverflow`, `sqDropped`.
   */
  counters(): RingCounters {
    if (this.fd < 0) throw ringClosed("counters");
    return {
      sqHead: loadAcquire(this.sqRing, this.#sqKHead),
      sqTail: loadAcquire(this.sqRing, this.#sqKTail),
      sqeTail: this.#sqeTail,
      cqHead: loadAcquire(this.cqRing, this.#cqKHead),
      cqTail: loadAcquire(this.cqRing, this.#cqKTail),
      sqFlags: loadAcquire(this.sqRing, this.#sqKFlags),
      cqOverflow: loadAcquire(this.cqRing, this.#cqKOverflow),
      sqDropped: loadAcquire(this.sqRing, this.#sqKDropped),
    };
  }

  /** The error for a call this handle may not make: the ring is closed, or the role was given away. */
  #refuse(method: string): Error {
    if (this.fd < 0) return ringClosed(method);
    return roleError(`${method}() needs the ${this.#canSubmit ? "reaper" : "submitter"} role, which this handle gave away with share() or never had`);
  }

  // ------------------------------------------------------------------ submission

  /**
   * The next free SQE, zeroed, or null when the SQ is full (submit, then try again).
   * Mirrors io_uring_get_sqe().
   */
  getSqe(): Sqe | null {
    if (!this.#canSubmit) throw this.#refuse("getSqe");
    // Slots come back zeroed: every slot the kernel has consumed is cleared in bulk when its head
    // is observed (#sqConsumed) — 8-byte stores for a few slots, a memset for many. Clearing each
    // slot here instead (three stores and a check per SQE, Sqe.fresh telling what a slot may
    // hold) measured 1–3 % slower at batches of 32 and 128, level at 8.
    // The hot path is written out here rather than shared with unsafeGetSqe(): it runs once per SQE.
    const tail = this.#sqeTail;
    // The cached head is never ahead of the kernel's, so "not full" by it is true; only when it
    // says full is the kernel's head reloaded (#sqFull).
    if (tail === this.#sqLimit && this.#sqFull(tail)) return null;
    const sqe = this.#sqeNext;
    this.#sqeNext = sqe.next;
    this.#sqeTail = add32(tail, 1);
    sqe.fresh = true; // zeroed when consumed: prepRw() may skip the words that are already 0
    return sqe;
  }

  /**
   * The next SQE slot, not zeroed: for callers that write every word themselves (the Uring tier).
   * Named unsafe because a field left unwritten keeps whatever the slot last held.
   */
  unsafeGetSqe(): Sqe | null {
    if (!this.#canSubmit) throw this.#refuse("unsafeGetSqe");
    const tail = this.#sqeTail;
    if (tail === this.#sqLimit && this.#sqFull(tail)) return null;
    const sqe = this.#sqeNext;
    this.#sqeNext = sqe.next;
    this.#sqeTail = add32(tail, 1);
    sqe.fresh = false; // not zeroed: prepRw() must write every word
    return sqe;
  }

  /**
   * The kernel's SQ head moved to `head`: the slots it passed are free. Zero them now, in one or
   * two bulk fills, so getSqe() can hand out zeroed slots without clearing each one.
   */
  #sqConsumed(head: number): void {
    const from = this.#sqHeadCache;
    this.#sqHeadCache = head;
    this.#sqLimit = add32(head, this.sqEntries);
    this.#zeroSlots(from, sub32(head, from));
  }

  /** Zero `n` SQE slots starting at counter `from` (wrapping). */
  #zeroSlots(from: number, n: number): void {
    if (n === 0) return;
    if (n >= this.sqEntries) {
      this.#sqes8.fill(0);
      return;
    }
    const words = this.#sqeWords;
    const start = from & this.#sqMask;
    const end = start + n;
    if (end <= this.sqEntries) this.#zeroWords(start * words, end * words);
    else {
      this.#zeroWords(start * words, this.sqEntries * words);
      this.#zeroWords(0, (end - this.sqEntries) * words);
    }
  }

  /**
   * Zero SQE words [from, to), whole SQEs. Up to 8 slots are cleared by 8-byte stores through a
   * Float64Array view (0.0 is all zero bits), which beats the native call of fill() there; more go
   * to a Uint8Array's fill(), which is a memset (a Uint32Array's fill() stores element by element,
   * half the speed: 128 slots in ~110 ns against ~53 ns).
   */
  #zeroWords(from: number, to: number): void {
    const f = this.#sqes64;
    if (to - from > 128 || f === null) {
      this.#sqes8.fill(0, from << 2, to << 2);
      return;
    }
    for (let j = from >>> 1, end = to >>> 1; j < end; j += 8) {
      f[j] = 0; f[j + 1] = 0; f[j + 2] = 0; f[j + 3] = 0; f[j + 4] = 0; f[j + 5] = 0; f[j + 6] = 0; f[j + 7] = 0;
    }
  }

  /**
   * The SQ looks full by the cached head: reload the kernel's head (zeroing the slots it passed)
   * and say whether it is still full for an SQE at counter `tail`. With SQPOLL the poller moves
   * the head at any time — acquire: the slots it consumed are free to refill. Without, only this
   * ring's own io_uring_enter moves it, and a syscall is a full barrier: a plain read is exact
   * (as in #flushSq).
   */
  #sqFull(tail: number): boolean {
    this.#sqConsumed(this.#sqpoll ? loadAcquire(this.sqRing, this.#sqKHead) : this.sqRing[this.#sqKHead]!);
    return tail === this.#sqLimit;
  }

  /** Like getSqe(), but a full SQ is an error you can catch (code "ERR_URING_SQ_FULL"). */
  getSqeOrThrow(): Sqe {
    const sqe = this.getSqe();
    if (sqe) return sqe;
    const err = new Error(`bun-uring: the submission queue is full (${this.sqEntries} entries); submit() first`);
    (err as { code?: string }).code = "ERR_URING_SQ_FULL";
    throw err;
  }

  /** SQEs filled but not yet consumed by the kernel. Mirrors io_uring_sq_ready(). */
  sqReady(): number {
    if (this.fd < 0) throw ringClosed("sqReady");
    return sub32(this.#sqeTail, loadAcquire(this.sqRing, this.#sqKHead));
  }

  /** Free SQ slots. Mirrors io_uring_sq_space_left(). */
  sqSpaceLeft(): number {
    if (this.fd < 0) throw ringClosed("sqSpaceLeft");
    return this.sqEntries - this.sqReady();
  }

  /**
   * Publish the filled SQEs to the kernel: one release store of the SQ tail
   * per submit, not one per SQE. Returns how many are waiting for the kernel.
   */
  #flushSq(): number {
    const tail = this.#sqeTail;
    if (this.#sqeHead !== tail) {
      this.#sqeHead = tail;
      // With SQPOLL the poller thread reads the tail at any time — release: the SQE bytes written
      // before this store are visible to it once it sees the tail. Without SQPOLL only
      // io_uring_enter(to_submit > 0), which this thread makes next, reads it: program order and
      // the syscall order the SQEs and the tail for the kernel, so a plain store will do (liburing's
      // __io_uring_flush_sq does the same, IO_URING_WRITE_ONCE); it saves a locked `xchg` per submit.
      if (this.#sqpoll) storeRelease(this.sqRing, this.#sqKTail, tail);
      else this.sqRing[this.#sqKTail] = tail;
    }
    // Without SQPOLL only our own io_uring_enter moves the head, and a syscall is a full barrier:
    // a plain read is exact (liburing's IO_URING_READ_ONCE). With SQPOLL the poller moves it: acquire.
    const head = this.#sqpoll ? loadAcquire(this.sqRing, this.#sqKHead) : this.sqRing[this.#sqKHead]!;
    if (head !== this.#sqHeadCache) this.#sqConsumed(head);
    return sub32(tail, head);
  }

  /** The kernel has deferred work for us (overflowed CQEs, task work): enter with GETEVENTS to run it. */
  #cqNeedsFlush(): boolean {
    // a flag word, not an index: nothing is published behind it, so a plain (relaxed) read will do
    return (this.sqRing[this.#sqKFlags]! & (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN)) !== 0;
  }

  /** Submit and wait: the shared core of submit(), submitAndWait(), liburing's __io_uring_submit(). */
  #submit(waitNr: number, getEvents: boolean): number {
    const submitted = this.#flushSq();
    let flags = 0;
    let needEnter = false;
    if (getEvents || waitNr > 0 || this.#iopoll || this.#cqNeedsFlush()) {
      flags |= IORING_ENTER_GETEVENTS;
      needEnter = true;
    }
    if (submitted > 0) {
      if (!this.#sqpoll) needEnter = true;
      else {
        // full fence: our tail store must be visible before we read NEED_WAKEUP, or the
        // poller may sleep having missed the tail while we miss its flag
        fullFence();
        if (loadAcquire(this.sqRing, this.#sqKFlags) & IORING_SQ_NEED_WAKEUP) {
          flags |= IORING_ENTER_SQ_WAKEUP;
          needEnter = true;
        }
      }
    }
    if (!needEnter) return submitted;
    return this.#enter(submitted, waitNr, flags, null, 0, "io_uring_enter");
  }

  /** io_uring_enter(2), retried on EINTR; EBUSY/EAGAIN and other failures throw UringError. */
  #enter(toSubmit: number, minComplete: number, flags: number, argp: number | null, argsz: number, what: string): number {
    let consumedBefore = 0;
    for (;;) {
      this.enterCount++;
      // with a registered ring fd (registerRingFd), enter by its index: no fdget/fdput per call
      const ri = this.#ringIndex;
      const r =
        ri < 0
          ? this.#sysEnter(this.fd, toSubmit, minComplete, flags, argp, argsz)
          : this.#sysEnter(ri, toSubmit, minComplete, flags | IORING_ENTER_REGISTERED_RING, argp, argsz);
      if (r >= 0) {
        // The CQEs this enter waited for (or completed inline) are in the CQ now: note the tail
        // for forEachCqe(), which then needs no fenced load of its own. Loaded right after the
        // call, which the JIT cannot move loads above (barrier.ts: a plain load on x86-64).
        if (this.#canReap) this.#cqTailSeen = loadAcquireAfterCall(this.cqRing, this.#cqKTail);
        return r + consumedBefore;
      }
      if (r === -EINTR) {
        // Submission happens before the wait: whatever the kernel consumed stays consumed.
        const left = toSubmit > 0 && !this.#sqpoll ? sub32(this.#sqeTail, loadAcquire(this.sqRing, this.#sqKHead)) : 0;
        consumedBefore += toSubmit - left;
        toSubmit = left;
        continue;
      }
      if (r === -ETIME && flags & IORING_ENTER_EXT_ARG) return r;
      throw new UringError(r, what, { advice: enterAdvice(r, this.flags) });
    }
  }

  /**
   * Hand the filled SQEs to the kernel. Returns the number submitted.
   * Mirrors io_uring_submit().
   * @throws {UringError} EBUSY/EAGAIN (reap completions, then retry), EBADF, …
   */
  submit(): number {
    if (!this.#canSubmit) throw this.#refuse("submit");
    return this.#submit(0, false);
  }

  /** Submit, then wait until at least `waitNr` completions are in the CQ. Mirrors io_uring_submit_and_wait(). */
  submitAndWait(waitNr: number): number {
    if (!this.#canSubmit) throw this.#refuse("submitAndWait");
    return this.#submit(count(waitNr, "waitNr"), false);
  }

  /** Submit, and always enter to reap (runs deferred task work). Mirrors io_uring_submit_and_get_events(). */
  submitAndGetEvents(): number {
    if (!this.#canSubmit) throw this.#refuse("submitAndGetEvents");
    return this.#submit(0, true);
  }

  /** The raw io_uring_enter(2): returns ≥ 0 or throws; −ETIME is returned with EXT_ARG. */
  enter(toSubmit: number, minComplete: number, flags: number): number {
    if (this.fd < 0) throw ringClosed("enter");
    return this.#enter(count(toSubmit, "toSubmit"), count(minComplete, "minComplete"), count(flags, "flags"), null, 0, "io_uring_enter");
  }

  // ------------------------------------------------------------------ completion

  /** Completions waiting in the CQ. Mirrors io_uring_cq_ready(). */
  cqReady(): number {
    if (this.fd < 0) throw ringClosed("cqReady");
    // acquire: CQE bytes written before the kernel's tail store are visible to our reads.
    // A handle that is not the reaper has no exact private head: it reads the reaper's.
    // (the head first: the reaper may move it on, but never past the tail loaded after it)
    if (!this.#canReap) {
      const head = loadAcquire(this.cqRing, this.#cqKHead);
      return sub32(loadAcquire(this.cqRing, this.#cqKTail), head);
    }
    const tail = loadAcquire(this.cqRing, this.#cqKTail);
    this.#cqTailSeen = tail;
    return sub32(tail, this.#cqHead);
  }

  /** Completions the kernel dropped (only without IORING_FEAT_NODROP) — `koverflow`. */
  cqOverflow(): number {
    if (this.fd < 0) throw ringClosed("cqOverflow");
    return loadAcquire(this.cqRing, this.#cqKOverflow);
  }

  /** SQEs the kernel dropped as invalid — `kdropped`. */
  sqDropped(): number {
    if (this.fd < 0) throw ringClosed("sqDropped");
    return loadAcquire(this.sqRing, this.#sqKDropped);
  }

  /** True when the kernel has task work waiting for a GETEVENTS enter (IORING_SQ_TASKRUN; needs IORING_SETUP_TASKRUN_FLAG). */
  taskrunPending(): boolean {
    if (this.fd < 0) throw ringClosed("taskrunPending");
    return (loadAcquire(this.sqRing, this.#sqKFlags) & IORING_SQ_TASKRUN) !== 0;
  }

  /**
   * Lower IORING_SQ_TASKRUN, just before an io_uring_enter with GETEVENTS that runs the pending task
   * work. The kernel raises the flag when it queues task work on an empty list or a bounded run leaves
   * some over, and lowers it when a run starts; but a queueing that races with a run can raise it after
   * the run took the work, and then nothing lowers it until the next run. Lowered here, the flag seen
   * after the enter is exact: up means work was left over, or queued since. (The kernel only ever sets
   * and clears this bit, with atomic read-modify-writes, and decides nothing on it.) No liburing twin.
   */
  clearTaskrunFlag(): void {
    if (this.fd < 0) throw ringClosed("clearTaskrunFlag");
    clearBits(this.sqRing, this.#sqKFlags, IORING_SQ_TASKRUN);
  }

  /** False while eventfd notifications are off (IORING_CQ_EVENTFD_DISABLED). Mirrors io_uring_cq_eventfd_enabled(). Linux ≥ 5.8. */
  cqEventfdEnabled(): boolean {
    if (this.fd < 0) throw ringClosed("cqEventfdEnabled");
    return (loadAcquire(this.cqRing, this.#cqKFlags) & IORING_CQ_EVENTFD_DISABLED) === 0;
  }

  /**
   * Stop (`false`) or resume (`true`) the registered eventfd's notifications, e.g. while the
   * program polls the CQ itself. The kernel reads the flag whenever it would signal; completions
   * that arrive while it is off signal nothing, so after turning it back on, reap (and with
   * DEFER_TASKRUN enter with GETEVENTS) once before waiting on the eventfd again.
   * Mirrors io_uring_cq_eventfd_toggle(). Linux ≥ 5.8.
   */
  cqEventfdToggle(enabled: boolean): void {
    if (this.fd < 0) throw ringClosed("cqEventfdToggle");
    if (typeof enabled !== "boolean") throw invalidArgument("enabled", `Expected a boolean; got ${typeof enabled}.`, "type");
    // The flags word holds only this bit, and only this side writes it.
    const flags = loadAcquire(this.cqRing, this.#cqKFlags);
    storeRelease(this.cqRing, this.#cqKFlags, enabled ? flags & ~IORING_CQ_EVENTFD_DISABLED : flags | IORING_CQ_EVENTFD_DISABLED);
  }

  /** @internal The index of the SQ flags word in `sqRing`: tests raise a stale IORING_SQ_TASKRUN with it. */
  get _sqFlagsIndex(): number {
    return this.#sqKFlags;
  }

  /** True when the CQ overflowed into the kernel's backlog (IORING_SQ_CQ_OVERFLOW). */
  cqHasOverflow(): boolean {
    if (this.fd < 0) throw ringClosed("cqHasOverflow");
    return (loadAcquire(this.sqRing, this.#sqKFlags) & IORING_SQ_CQ_OVERFLOW) !== 0;
  }

  /**
   * The next CQE without waiting, or null. If the kernel holds overflowed
   * completions or pending task work, one GETEVENTS enter flushes them first.
   * Mirrors io_uring_peek_cqe().
   */
  peekCqe(): Cqe | null {
    if (!this.#canReap) throw this.#refuse("peekCqe");
    if (this.cqReady() > 0) return this.#cqePool[this.#cqHead & this.#cqMask]!;
    if (this.#cqNeedsFlush()) {
      this.#enter(0, 0, IORING_ENTER_GETEVENTS, null, 0, "io_uring_enter");
      if (this.cqReady() > 0) return this.#cqePool[this.#cqHead & this.#cqMask]!;
    }
    return null;
  }

  /** Wait for one CQE. Mirrors io_uring_wait_cqe(). */
  waitCqe(): Cqe {
    return this.waitCqeNr(1);
  }

  /** Wait until at least `waitNr` CQEs are ready; return the first. Mirrors io_uring_wait_cqe_nr(). */
  waitCqeNr(waitNr: number): Cqe {
    if (!this.#canReap) throw this.#refuse("waitCqeNr");
    const want = Math.max(1, count(waitNr, "waitNr"));
    for (;;) {
      if (this.cqReady() >= want) return this.#cqePool[this.#cqHead & this.#cqMask]!;
      this.#enter(0, want, IORING_ENTER_GETEVENTS, null, 0, "io_uring_enter");
    }
  }

  /**
   * Wait up to `timeoutMs` for `waitNr` (default 1) CQEs, through IORING_ENTER_EXT_ARG
   * (Linux ≥ 5.11; no internal timeout SQE). Returns the first CQE, or null on timeout.
   * Mirrors io_uring_wait_cqes() / io_uring_wait_cqe_timeout().
   */
  waitCqeTimeout(timeoutMs: number, waitNr = 1): Cqe | null {
    if (!this.#canReap) throw this.#refuse("waitCqeTimeout");
    if (!(timeoutMs >= 0) || !Number.isFinite(timeoutMs)) {
      throw invalidArgument("timeoutMs", `Expected a finite number ≥ 0; got ${timeoutMs}.`, "range");
    }
    const want = Math.max(1, count(waitNr, "waitNr"));
    this.#waitTs.set(timeoutMs);
    if (this.cqReady() >= want) return this.#cqePool[this.#cqHead & this.#cqMask]!;
    const submitted = this.#flushSq();
    const flags = IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
    const r = this.#enter(this.#sqpoll ? 0 : submitted, want, flags, this.#waitArgAddr, GETEVENTS_ARG.SIZE, "io_uring_enter");
    // -ETIME, or woken with fewer than `want`: hand back what is there, if anything
    void r;
    return this.cqReady() > 0 ? this.#cqePool[this.#cqHead & this.#cqMask]! : null;
  }

  /**
   * Fill `out` with up to `out.length` ready CQEs (no waiting); return how many.
   * Call `cqAdvance(n)` when done with them. Mirrors io_uring_peek_batch_cqe().
   */
  peekBatchCqe(out: Cqe[], max?: number): number {
    if (!this.#canReap) throw this.#refuse("peekBatchCqe");
    if (!Array.isArray(out)) throw invalidArgument("out", "Expected an array to fill with Cqe handles.", "type");
    const limit = max === undefined ? out.length : count(max, "max");
    let ready = this.cqReady();
    if (ready === 0 && this.#cqNeedsFlush()) {
      this.#enter(0, 0, IORING_ENTER_GETEVENTS, null, 0, "io_uring_enter");
      ready = this.cqReady();
    }
    const n = Math.min(ready, limit);
    const head = this.#cqHead;
    for (let k = 0; k < n; k++) out[k] = this.#cqePool[(head + k) & this.#cqMask]!;
    return n;
  }

  /**
   * Call `fn` for every ready CQE, then advance the CQ head once past all of
   * them (one release store per batch). Returns how many were seen.
   * Like liburing's io_uring_for_each_cqe() followed by io_uring_cq_advance().
   * "Ready" is the CQ tail as this ring last loaded it — after its last io_uring_enter, which
   * covers every CQE that enter waited for or completed inline — or, when that shows none, as
   * loaded now: CQEs posted since that load (by io-wq or the SQPOLL thread) come with the next call.
   * If `fn` throws, the CQEs before it and the one it threw on are consumed.
   * `fn` gets the same `Cqe` object each time, moved to the next slot: read what you need
   * during the call (its slot is handed back to the kernel afterwards anyway).
   */
  forEachCqe(fn: (cqe: Cqe) => void): number {
    if (!this.#canReap) throw this.#refuse("forEachCqe");
    // checked first: a call that throws on the first CQE would consume it
    if (typeof fn !== "function") throw invalidArgument("fn", `Expected a function; got ${typeof fn}.`, "type");
    // the tail as last seen (a lower bound whose CQEs are visible), else a fresh acquire load
    let ready = sub32(this.#cqTailSeen, this.#cqHead);
    if (ready === 0) {
      ready = this.cqReady();
      if (ready === 0 && this.#cqNeedsFlush()) {
        this.#enter(0, 0, IORING_ENTER_GETEVENTS, null, 0, "io_uring_enter");
        ready = this.cqReady();
      }
    }
    // One handle, moved from slot to slot, rather than the per-slot pool: a batch then touches one
    // object instead of one per CQE (the pool would be another 4 KiB+ of cache lines per 128 CQEs).
    // Like liburing's `struct io_uring_cqe *` in io_uring_for_each_cqe(), it is valid during the call.
    const cur = this.#cqeCursor;
    const base = this.#cqes;
    const end = this.#cqesEnd;
    const step = this.#cqeWords;
    // the word index of the head's CQE, stepped on and wrapped at the end of the array
    let i = base + (this.#cqHead & this.#cqMask) * step;
    let k = 0;
    try {
      while (k < ready) {
        cur.i = i;
        i += step;
        if (i === end) i = base;
        k++;
        fn(cur);
      }
    } finally {
      // through cqAdvance(), not straight to the head store: a traced ring sees every head move there
      this.cqAdvance(k);
    }
    return k;
  }

  /** Hand `n` CQE slots back to the kernel. Mirrors io_uring_cq_advance(). */
  cqAdvance(n: number): void {
    if (!this.#canReap) throw this.#refuse("cqAdvance");
    // NaN used to set the head to 0 and a count past the tail to hand the kernel slots never read.
    // Checked against the tail as last loaded (a lower bound), reloaded only when `n` goes past it.
    if (!(typeof n === "number" && n >= 0 && n <= sub32(this.#cqTailSeen, this.#cqHead) && (n | 0) === n)) {
      if (!Number.isInteger(n) || n < 0 || n > this.cqReady()) {
        throw invalidArgument("n", `Expected an integer from 0 to cqReady() (${this.cqReady()}); got ${n}.`, "range");
      }
    }
    if (n === 0) return;
    const head = add32(this.#cqHead, n);
    this.#cqHead = head;
    // release: our reads of those CQEs (through handles on this same view) are done before the
    // kernel may overwrite the slots (barrier.ts: a plain store on x86-64)
    storeReleaseAfterReads(this.cqRing, this.#cqKHead, head);
  }

  /** Mark one CQE consumed. Mirrors io_uring_cqe_seen(). */
  cqeSeen(_cqe?: Cqe): void {
    this.cqAdvance(1);
  }

  // ------------------------------------------------------------------ registration

  #register(opcode: number, arg: number | null, nrArgs: number, what: string, advice?: (r: number) => string | undefined): number {
    if (this.fd < 0) throw ringClosed(what);
    for (;;) {
      const r = this.#sysRegister(this.fd, opcode, arg, nrArgs);
      if (r === -EINTR) continue;
      if (r >= 0) return r;
      // an attached handle runs in another thread: EEXIST is the kernel refusing it on a SINGLE_ISSUER ring
      const text = this.#attached && r === -EEXIST ? enterAdvice(r, this.flags) : advice?.(r);
      throw new UringError(r, `io_uring_register(${what})`, text ? { advice: text } : undefined);
    }
  }

  /**
   * Register fixed buffers for READ_FIXED/WRITE_FIXED (index = position in `buffers`).
   * The ring keeps the buffers referenced until unregisterBuffers() or close().
   * Mirrors io_uring_register_buffers().
   * @throws {UringError} ENOMEM when RLIMIT_MEMLOCK is too small, EBUSY if buffers are registered already.
   */
  registerBuffers(buffers: ArrayBufferView[]): void {
    if (!Array.isArray(buffers)) throw invalidArgument("buffers", "Expected an array of ArrayBufferViews.", "type");
    const table = iovecTable(buffers);
    this.#register(IORING_REGISTER_BUFFERS, addressOf(table), buffers.length, "registerBuffers", MEMLOCK_ADVICE);
    this.#registeredBuffers = buffers.slice();
    this.#registeredBufferTable = table;
  }

  /** Register `count` empty fixed-buffer slots, to fill later with buffer updates. Mirrors io_uring_register_buffers_sparse(). */
  registerBuffersSparse(count: number): void {
    const reg = new Uint32Array(w(RSRC_REGISTER.SIZE));
    reg[w(RSRC_REGISTER.nr)] = count;
    reg[w(RSRC_REGISTER.flags)] = IORING_RSRC_REGISTER_SPARSE;
    this.#register(IORING_REGISTER_BUFFERS2, addressOf(reg), RSRC_REGISTER.SIZE, "registerBuffersSparse", MEMLOCK_ADVICE);
    this.#registeredBuffers = [];
  }

  /** Mirrors io_uring_unregister_buffers(). The buffers are released to GC after the kernel let go of them. */
  unregisterBuffers(): void {
    this.#register(IORING_UNREGISTER_BUFFERS, null, 0, "unregisterBuffers");
    this.#registeredBuffers = null;
    this.#registeredBufferTable = null;
  }

  /** Register a fixed-file table (use index i with IOSQE_FIXED_FILE; -1 leaves a slot empty). Mirrors io_uring_register_files(). */
  registerFiles(fds: ArrayLike<number>): void {
    const table = fdTable(fds);
    this.#register(IORING_REGISTER_FILES, addressOf(table), table.length, "registerFiles");
  }

  /** Register an empty fixed-file table of `count` slots (for *_direct ops). Mirrors io_uring_register_files_sparse(). */
  registerFilesSparse(count: number): void {
    const reg = new Uint32Array(w(RSRC_REGISTER.SIZE));
    reg[w(RSRC_REGISTER.nr)] = count;
    reg[w(RSRC_REGISTER.flags)] = IORING_RSRC_REGISTER_SPARSE;
    this.#register(IORING_REGISTER_FILES2, addressOf(reg), RSRC_REGISTER.SIZE, "registerFilesSparse");
  }

  /** Replace fixed-file slots from `offset` on (-1 clears a slot). Returns how many were updated. Mirrors io_uring_register_files_update(). */
  registerFilesUpdate(offset: number, fds: ArrayLike<number>): number {
    count(offset, "offset");
    const table = fdTable(fds);
    const upd = new Uint32Array(w(RSRC_UPDATE.SIZE));
    upd[w(RSRC_UPDATE.offset)] = offset;
    setU64(upd, w(RSRC_UPDATE.data), addressOf(table));
    return this.#register(IORING_REGISTER_FILES_UPDATE, addressOf(upd), table.length, "registerFilesUpdate");
  }

  /** Mirrors io_uring_unregister_files(). */
  unregisterFiles(): void {
    this.#register(IORING_UNREGISTER_FILES, null, 0, "unregisterFiles");
  }

  /** Have the kernel signal `eventfd` on every completion (or only async ones). Mirrors io_uring_register_eventfd(). */
  registerEventfd(eventfd: number, options: { async?: boolean } = {}): void {
    const arg = Int32Array.of(eventfd);
    const op = options.async ? IORING_REGISTER_EVENTFD_ASYNC : IORING_REGISTER_EVENTFD;
    this.#register(op, addressOf(arg), 1, options.async ? "registerEventfdAsync" : "registerEventfd");
    this.#eventfd = eventfd;
  }

  /** Mirrors io_uring_unregister_eventfd(). */
  unregisterEventfd(): void {
    this.#register(IORING_UNREGISTER_EVENTFD, null, 0, "unregisterEventfd");
    this.#eventfd = -1;
  }

  /**
   * Register a provided-buffer ring of `entries` buffers of `bufferSize` bytes as group `bgid`.
   * The ring keeps it referenced until unregisterBufRing() or close(). `flags`: IOU_PBUF_RING_INC
   * for incremental consumption (Linux ≥ 6.12): a buffer is used piece by piece, and a CQE that
   * leaves some of it for the next one carries IORING_CQE_F_BUF_MORE.
   * Mirrors io_uring_setup_buf_ring(). Linux ≥ 5.19.
   */
  setupBufRing(bgid: number, entries: number, bufferSize: number, flags = 0): BufferRing {
    if (this.#bufRings.has(bgid)) throw invalidArgument("bgid", `Buffer group ${bgid} is registered already.`);
    const br = new BufferRing(bgid, entries, bufferSize, flags);
    this.#register(IORING_REGISTER_PBUF_RING, addressOf(br.registration()), 1, "setupBufRing", MEMLOCK_ADVICE);
    this.#bufRings.set(bgid, br);
    return br;
  }

  /** Mirrors io_uring_unregister_buf_ring(). */
  unregisterBufRing(bgid: number): void {
    const reg = new Uint32Array(w(BUF_REG.SIZE));
    reg[w(BUF_REG.bgid)] = bgid;
    this.#register(IORING_UNREGISTER_PBUF_RING, addressOf(reg), 1, "unregisterBufRing");
    this.#bufRings.delete(bgid);
  }

  /**
   * Cap io-wq's worker threads (0 leaves a limit as it is). Returns the previous limits.
   * Many blocking ops on one directory (creates, renames) contend on its lock; a few workers
   * do them faster than many. Mirrors io_uring_register_iowq_max_workers(). Linux ≥ 5.15.
   */
  registerIowqMaxWorkers(bounded: number, unbounded: number): [number, number] {
    const arg = Uint32Array.of(bounded, unbounded);
    this.#register(IORING_REGISTER_IOWQ_MAX_WORKERS, addressOf(arg), 2, "registerIowqMaxWorkers");
    return [arg[0]!, arg[1]!];
  }

  // ---------------------------------------------------------------- registration: the rest of io_uring_register_*

  /** Signal `eventfd` only for completions that did not finish inline. Mirrors io_uring_register_eventfd_async(). Linux ≥ 5.6. */
  registerEventfdAsync(eventfd: number): void {
    this.registerEventfd(eventfd, { async: true });
  }

  /**
   * Replace fixed-buffer slots from `offset` on with `buffers` (slots of a sparse table, or earlier
   * ones). Returns how many were updated. The ring keeps the buffers referenced until
   * unregisterBuffers() or close(). Mirrors io_uring_register_buffers_update_tag() without tags. Linux ≥ 5.13.
   */
  registerBuffersUpdate(offset: number, buffers: ArrayBufferView[]): number {
    if (!Array.isArray(buffers)) throw invalidArgument("buffers", "Expected an array of ArrayBufferViews.", "type");
    const table = iovecTable(buffers);
    const upd = rsrcUpdate2(offset, addressOf(table), buffers.length);
    const n = this.#register(IORING_REGISTER_BUFFERS_UPDATE, addressOf(upd), RSRC_UPDATE2_SIZE, "registerBuffersUpdate", MEMLOCK_ADVICE);
    (this.#registeredBuffers ??= []).push(...buffers);
    return n;
  }

  /**
   * Replace fixed-file slots from `offset` on (IORING_REGISTER_FILES_UPDATE2: the tagged form, no tags).
   * Returns how many were updated. Mirrors io_uring_register_files_update_tag() without tags. Linux ≥ 5.13.
   */
  registerFilesUpdateTag(offset: number, fds: ArrayLike<number>): number {
    const table = Int32Array.from(fds);
    const upd = rsrcUpdate2(offset, addressOf(table), table.length);
    return this.#register(IORING_REGISTER_FILES_UPDATE2, addressOf(upd), RSRC_UPDATE2_SIZE, "registerFilesUpdateTag");
  }

  /**
   * Have *_direct ops with IORING_FILE_INDEX_ALLOC pick slots only in [offset, offset + len).
   * Mirrors io_uring_register_file_alloc_range(). Linux ≥ 6.0.
   */
  registerFileAllocRange(offset: number, len: number): void {
    const range = Uint32Array.of(offset, len, 0, 0); // struct io_uring_file_index_range { off, len, resv u64 }
    this.#register(IORING_REGISTER_FILE_ALLOC_RANGE, addressOf(range), 0, "registerFileAllocRange");
  }

  /**
   * Register the ring fd with this thread: every io_uring_enter from now on passes its index and
   * IORING_ENTER_REGISTERED_RING, which spares the kernel an fd lookup per call. Returns the index.
   * Per thread: a handle attached in a Worker keeps entering by fd. Mirrors io_uring_register_ring_fd(). Linux ≥ 5.18.
   */
  registerRingFd(): number {
    if (this.#ringIndex >= 0) throw invalidArgument("ring", "The ring fd is registered already.");
    const upd = new Uint32Array(w(RSRC_UPDATE.SIZE));
    upd[w(RSRC_UPDATE.offset)] = 0xffffffff; // -1U: any free index
    setU64(upd, w(RSRC_UPDATE.data), this.fd);
    this.#register(IORING_REGISTER_RING_FDS, addressOf(upd), 1, "registerRingFd");
    this.#ringIndex = upd[w(RSRC_UPDATE.offset)]!;
    return this.#ringIndex;
  }

  /** Mirrors io_uring_unregister_ring_fd(). Linux ≥ 5.18. */
  unregisterRingFd(): void {
    if (this.#ringIndex < 0) throw invalidArgument("ring", "The ring fd is not registered.");
    const upd = new Uint32Array(w(RSRC_UPDATE.SIZE));
    upd[w(RSRC_UPDATE.offset)] = this.#ringIndex;
    this.#register(IORING_UNREGISTER_RING_FDS, addressOf(upd), 1, "unregisterRingFd");
    this.#ringIndex = -1;
  }

  /** The index registerRingFd() returned, or -1: io_uring_enter goes by fd. */
  get ringIndex(): number {
    return this.#ringIndex;
  }

  /**
   * Register the calling task's credentials; returns the personality id an SQE names in
   * `sqe.personality` to run with them. Mirrors io_uring_register_personality(). Linux ≥ 5.6.
   */
  registerPersonality(): number {
    return this.#register(IORING_REGISTER_PERSONALITY, null, 0, "registerPersonality");
  }

  /** Mirrors io_uring_unregister_personality(). Linux ≥ 5.6. */
  unregisterPersonality(id: number): void {
    this.#register(IORING_UNREGISTER_PERSONALITY, null, id, "unregisterPersonality");
  }

  /**
   * Limit what this ring may do, once, while it is disabled (created with `rDisabled: true`,
   * IORING_SETUP_R_DISABLED): register opcodes, SQE opcodes, and the IOSQE_* flags allowed or
   * required. Then enableRings(). Mirrors io_uring_register_restrictions(). Linux ≥ 5.10.
   */
  registerRestrictions(restrictions: readonly Restriction[]): void {
    if (!Array.isArray(restrictions)) throw invalidArgument("restrictions", "Expected an array of { kind, value }.", "type");
    // struct io_uring_restriction — 16 bytes: opcode u16, register_op/sqe_op/sqe_flags u8, resv u8, resv2 u32[3]
    const table = new Uint8Array(Math.max(1, restrictions.length) * 16);
    const kinds = { registerOp: IORING_RESTRICTION_REGISTER_OP, sqeOp: IORING_RESTRICTION_SQE_OP, sqeFlagsAllowed: IORING_RESTRICTION_SQE_FLAGS_ALLOWED, sqeFlagsRequired: IORING_RESTRICTION_SQE_FLAGS_REQUIRED } as const;
    restrictions.forEach((r, i) => {
      const kind = kinds[r?.kind as keyof typeof kinds];
      if (kind === undefined) throw invalidArgument(`restrictions[${i}].kind`, `Expected one of ${Object.keys(kinds).join(", ")}; got ${String(r?.kind)}.`);
      table[i * 16] = kind;
      table[i * 16 + 2] = r.value & 0xff;
    });
    this.#register(IORING_REGISTER_RESTRICTIONS, addressOf(table), restrictions.length, "registerRestrictions");
  }

  /** Start a ring created with IORING_SETUP_R_DISABLED (and lock in its restrictions). Mirrors io_uring_enable_rings(). Linux ≥ 5.10. */
  enableRings(): void {
    this.#register(IORING_REGISTER_ENABLE_RINGS, null, 0, "enableRings");
  }

  /**
   * The clock that waits (waitCqeTimeout) and IORING_ENTER_ABS_TIMER measure against:
   * CLOCK_MONOTONIC (1, the default) or CLOCK_BOOTTIME (7). Mirrors io_uring_register_clock(). Linux ≥ 6.12.
   */
  registerClock(clockid: number): void {
    const reg = Uint32Array.of(clockid, 0, 0, 0); // struct io_uring_clock_register { clockid, __resv[3] }
    this.#register(IORING_REGISTER_CLOCK, addressOf(reg), 0, "registerClock");
  }

  /**
   * The kernel's head of provided-buffer ring `bgid`: buffers before it have been consumed.
   * Mirrors io_uring_buf_ring_head(). Linux ≥ 6.8.
   */
  bufRingHead(bgid: number): number {
    const status = new Uint32Array(10); // struct io_uring_buf_status { buf_group, head, resv[8] }
    status[0] = bgid;
    this.#register(IORING_REGISTER_PBUF_STATUS, addressOf(status), 1, "bufRingHead");
    return status[1]!;
  }

  /** Which opcodes this kernel supports. Mirrors io_uring_get_probe_ring(). */
  probe(): Probe {
    const n = 256;
    const probe = new Uint8Array(PROBE.SIZE + n * PROBE.OP_SIZE);
    this.#register(IORING_REGISTER_PROBE, addressOf(probe), n, "probe");
    const lastOp = probe[PROBE.last_op]!;
    const opsLen = probe[PROBE.ops_len]!;
    const flags = new Uint16Array(opsLen);
    const dv = new DataView(probe.buffer, probe.byteOffset);
    for (let i = 0; i < opsLen; i++) flags[probe[PROBE.ops + i * PROBE.OP_SIZE + PROBE.op_op]!] = dv.getUint16(PROBE.ops + i * PROBE.OP_SIZE + PROBE.op_flags, true);
    return new Probe(lastOp, flags);
  }

  /** The low-level io_uring_register(2), for registrations without a helper. Returns ≥ 0 or throws. */
  register(opcode: number, arg: ArrayBufferView | null, nrArgs: number): number {
    return this.#register(opcode, arg ? addressOf(arg) : null, nrArgs, `opcode ${opcode}`);
  }

  // ------------------------------------------------------------------ teardown

  /** True once close() ran. */
  get closed(): boolean {
    return this.fd < 0;
  }

  /**
   * Tear the ring down: unmap the SQEs and rings (mmap mode), then close the fd.
   * Idempotent. Operations still in flight are cancelled by the kernel when the
   * fd closes, asynchronously: ring memory in SharedArrayBuffers, registered
   * buffers and provided-buffer rings are kept referenced for 10 s after close
   * for that reason; buffers of your own in-flight operations are yours to keep
   * (better: reap every CQE before closing, as `Uring.close()` does).
   * Mirrors io_uring_queue_exit().
   */
  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    this.#canSubmit = this.#canReap = false;
    // Point every pooled handle at an empty view first: a stale Sqe/Cqe then reads
    // undefined and writes nothing, instead of touching unmapped memory.
    const empty = new Uint32Array(0);
    for (const s of this.#sqePool) {
      s.u32 = empty;
      s.fresh = false; // prepNop() trusts a fresh handle's slot without a bounds check
    }
    for (const c of this.#cqePool) c.u32 = empty;
    this.#cqeCursor.u32 = empty;
    this.sqRing = this.cqRing = this.sqes = empty;
    // An attached handle only drops its views: the owner unmaps and closes.
    if (this.#attached) return;
    if (this.#memory.mode === "mmap") {
      unmapRegion(this.#memory.sqes);
      unmapRegion(this.#memory.sq);
    }
    // a registered ring fd holds its own reference to the ring: drop it, or the ring outlives close()
    if (this.#ringIndex >= 0) unregisterRingIndex(fd, this.#ringIndex);
    this.#ringIndex = -1;
    closeFd(fd);
    // The kernel tears a ring down asynchronously after its fd closes, posting CQEs for what it
    // cancels: memory it may still write — rings in SharedArrayBuffers, registered buffers,
    // provided-buffer rings — stays referenced for a while, so the GC cannot hand it to new objects
    // (or new rings) while the old ring still writes into it.
    holdAfterClose([
      this.#memory.mode === "shared" ? this.#memory : null,
      this.#registeredBuffers,
      this.#registeredBufferTable,
      [...this.#bufRings.values()],
    ]);
    this.#registeredBuffers = null;
    this.#registeredBufferTable = null;
    this.#bufRings.clear();
    this.#eventfd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** io_uring_setup() with the best layout the kernel takes, and the ring memory mapped or allocated. */
function setupRing(entries: number, options?: IoUringOptions): { fd: number; params: Uint32Array; memory: RingMemoryInfo } {
  if (typeof entries !== "number" || !Number.isInteger(entries)) {
    throw invalidArgument("entries", `Expected an integer; got ${String(entries)}.`, "type");
  }
  const o = parseOptions(IoUringOptionsSchema, options, "options");
  if (entries < 1 || (entries > KERN_MAX_ENTRIES && !o.clamp)) {
    throw invalidArgument("entries", `Expected 1 to ${KERN_MAX_ENTRIES} (or set clamp); got ${entries}.`, "range");
  }
  let flags = o.flags ?? 0;
  if (o.cqEntries !== undefined) {
    if (o.cqEntries < entries) {
      throw invalidArgument("options.cqEntries", `Must be ≥ entries (${entries}); got ${o.cqEntries}.`, "range");
    }
    flags |= IORING_SETUP_CQSIZE;
  }
  if (o.sqpoll) flags |= IORING_SETUP_SQPOLL;
  if (o.sqThreadCpu !== undefined) flags |= IORING_SETUP_SQ_AFF;
  if ((o.sqThreadIdle !== undefined || o.sqThreadCpu !== undefined) && !(flags & IORING_SETUP_SQPOLL)) {
    throw invalidArgument("options.sqThreadIdle", "sqThreadIdle and sqThreadCpu need sqpoll: true.", "value");
  }
  if (o.coopTaskrun) flags |= IORING_SETUP_COOP_TASKRUN;
  if (o.taskrunFlag) flags |= IORING_SETUP_TASKRUN_FLAG;
  if (o.singleIssuer) flags |= IORING_SETUP_SINGLE_ISSUER;
  if (o.deferTaskrun) flags |= IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER;
  if (o.submitAll) flags |= IORING_SETUP_SUBMIT_ALL;
  if (o.clamp) flags |= IORING_SETUP_CLAMP;
  if (o.rDisabled) flags |= IORING_SETUP_R_DISABLED;
  if (o.sqe128) flags |= IORING_SETUP_SQE128;
  if (o.cqe32) flags |= IORING_SETUP_CQE32;
  flags >>>= 0;

  // Sizes the kernel will choose (io_uring_setup rounds both up to powers of two).
  const clamp = (flags & IORING_SETUP_CLAMP) !== 0;
  const sqWant = roundupPow2(Math.min(entries, clamp ? KERN_MAX_ENTRIES : entries));
  let cqWant = 2 * sqWant;
  if (o.cqEntries !== undefined) cqWant = roundupPow2(Math.min(o.cqEntries, clamp ? KERN_MAX_CQ_ENTRIES : o.cqEntries));

  // Try the best layout first and fall back on EINVAL, as liburing does for NO_SQARRAY:
  // shared memory (NO_MMAP), without the SQ index array (NO_SQARRAY), then without each.
  const mode = o.memory ?? "auto";
  const userChoseNoSqArray = (flags & IORING_SETUP_NO_SQARRAY) !== 0;
  const attempts: SetupAttempt[] = [];
  for (const m of mode === "auto" ? (["shared", "mmap"] as const) : [mode]) {
    attempts.push({ flags: flags | IORING_SETUP_NO_SQARRAY, mode: m });
    if (!userChoseNoSqArray) attempts.push({ flags, mode: m });
  }

  const params = new Uint32Array(w(PARAMS.SIZE));
  const paramsAddr = addressOf(params);
  let fd = -EINVAL;
  let used: SetupAttempt = attempts[0]!;
  let shared: { rings: Region; sqes: Region } | null = null;
  for (const attempt of attempts) {
    params.fill(0);
    params[w(PARAMS.flags)] = attempt.flags;
    params[w(PARAMS.cq_entries)] = cqWant;
    params[w(PARAMS.sq_thread_idle)] = o.sqThreadIdle ?? 0;
    params[w(PARAMS.sq_thread_cpu)] = o.sqThreadCpu ?? 0;
    shared = null;
    if (attempt.mode === "shared") {
      const cqeSize = attempt.flags & IORING_SETUP_CQE32 ? 32 : 16;
      const sqeSize = attempt.flags & IORING_SETUP_SQE128 ? 128 : 64;
      const noSqArray = (attempt.flags & IORING_SETUP_NO_SQARRAY) !== 0;
      shared = {
        rings: allocShared(ringRegionBytes(sqWant, cqWant, cqeSize, !noSqArray)),
        sqes: allocShared(sqeRegionBytes(sqWant, sqeSize)),
      };
      params[w(PARAMS.flags)] = attempt.flags | IORING_SETUP_NO_MMAP;
      setU64(params, w(PARAMS.sq_off + SQ_OFF.user_addr), shared.sqes.address);
      setU64(params, w(PARAMS.cq_off + CQ_OFF.user_addr), shared.rings.address);
    }
    fd = ioUringSetup(entries, paramsAddr);
    used = attempt;
    if (fd !== -EINVAL) break;
  }
  if (fd < 0) {
    throw new UringError(fd, "io_uring_setup", { advice: setupAdvice(errnoName(fd)) });
  }

  const ringFlags = params[w(PARAMS.flags)]!;
  const sqEntries = params[w(PARAMS.sq_entries)]!;
  const cqEntries = params[w(PARAMS.cq_entries)]!;
  const sqOff = (f: number) => params[w(PARAMS.sq_off + f)]!;
  const cqOff = (f: number) => params[w(PARAMS.cq_off + f)]!;
  const sqeSize = ringFlags & IORING_SETUP_SQE128 ? 128 : 64;
  const cqeSize = ringFlags & IORING_SETUP_CQE32 ? 32 : 16;
  // The ring region must hold the CQEs and, without NO_SQARRAY, the SQ index array.
  const ringBytes = Math.max(
    cqOff(CQ_OFF.cqes) + cqEntries * cqeSize,
    ringFlags & IORING_SETUP_NO_SQARRAY ? 0 : sqOff(SQ_OFF.array) + sqEntries * 4,
  );
  const sqeBytes = sqEntries * sqeSize;
  const fail = (err: Error): never => {
    closeFd(fd);
    throw err;
  };

  if (used.mode === "shared") {
    const { rings, sqes } = shared!;
    if (ringBytes > rings.byteLength || sqeBytes > sqes.byteLength) {
      fail(
        new Error(
          `bun-uring: the kernel's ring layout (${ringBytes} B) does not fit the ${rings.byteLength} B allocated for it; ` +
            `use { memory: "mmap" } and report this kernel version`,
        ),
      );
    }
    return { fd, params, memory: { mode: "shared", sq: rings, cq: rings, sqes } };
  }
  if (!(params[w(PARAMS.features)]! & IORING_FEAT_SINGLE_MMAP)) {
    fail(new UringError(-EINVAL, "io_uring_setup", { advice: "this kernel lacks IORING_FEAT_SINGLE_MMAP (Linux ≥ 5.4 is required)." }));
  }
  const rings = mapRegion(fd, ringBytes, IORING_OFF_SQ_RING);
  if (typeof rings === "number") return fail(new UringError(rings, "mmap", { advice: "mapping the SQ/CQ rings failed." }));
  const sqes = mapRegion(fd, sqeBytes, IORING_OFF_SQES);
  if (typeof sqes === "number") {
    unmapRegion(rings);
    return fail(new UringError(sqes, "mmap", { advice: "mapping the SQE array failed." }));
  }
  return { fd, params, memory: { mode: "mmap", sq: rings, cq: rings, sqes } };
}

/** A count or flag word the kernel takes as u32: an integer 0 … 2^32−1 (NaN, −1 and 1.5 are errors, not 0 or 4 billion). */
function count(n: number, name: string): number {
  if (n >>> 0 !== n) throw invalidArgument(name, `Expected an integer from 0 to 4294967295; got ${String(n)}.`, typeof n === "number" ? "range" : "type");
  return n;
}

/** A fixed-file table: every entry an fd, or -1 for an empty slot (a string or NaN would have become fd 0). */
function fdTable(fds: ArrayLike<number>): Int32Array {
  if (fds === null || typeof fds !== "object" || typeof fds.length !== "number") {
    throw invalidArgument("fds", "Expected an array of file descriptors.", "type");
  }
  const table = new Int32Array(fds.length);
  for (let k = 0; k < fds.length; k++) {
    const fd = fds[k];
    if (typeof fd !== "number" || (fd | 0) !== fd) throw invalidArgument(`fds[${k}]`, `Expected a file descriptor or -1; got ${String(fd)}.`, "type");
    table[k] = fd;
  }
  return table;
}

/** Validate a SharedRing that came through postMessage. */
function checkShared(shared: SharedRing): SharedRing {
  const ok =
    shared !== null &&
    typeof shared === "object" &&
    Number.isInteger(shared.fd) &&
    shared.fd >= 0 &&
    Array.isArray(shared.params) &&
    shared.params.length === w(PARAMS.SIZE) &&
    shared.rings?.buffer instanceof SharedArrayBuffer &&
    shared.sqes?.buffer instanceof SharedArrayBuffer &&
    (shared.role === "reaper" || shared.role === "submitter" || shared.role === "both");
  if (!ok) throw invalidArgument("shared", "Expected the object ring.share() returned (fd, params, rings, sqes, role).", "type");
  return shared;
}

function roleError(message: string): Error {
  const err = new Error(`bun-uring: ${message}`);
  (err as { code?: string }).code = "ERR_URING_ROLE";
  return err;
}

/** How long a closed ring's memory stays referenced: the kernel's exit work finishes in milliseconds unless a request cannot be cancelled. */
const CLOSE_QUARANTINE_MS = 10_000;
const quarantine = new Set<unknown>();

function holdAfterClose(memory: unknown): void {
  quarantine.add(memory);
  const timer = setTimeout(() => quarantine.delete(memory), CLOSE_QUARANTINE_MS);
  (timer as { unref?: () => void }).unref?.(); // never keeps the process alive
}

/** ENOMEM from registering pinned memory: name RLIMIT_MEMLOCK and its current value. */
const MEMLOCK_ADVICE = (r: number): string | undefined =>
  r === -ENOMEM ? memlockAdvice("registered buffers are pinned memory") : undefined;

function enterAdvice(r: number, flags: number): string | undefined {
  if (r === -EEXIST && flags & (IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN))
    return (
      "this ring was created with IORING_SETUP_SINGLE_ISSUER (or DEFER_TASKRUN, which implies it): only the thread " +
      "that created it may submit or register. Create the ring without singleIssuer/deferTaskrun to share it."
    );
  if (r === -EBUSY)
    return "the completion queue is full and the kernel holds overflowed completions: reap CQEs (cqeSeen/cqAdvance), then submit again.";
  if (r === -EAGAIN) return "the kernel could not allocate memory for the request right now: reap completions and retry.";
  return undefined;
}

/** One restriction for registerRestrictions(): which register opcode / SQE opcode is allowed, or which IOSQE_* flags are allowed or required. */
export interface Restriction {
  kind: "registerOp" | "sqeOp" | "sqeFlagsAllowed" | "sqeFlagsRequired";
  /** The IORING_REGISTER_* / IORING_OP_* opcode, or the IOSQE_* flag bits. */
  value: number;
}

/** sizeof(struct io_uring_rsrc_update2): offset u32, resv u32, data u64, tags u64, nr u32, resv2 u32. */
const RSRC_UPDATE2_SIZE = 32;

function rsrcUpdate2(offset: number, data: number, nr: number): Uint32Array {
  const upd = new Uint32Array(RSRC_UPDATE2_SIZE / 4);
  upd[0] = offset;
  setU64(upd, 2, data);
  upd[6] = nr;
  return upd;
}

/** A struct iovec array describing `buffers` (each checked to be a view), for buffer registration. */
function iovecTable(buffers: ArrayBufferView[]): Uint32Array {
  const table = new Uint32Array(Math.max(1, buffers.length) * w(IOVEC.SIZE));
  buffers.forEach((b, i) => {
    const v = asView(b, `buffers[${i}]`);
    setU64(table, i * 4, addressOf(v));
    setU64(table, i * 4 + 2, v.byteLength);
  });
  return table;
}

/** IORING_UNREGISTER_RING_FDS for `index`, on a ring being closed (errors ignored: the fd goes anyway). */
function unregisterRingIndex(fd: number, index: number): void {
  const upd = new Uint32Array(w(RSRC_UPDATE.SIZE));
  upd[w(RSRC_UPDATE.offset)] = index;
  ioUringRegister(fd, IORING_UNREGISTER_RING_FDS, addressOf(upd), 1);
}
