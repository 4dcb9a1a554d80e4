/**
 * `Uring`: the safe Promise tier over the raw ring.
 *
 * - Operations requested in the same tick go to the kernel in one
 *   io_uring_enter (a microtask flush); completions that happen inline during
 *   that enter (page-cache reads, NOPs) are reaped right after it.
 * - Anything that does not complete inline is signalled through a registered
 *   non-blocking eventfd that Bun's own poller watches
 *   (`Bun.file(eventfd).stream()`), so nothing blocks the event loop. The
 *   stream exists only while operations are in flight: with nothing in
 *   flight no handle keeps the process alive.
 * - When the SQ is full, or `maxInFlight` operations are in the kernel,
 *   operations wait in a JS queue and go in as space frees.
 * - Every buffer, iovec, path, timespec and sockaddr an operation points at
 *   is held by the operation record until its final CQE, even after an abort
 *   has rejected the promise.
 */
import type { z } from "zod";
import { closeFd, eventfdCreate, getsockname, setsockopt } from "../ffi/syscalls.ts";
import { BufferRing } from "./bufring.ts";
import {
  AF_INET,
  AF_INET6,
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_REMOVEDIR,
  AT_SYMLINK_NOFOLLOW,
  IORING_ACCEPT_MULTISHOT,
  IORING_ASYNC_CANCEL_ANY,
  IORING_CQE_F_MORE,
  IORING_FSYNC_DATASYNC,
  IORING_OP_ACCEPT,
  IORING_OP_ASYNC_CANCEL,
  IORING_OP_BIND,
  IORING_OP_CLOSE,
  IORING_OP_CONNECT,
  IORING_OP_FALLOCATE,
  IORING_OP_FSYNC,
  IORING_OP_FTRUNCATE,
  IORING_OP_LINKAT,
  IORING_OP_LISTEN,
  IORING_OP_MKDIRAT,
  IORING_OP_NOP,
  IORING_OP_OPENAT,
  IORING_OP_READ,
  IORING_OP_READV,
  IORING_OP_RECV,
  IORING_OP_RENAMEAT,
  IORING_OP_SEND,
  IORING_OP_SHUTDOWN,
  IORING_OP_SOCKET,
  IORING_OP_STATX,
  IORING_OP_SYMLINKAT,
  IORING_OP_TIMEOUT,
  IORING_OP_UNLINKAT,
  IORING_OP_WRITE,
  IORING_OP_WRITEV,
  IORING_RECV_MULTISHOT,
  IORING_SETUP_DEFER_TASKRUN,
  IORING_TIMEOUT_ETIME_SUCCESS,
  IOSQE_BUFFER_SELECT,
  IOSQE_CQE_SKIP_SUCCESS,
  IOSQE_IO_HARDLINK,
  IOSQE_IO_LINK,
  O_CLOEXEC,
  O_CREAT,
  O_TRUNC,
  O_WRONLY,
  SOCK_CLOEXEC,
  SOCK_STREAM,
  STATX_BASIC_STATS,
  STATX_BTIME,
} from "./constants.ts";
import { abortError as nodeAbortError, ERRNO, invalidArgument, UringError, withPathAsync } from "./errors.ts";
import { addressOf, addressOfOwned } from "./memory.ts";
import { type IoUringOptions, IoUringOptionsSchema, lazySchema, parseOptions, trusted } from "./options.ts";
import { cString } from "./prep.ts";
import { IoUring } from "./ring.ts";
import { parseSockaddr, SOCKADDR_STORAGE_SIZE, type SocketAddress, sockaddr } from "./sockaddr.ts";
import { type Cqe, CQW, setU64, type Sqe, SQW, type U64 } from "./sqe.ts";
import { parseStatx, type UringStats } from "./stats.ts";
import { IoVecs, Timespec } from "./structs.ts";

const { ETIME, ENOBUFS, ECANCELED, EEXIST, ENOENT } = ERRNO;

/** Options of `new Uring()`: every `IoUring` option, plus the ring size and the in-flight cap. */
export const UringOptionsSchema = lazySchema((z) =>
  z
  .object({
    ...IoUringOptionsSchema().shape,
    /** SQ entries (the CQ is twice that unless cqEntries says otherwise). Default 256. */
    entries: z.number().int().min(1).max(32768).optional(),
    /** At most this many operations in the kernel at once; the rest wait in a JS queue. Default: the CQ size. */
    maxInFlight: z.number().int().min(1).optional(),
  })
  .strict(),
);

export type UringOptions = z.input<ReturnType<typeof UringOptionsSchema>>;

/** Per-call options every method takes. */
export interface OpOptions {
  /** Abort the operation: it is cancelled in the kernel (IORING_OP_ASYNC_CANCEL) and the promise rejects with an AbortError. */
  signal?: AbortSignal;
  /** Abort after this many milliseconds, rejecting with a TimeoutError. */
  timeout?: number;
}

/** A step of `io.link()`: an operation described as data, submitted later as part of a chain. */
export type LinkStep =
  | { op: "nop" }
  | { op: "read"; fd: number; buffer: ArrayBufferView; position?: number | bigint | null }
  | { op: "write"; fd: number; buffer: ArrayBufferView; position?: number | bigint | null }
  | { op: "fsync"; fd: number; datasync?: boolean }
  | { op: "close"; fd: number }
  | { op: "sleep"; ms: number }
  | { op: "open"; path: string; flags?: number; mode?: number };

/** The record of one operation, from request to final CQE. Plain fields for a stable shape. */
class Op {
  /**
   * While the op is in the kernel, its user_data is two u32 words: low = its slot, high = the
   * slot's generation (21 bits, so the 64-bit value stays exact as a number). Kept as two small
   * ints: one double-valued id overflowed int32 after 128 reuses of a slot and sent the JIT into a
   * deoptimisation loop (~140 ns per op).
   */
  gen = 0;
  slot = -1;
  opcode = 0;
  fd = 0;
  addr = 0;
  len = 0;
  off: U64 = 0;
  opFlags = 0;
  sqeFlags = 0;
  ioprio = 0;
  bufIndex = 0;
  fileIndex = 0;
  /** What the kernel may touch: held until the final CQE. */
  keep: unknown = undefined;
  name = "";
  path: string | undefined = undefined;
  dest: string | undefined = undefined;
  resolve: (v: never) => void = noop;
  reject: (e: unknown) => void = noop;
  /** Turns a successful res into the promised value. */
  map: ((res: number, flags: number) => unknown) | null = null;
  /** A result that counts as success although negative (−ETIME for a sleep). */
  okRes = 1;
  /** Multishot: called for every CQE, the final one included. */
  each: ((res: number, flags: number) => void) | null = null;
  /** Raw ops (`enqueue`): the caller fills the SQE ... */
  prep: ((sqe: Sqe) => void) | null = null;
  /** ... and gets the final CQE by callback instead of a promise. */
  done: ((res: number, flags: number) => void) | null = null;
  /** Internal ops (cancel requests) have no promise. */
  internal = false;
  settled = false;
  inKernel = false;
  /** Queued ops that were aborted before reaching the kernel are skipped. */
  dropped = false;
  /** The rest of a link chain, submitted together with this op (only on the chain's first op). */
  chain: Op[] | null = null;
  cleanup: (() => void) | null = null;
  /** Nothing but the engine refers to it after its final CQE: it may be reused for a later op. */
  recyclable = false;
  /** The executor of this op's promise, made once per Op (Ops are reused): it only takes the resolvers. */
  readonly executor = (resolve: (v: never) => void, reject: (e: unknown) => void): void => {
    this.resolve = resolve;
    this.reject = reject;
  };

  /** Back to the state of `new Op()`, for reuse. */
  reset(): void {
    this.gen = 0;
    this.slot = -1;
    this.fd = 0;
    this.addr = 0;
    this.len = 0;
    this.off = 0;
    this.opFlags = 0;
    this.sqeFlags = 0;
    this.ioprio = 0;
    this.bufIndex = 0;
    this.fileIndex = 0;
    this.keep = undefined;
    this.path = undefined;
    this.dest = undefined;
    this.resolve = noop;
    this.reject = noop;
    this.map = null;
    this.okRes = 1;
    this.settled = false;
    this.inKernel = false;
    this.dropped = false;
    this.recyclable = false;
  }
}

function noop(): void {}

const GEN_MASK = 0x1fffff;

/**
 * Received messages up to SLAB_MAX bytes are copied into shared slabs of SLAB_SIZE (larger ones get
 * an ArrayBuffer of their own). Small, as Node's Buffer pool is: a message kept for long keeps its
 * whole slab alive.
 */
const SLAB_SIZE = 16 * 1024;
const SLAB_MAX = 2048;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabBytes = new Uint8Array(slab);
let slabUsed = 0;

/** A copy of `from`, in a slab or (past SLAB_MAX bytes) an ArrayBuffer of its own (see recvMany). */
function copyOut(from: Uint8Array): Uint8Array {
  const len = from.length;
  if (len > SLAB_MAX) return new Uint8Array(from.buffer.slice(from.byteOffset, from.byteOffset + len));
  if (slabUsed + len > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabBytes = new Uint8Array(slab);
    slabUsed = 0;
  }
  slabBytes.set(from, slabUsed);
  const view = new Uint8Array(slab, slabUsed, len);
  slabUsed = (slabUsed + len + 7) & ~7;
  return view;
}

/**
 * GETEVENTS enters in a row that reap nothing while the kernel still has task work (a fresh
 * IORING_SQ_TASKRUN), before a flush lets the event loop have a turn and then goes on. Each enter
 * runs a bounded batch of task work (IO_LOCAL_TW_DEFAULT_MAX, 20 items, per run).
 */
const MAX_IDLE_TASKRUN_ROUNDS = 8;

/** The error an aborted op rejects with: our own TimeoutError as it is, else a Node-style AbortError. */
function abortError(reason: unknown): Error {
  if (reason instanceof Error && reason.name === "TimeoutError") return reason;
  return nodeAbortError(reason);
}

function timeoutError(ms: number): Error {
  const err = new Error(`The operation timed out after ${ms} ms`);
  err.name = "TimeoutError";
  (err as { code?: string }).code = "ETIMEDOUT";
  return err;
}

function closedError(method: string): Error {
  const err = new Error(`bun-uring: ${method}() called on a closed Uring`);
  (err as { code?: string }).code = "ERR_URING_CLOSED";
  return err;
}

function checkFd(fd: unknown, name = "fd"): number {
  if (typeof fd !== "number" || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw invalidArgument(name, `Expected a file descriptor (an integer ≥ 0); got ${String(fd)}.`, typeof fd === "number" ? "range" : "type");
  }
  return fd;
}

function checkBuffer(buf: unknown, name = "buffer"): ArrayBufferView {
  if (!ArrayBuffer.isView(buf)) throw invalidArgument(name, `Expected a TypedArray, Buffer or DataView; got ${typeof buf}.`, "type");
  if ((buf.buffer as ArrayBuffer).detached) throw invalidArgument(name, "The buffer is detached.");
  return buf;
}

/** A file mode for open/mkdir: an integer 0 … 0o7777 (NaN would have created the file with mode 0). */
function checkMode(mode: unknown): number {
  if (typeof mode !== "number" || !Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw invalidArgument("mode", `Expected an integer from 0 to 0o7777; got ${String(mode)}.`, typeof mode === "number" ? "range" : "type");
  }
  return mode;
}

/**
 * An integer argument the kernel takes as it is (flags, a socket domain, a backlog): NaN, a
 * fraction or an out-of-range number would otherwise reach the SQE as some other value (NaN as 0).
 */
function checkInt(value: unknown, name: string, min = 0, max = 0xffffffff): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(name, `Expected an integer from ${min} to ${max}; got ${String(value)}.`, typeof value === "number" ? "range" : "type");
  }
  return value;
}

/** A file position: null/undefined/−1 means "the current position" (like node:fs). */
function checkPosition(position: unknown): U64 {
  if (position === undefined || position === null || position === -1 || position === -1n) return -1;
  if (typeof position === "number" && Number.isSafeInteger(position) && position >= 0) return position;
  if (typeof position === "bigint" && position >= 0n && position < 2n ** 63n) return position;
  throw invalidArgument("position", `Expected an integer ≥ 0, or null for the current position; got ${String(position)}.`, "range");
}

function checkPath(path: unknown, name = "path"): string {
  if (typeof path !== "string") throw invalidArgument(name, `Expected a string; got ${typeof path}.`, "type");
  if (path.length === 0) throw invalidArgument(name, "Expected a non-empty path.");
  return path;
}

/** Open flags as node:fs takes them: a number, or "r", "r+", "w", "w+", "a", "a+", "wx", … */
export function parseOpenFlags(flags: string | number | undefined): number {
  if (flags === undefined) return 0;
  if (typeof flags === "number") return checkInt(flags, "flags", 0, 0x7fffffff);
  const table: Record<string, number> = {
    r: 0,
    "r+": 2,
    rs: 0o4010000,
    "rs+": 0o4010002,
    w: 0o1101,
    wx: 0o1301,
    "w+": 0o1102,
    "wx+": 0o1302,
    a: 0o2101,
    ax: 0o2301,
    "a+": 0o2102,
    "ax+": 0o2302,
  };
  const f = typeof flags === "string" ? table[flags] : undefined;
  if (f === undefined) throw invalidArgument("flags", `Expected a number or one of ${Object.keys(table).join(", ")}; got ${String(flags)}.`);
  return f;
}

/** The reader of `Bun.file(eventfd).stream()`: only read() and cancel() are used. */
interface EventfdReader {
  read(): Promise<{ done: boolean }>;
  cancel(): Promise<void>;
}

/**
 * The ring under a Uring. Unless the caller chose how task work runs, ask for
 * SINGLE_ISSUER | DEFER_TASKRUN | TASKRUN_FLAG (Linux ≥ 6.1): completions that need task work (sockets, io-wq)
 * are then run when this thread enters the kernel to reap — which the Uring does on every
 * eventfd wake-up — instead of interrupting the thread for each one (measured: the echo server
 * goes from 0.45× to ~0.9× of Bun.listen). A Uring is used from one thread anyway. Older kernels
 * refuse the flags with EINVAL: then the ring is made without them.
 */
function makeRing(entries: number, options: IoUringOptions): IoUring {
  const chose =
    options.deferTaskrun !== undefined ||
    options.singleIssuer !== undefined ||
    options.coopTaskrun !== undefined ||
    options.taskrunFlag !== undefined ||
    options.sqpoll !== undefined ||
    options.flags !== undefined;
  // DEFER_TASKRUN without TASKRUN_FLAG would leave the flush loop blind to task work a run left
  // over, which nothing else ever signals: the ops behind it would never settle. However it was
  // asked for (the option, or raw `flags`), DEFER_TASKRUN comes with the flag.
  const defer = options.deferTaskrun === true || ((options.flags ?? 0) & IORING_SETUP_DEFER_TASKRUN) !== 0;
  // `options` passed the Uring's own parse: the IoUring takes them without a second one
  if (chose) return new IoUring(entries, trusted(defer ? { ...options, taskrunFlag: true } : { ...options }));
  try {
    return new IoUring(entries, trusted({ ...options, deferTaskrun: true, taskrunFlag: true }));
  } catch (e) {
    if ((e as UringError).code !== "EINVAL") throw e;
    return new IoUring(entries, trusted({ ...options }));
  }
}

/** How long close() waits for cancelled operations to complete. */
const CLOSE_TIMEOUT_MS = 5000;

/** Ops still in the kernel when their Uring gave up waiting: held forever, never freed under the kernel. */
const unfinished = new Set<Op>();

/** The shared default instance, created on first use. */
let defaultInstance: Uring | null = null;

/**
 * The safe, Promise-based io_uring API. Methods are named like `node:fs/promises`
 * where a twin exists, and reject with `UringError` (`code`, `errno`, `syscall`, `path`).
 *
 * @example
 * ```ts
 * await using io = new Uring();
 * const text = await io.readFile("/etc/hostname", { encoding: "utf8" });
 * ```
 */
export class Uring {
  /** The raw ring underneath (for registrations and inspection; submitting on it directly bypasses the safe tier). */
  readonly ring: IoUring;
  /** Operations in the kernel at most; the rest queue in JS. */
  readonly maxInFlight: number;
  #efd: number;
  readonly #slots: (Op | undefined)[] = [];
  readonly #gens: number[] = [];
  readonly #freeSlots: number[] = [];
  #inKernel = 0;
  #queue: Op[] = [];
  #queueHead = 0;
  /** Finished plain ops, reused by #newOp (no signal, timeout, chain or callback ever saw them). */
  readonly #spareOps: Op[] = [];
  #flushScheduled = false;
  #lastYield = performance.now();
  #reader: EventfdReader | null = null;
  #closing: Promise<void> | null = null;
  /** close() waits on this: called when nothing is queued or in the kernel. */
  #drained: (() => void) | null = null;
  #disarmScheduled = false;
  readonly #deferTaskrun: boolean;
  readonly #flush = () => this.#flushNow();
  /** The same flush from the macrotask queue: the event loop has had its turn. */
  readonly #flushAfterYield = () => {
    this.#lastYield = performance.now();
    this.#flushNow();
  };
  readonly #onCqe = (cqe: Cqe) => {
    const u = cqe.u32;
    const i = cqe.i;
    this.#complete(u[i + CQW.userData]!, u[i + CQW.userData + 1]!, u[i + CQW.res]! | 0, u[i + CQW.flags]!);
  };
  #nextBgid = 0;
  readonly #freeBgids: number[] = [];
  /** Armed multishot requests: in the kernel for as long as they live, so not counted against maxInFlight. */
  #multishotInKernel = 0;

  constructor(options?: UringOptions) {
    const o = parseOptions(UringOptionsSchema, options, "options");
    const { entries = 256, maxInFlight, ...ringOptions } = o;
    this.ring = makeRing(entries, ringOptions);
    this.maxInFlight = maxInFlight ?? this.ring.cqEntries;
    this.#deferTaskrun = (this.ring.flags & IORING_SETUP_DEFER_TASKRUN) !== 0;
    const efd = eventfdCreate(0, 0o4000 | 0o2000000 /* EFD_NONBLOCK | EFD_CLOEXEC */);
    if (efd < 0) {
      this.ring.close();
      throw new UringError(efd, "eventfd");
    }
    this.#efd = efd;
    try {
      this.ring.registerEventfd(efd);
    } catch (e) {
      closeFd(efd);
      this.ring.close();
      throw e;
    }
  }

  /** A lazily created instance shared by scripts that don't want to manage one. Recreated if closed. */
  static default(): Uring {
    if (!defaultInstance || defaultInstance.closed) defaultInstance = new Uring();
    return defaultInstance;
  }

  /** True once close() has started. */
  get closed(): boolean {
    return this.#closing !== null;
  }

  /** Operations in the kernel now. */
  get inFlight(): number {
    return this.#inKernel;
  }

  /** Operations waiting in the JS queue for SQ space. */
  get queued(): number {
    return this.#queue.length - this.#queueHead;
  }

  // ------------------------------------------------------------------ the engine

  #newOp(opcode: number, name: string): Op {
    const op = this.#spareOps.pop() ?? new Op();
    op.opcode = opcode;
    op.name = name;
    return op;
  }

  /** Queue `op` (and its chain) and schedule a flush; returns the op's promise. */
  #start<T>(op: Op, opts: OpOptions | undefined): Promise<T> {
    if (this.#closing) return Promise.reject(closedError(op.name));
    const p = new Promise<T>(op.executor as (resolve: (v: T) => void, reject: (e: unknown) => void) => void);
    if (opts !== undefined) this.#watch(op, opts);
    else if (op.chain === null && op.prep === null && op.each === null && op.done === null) op.recyclable = true;
    if (!op.settled) this.#enqueue(op);
    return p;
  }

  /** Wire an op to its AbortSignal and timeout. */
  #watch(op: Op, opts: OpOptions): void {
    const { signal, timeout } = opts;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw invalidArgument("options.signal", "Expected an AbortSignal.", "type");
    }
    if (timeout !== undefined && (typeof timeout !== "number" || !(timeout >= 0) || !Number.isFinite(timeout))) {
      throw invalidArgument("options.timeout", `Expected a finite number of ms ≥ 0; got ${String(timeout)}.`, "range");
    }
    if (signal?.aborted) {
      op.settled = true;
      op.reject(abortError(signal.reason));
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => this.#abort(op, abortError(signal!.reason));
    if (signal) signal.addEventListener("abort", onAbort, { once: true });
    if (timeout !== undefined) timer = setTimeout(() => this.#abort(op, timeoutError(timeout)), timeout);
    op.cleanup = () => {
      if (signal) signal.removeEventListener("abort", onAbort);
      if (timer !== undefined) clearTimeout(timer);
    };
  }

  #enqueue(op: Op): void {
    this.#queue.push(op);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // A loop of awaits on inline completions would otherwise run entirely in microtasks and
    // starve timers and I/O: every 10 ms, go through the macrotask queue once.
    if (performance.now() - this.#lastYield > 10) setImmediate(this.#flushAfterYield);
    else queueMicrotask(this.#flush);
  }

  /** Submit what is queued, reap what completed, repeat while either makes progress. */
  #flushNow(): void {
    this.#flushScheduled = false;
    const ring = this.ring;
    if (ring.closed) return;
    let idleRounds = 0;
    for (;;) {
      const moved = this.#fill();
      // With DEFER_TASKRUN completions are only posted when this thread enters with GETEVENTS, and
      // one such enter runs a bounded batch of the pending task work: keep entering while rounds
      // still reap. (The kernel signals the eventfd only when its work list goes from empty to
      // non-empty: leaving work behind would mean no wake-up ever again.)
      const getEvents = this.#deferTaskrun && this.#inKernel > 0;
      if (ring.sqReady() > 0 || getEvents) {
        try {
          if (getEvents) ring.submitAndGetEvents();
          else ring.submit();
        } catch (e) {
          // EBUSY/EAGAIN: the kernel wants completions reaped first; anything else is a bug in a
          // submitted SQE we cannot attribute — fail every op still waiting for the kernel.
          const code = (e as { code?: string }).code;
          if (code !== "EBUSY" && code !== "EAGAIN") this.#failUnsubmitted(e);
        }
      }
      const reaped = this.#reap();
      if (moved > 0 || reaped > 0) {
        idleRounds = 0;
        continue;
      }
      // Task work can complete without posting a CQE (a link step handing on to a step that then
      // waits, a poll re-arming), and one enter runs only a bounded batch of it. The kernel leaves
      // the rest with IORING_SQ_TASKRUN up and signals the eventfd only when work is queued on an
      // empty list (io_req_local_work_add) or a CQE is posted — never for work a run left over — so
      // with DEFER_TASKRUN we must enter until the flag stays down, or that work (say, the issue of
      // a chain's next read) waits for good. The flag alone can be stale: a queueing racing with a
      // run raises it after the run took the work, and nothing lowers it until the next run; an
      // echo server once spun in io_uring_enter on such a flag. So lower it before entering again:
      // up after that enter means the kernel really has work left (or new work, also signalled).
      if (!(getEvents && ring.taskrunPending())) break;
      ring.clearTaskrunFlag();
      if (++idleRounds < MAX_IDLE_TASKRUN_ROUNDS) continue;
      // Much work that posts nothing: let the event loop have a turn, then go on (the flag is
      // exact now, so this repeats only while the kernel truly has work left).
      this.#flushScheduled = true;
      setImmediate(this.#flushAfterYield);
      break;
    }
    this.#updateWatcher();
  }

  /** Move queued ops into SQEs while the SQ has room and maxInFlight allows. */
  #fill(): number {
    const ring = this.ring;
    let moved = 0;
    const q = this.#queue;
    while (this.#queueHead < q.length) {
      const op = q[this.#queueHead]!;
      if (op.dropped) {
        this.#queueHead++;
        continue;
      }
      const n = op.chain ? op.chain.length + 1 : 1;
      const busy = this.#inKernel - this.#multishotInKernel;
      if (busy + n > this.maxInFlight && busy > 0) break;
      if (ring.sqSpaceLeft() < n) break;
      this.#queueHead++;
      this.#toSqe(op);
      if (op.chain) for (const step of op.chain) this.#toSqe(step);
      moved += n;
    }
    if (this.#queueHead === q.length) {
      q.length = 0;
      this.#queueHead = 0;
    } else if (this.#queueHead > 1024 && this.#queueHead * 2 > q.length) {
      this.#queue = q.slice(this.#queueHead);
      this.#queueHead = 0;
    }
    return moved;
  }

  /** Give `op` a slot and write its SQE. */
  #toSqe(op: Op): void {
    let slot = this.#freeSlots.pop();
    if (slot === undefined) {
      slot = this.#slots.length;
      this.#slots.push(undefined);
      this.#gens.push(0);
    }
    const gen = (this.#gens[slot]! + 1) & GEN_MASK;
    this.#gens[slot] = gen;
    op.slot = slot;
    op.gen = gen;
    op.inKernel = true;
    this.#slots[slot] = op;
    this.#inKernel++;
    if (op.each !== null) this.#multishotInKernel++;
    if (op.prep !== null) {
      const sqe = this.ring.getSqe()!; // zeroed: the caller's prep* helper fills it
      op.prep(sqe);
      // IOSQE_CQE_SKIP_SUCCESS would leave a step that succeeds without its final CQE: its slot and
      // `keep` held for good, inFlight never back to 0 (the process would not exit), and close()
      // waiting out its timeout. The safe queue needs every final CQE, so the bit is dropped.
      sqe.flags = (sqe.flags | op.sqeFlags) & ~IOSQE_CQE_SKIP_SUCCESS;
      sqe.u32[sqe.i + SQW.userData] = slot;
      sqe.u32[sqe.i + SQW.userData + 1] = gen;
      return;
    }
    const sqe = this.ring.unsafeGetSqe()!; // every word is written below
    const u = sqe.u32;
    const i = sqe.i;
    u[i] = op.opcode | (op.sqeFlags << 8) | (op.ioprio << 16);
    u[i + SQW.fd] = op.fd;
    setU64(u, i + SQW.off, op.off);
    setU64(u, i + SQW.addr, op.addr);
    u[i + SQW.len] = op.len;
    u[i + SQW.opFlags] = op.opFlags;
    u[i + SQW.userData] = slot;
    u[i + SQW.userData + 1] = gen;
    u[i + SQW.bufIndex] = op.bufIndex;
    u[i + SQW.fileIndex] = op.fileIndex;
    u[i + SQW.addr3] = 0;
    u[i + SQW.addr3 + 1] = 0;
    u[i + SQW.pad2] = 0;
    u[i + SQW.pad2 + 1] = 0;
  }

  /** Reap every ready CQE (flushing the kernel's overflow backlog too). */
  #reap(): number {
    let total = 0;
    for (;;) {
      const n = this.ring.forEachCqe(this.#onCqe);
      total += n;
      if (n === 0) return total;
    }
  }

  #complete(slot: number, gen: number, res: number, flags: number): void {
    const op = this.#slots[slot];
    if (op === undefined || op.gen !== gen) return; // not ours (a stale or foreign CQE)
    if (flags & IORING_CQE_F_MORE) {
      op.each?.(res, flags);
      return;
    }
    // the final CQE: the kernel is done with everything the op pointed at
    this.#slots[slot] = undefined;
    this.#freeSlots.push(slot);
    this.#inKernel--;
    op.inKernel = false;
    if (op.each !== null) {
      this.#multishotInKernel--;
      op.each(res, flags);
    }
    op.keep = undefined;
    if (op.done !== null) {
      try {
        op.done(res, flags);
      } catch (e) {
        // a callback's bug must not stop the reaping of the other CQEs: report it asynchronously
        queueMicrotask(() => {
          throw e;
        });
      }
      return;
    }
    if (op.internal) return;
    this.#settle(op, res, flags);
    if (op.recyclable && this.#spareOps.length < 256) {
      op.reset();
      this.#spareOps.push(op);
    }
  }

  #settle(op: Op, res: number, flags: number): void {
    if (op.cleanup !== null) op.cleanup();
    if (op.settled) return;
    op.settled = true;
    if (res >= 0 || res === op.okRes) {
      op.resolve((op.map !== null ? op.map(res, flags) : res) as never);
    } else {
      const details: { path?: string; dest?: string } = {};
      if (op.path !== undefined) details.path = op.path;
      if (op.dest !== undefined) details.dest = op.dest;
      op.reject(new UringError(res, op.name, details));
    }
  }

  /** Reject now; cancel in the kernel if the op got there (its buffers stay held until its CQE). */
  #abort(op: Op, err: Error): void {
    if (op.settled) return;
    op.settled = true;
    if (op.cleanup !== null) op.cleanup();
    op.reject(err);
    if (op.chain) for (const step of op.chain) this.#abort(step, err);
    if (!op.inKernel) {
      op.dropped = true;
      return;
    }
    if (this.ring.closed) return;
    const cancel = this.#newOp(IORING_OP_ASYNC_CANCEL, "async_cancel");
    cancel.internal = true;
    cancel.fd = -1;
    cancel.addr = op.slot + op.gen * 2 ** 32; // its user_data (≤ 2^53: exact)
    this.#enqueue(cancel);
  }

  /** Fail ops that are still queued (used when the ring refuses submissions for good). */
  #failUnsubmitted(e: unknown): void {
    const q = this.#queue;
    const errno = e instanceof UringError ? e.errno : -ECANCELED;
    for (let k = this.#queueHead; k < q.length; k++) this.#failQueued(q[k]!, e, errno);
    q.length = 0;
    this.#queueHead = 0;
  }

  /** An op (and its chain) that will never reach the kernel: reject it, or tell a raw op's callback. */
  #failQueued(head: Op, e: unknown, errno: number): void {
    if (head.dropped) return;
    head.dropped = true;
    for (const op of head.chain ? [head, ...head.chain] : [head]) {
      if (op.done !== null) {
        const done = op.done;
        op.done = null;
        done(errno, 0);
        continue;
      }
      if (op.settled || op.internal) continue;
      op.settled = true;
      op.cleanup?.();
      op.reject(e);
    }
  }

  /** Arm the eventfd stream while anything is in the kernel; drop it when nothing is, so the process can exit. */
  #updateWatcher(): void {
    if (this.#inKernel > 0 || this.queued > 0) {
      if (this.#reader === null) {
        const reader: EventfdReader = Bun.file(this.#efd).stream().getReader();
        this.#reader = reader;
        void this.#readLoop(reader);
      }
    } else {
      // Idle: drop the eventfd stream so nothing keeps the process alive — but not at once: busy
      // programs go idle between ticks all the time, and a stream costs far more to make than to
      // keep. One setImmediate later (which lets the process exit just the same), if still idle.
      if (this.#reader !== null && !this.#disarmScheduled) {
        this.#disarmScheduled = true;
        setImmediate(this.#disarmIfIdle);
      }
      const drained = this.#drained;
      this.#drained = null;
      drained?.();
    }
  }

  readonly #disarmIfIdle = () => {
    this.#disarmScheduled = false;
    if (this.#reader === null || this.#inKernel > 0 || this.queued > 0) return;
    const reader = this.#reader;
    this.#reader = null;
    void reader.cancel().catch(noop);
  };

  async #readLoop(reader: EventfdReader): Promise<void> {
    for (;;) {
      let r: { done: boolean };
      try {
        r = await reader.read();
      } catch {
        return;
      }
      if (r.done || this.#reader !== reader) return;
      this.#lastYield = performance.now();
      if (!this.#flushScheduled) this.#flushNow();
    }
  }

  // ------------------------------------------------------------------ lifecycle

  /**
   * Cancel everything in flight, wait for every CQE (so the kernel has let go of every buffer),
   * then tear the ring down. Queued and in-flight promises reject with an AbortError. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const err = abortError(new Error("Uring closed"));
    // ops that never reached the kernel
    for (let k = this.#queueHead; k < this.#queue.length; k++) this.#failQueued(this.#queue[k]!, err, -ECANCELED);
    // everything in the kernel: one cancel-any, then wait for all final CQEs
    for (const op of this.#slots) {
      if (op && !op.settled && !op.internal) {
        op.settled = true;
        op.cleanup?.();
        op.reject(err);
      }
    }
    if (this.#inKernel > 0) {
      const cancel = this.#newOp(IORING_OP_ASYNC_CANCEL, "async_cancel");
      cancel.internal = true;
      cancel.fd = -1;
      cancel.opFlags = IORING_ASYNC_CANCEL_ANY;
      const drained = new Promise<void>((resolve) => (this.#drained = resolve));
      this.#queue.push(cancel);
      this.#flushNow();
      // The eventfd wakes us as the cancelled ops complete; each wake reaps, and the last one resolves `drained`.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const gaveUp = await Promise.race([
        drained.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), CLOSE_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      if (gaveUp) {
        // Something the kernel will not cancel (a blocking op on a file that ignores signals):
        // keep those ops' buffers referenced for the life of the process rather than free memory
        // the kernel may still write.
        for (const op of this.#slots) if (op) unfinished.add(op);
      }
    }
    if (this.#reader) {
      const reader = this.#reader;
      this.#reader = null;
      await reader.cancel().catch(noop);
    }
    this.ring.close();
    closeFd(this.#efd);
    this.#efd = -1;
    if (defaultInstance === this) defaultInstance = null;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ------------------------------------------------------------------ raw operations on the safe queue

  /**
   * Queue one raw operation without a promise: `prep(sqe)` fills a zeroed SQE with any `prep*`
   * helper when it reaches the ring (the library sets user_data: leave it alone), and
   * `done(res, flags)` runs for its final CQE (`res` < 0 is −errno). `keep` — everything the
   * SQE points at — is held until then. Batched, backpressured and woken like every other
   * operation; the building block of engines such as copyTree() that run thousands of small
   * state machines and cannot afford a promise per step. IOSQE_CQE_SKIP_SUCCESS set by `prep` is
   * dropped: every op here ends with its final CQE (that is when its `keep` is let go).
   */
  enqueue(prep: (sqe: Sqe) => void, done: (res: number, flags: number) => void, keep?: unknown): void {
    if (this.#closing) throw closedError("enqueue");
    this.#enqueue(this.#rawOp(prep, done, keep));
  }

  /**
   * Queue raw operations as one chain of linked SQEs (IOSQE_IO_LINK, or IOSQE_IO_HARDLINK with
   * `hard`), submitted together. Each step's `done` gets its own CQE (IOSQE_CQE_SKIP_SUCCESS is
   * dropped, as in enqueue()); a failed soft link completes the later steps with −ECANCELED.
   */
  enqueueLinked(
    steps: { prep: (sqe: Sqe) => void; done: (res: number, flags: number) => void; keep?: unknown }[],
    hard = false,
  ): void {
    if (this.#closing) throw closedError("enqueueLinked");
    if (steps.length === 0) return;
    if (steps.length > this.ring.sqEntries) {
      throw invalidArgument("steps", `A chain must fit the SQ (${this.ring.sqEntries} entries); got ${steps.length}.`, "range");
    }
    const ops = steps.map((s) => this.#rawOp(s.prep, s.done, s.keep));
    const link = hard ? IOSQE_IO_HARDLINK : IOSQE_IO_LINK;
    for (let k = 0; k < ops.length - 1; k++) ops[k]!.sqeFlags = link;
    ops[0]!.chain = ops.length > 1 ? ops.slice(1) : null;
    this.#enqueue(ops[0]!);
  }

  #rawOp(prep: (sqe: Sqe) => void, done: (res: number, flags: number) => void, keep: unknown): Op {
    // checked now: a bad callback would otherwise throw later, inside the flush or the reap loop
    if (typeof prep !== "function") throw invalidArgument("prep", `Expected a function that fills the SQE; got ${typeof prep}.`, "type");
    if (typeof done !== "function") throw invalidArgument("done", `Expected a function (res, flags); got ${typeof done}.`, "type");
    const op = new Op();
    op.name = "raw";
    op.prep = prep;
    op.done = done;
    op.keep = keep;
    op.settled = true; // no promise
    return op;
  }

  // ------------------------------------------------------------------ basics

  /** A no-op round trip through the kernel. Resolves 0. IORING_OP_NOP. */
  nop(opts?: OpOptions): Promise<number> {
    const op = this.#newOp(IORING_OP_NOP, "nop");
    op.fd = -1;
    return this.#start(op, opts);
  }

  /** Resolve after `ms` milliseconds, timed by the kernel (IORING_OP_TIMEOUT). */
  sleep(ms: number, opts?: OpOptions): Promise<void> {
    return this.#start(this.#sleepOp(ms), opts);
  }

  #sleepOp(ms: number): Op {
    const ts = new Timespec(ms);
    const op = this.#newOp(IORING_OP_TIMEOUT, "sleep");
    op.fd = -1;
    op.addr = ts.address;
    op.len = 1;
    op.keep = ts;
    op.opFlags = IORING_TIMEOUT_ETIME_SUCCESS; // an expired sleep does not break a link chain
    op.okRes = -ETIME;
    op.map = () => undefined;
    return op;
  }

  // ------------------------------------------------------------------ fd-level file I/O

  #rw(opcode: number, name: string, fd: number, buf: ArrayBufferView, position: U64): Op {
    const op = this.#newOp(opcode, name);
    op.fd = fd;
    op.addr = addressOf(buf);
    op.len = buf.byteLength;
    op.off = position;
    op.keep = buf;
    return op;
  }

  /** Read into `buffer` from `fd` at `position` (null: the file position). Resolves the bytes read (0 at EOF). */
  read(fd: number, buffer: ArrayBufferView, position?: number | bigint | null, opts?: OpOptions): Promise<number> {
    return this.#start(this.#rw(IORING_OP_READ, "read", checkFd(fd), checkBuffer(buffer), checkPosition(position)), opts);
  }

  /** Write `buffer` to `fd` at `position` (null: the file position). Resolves the bytes written. */
  write(fd: number, buffer: ArrayBufferView, position?: number | bigint | null, opts?: OpOptions): Promise<number> {
    return this.#start(this.#rw(IORING_OP_WRITE, "write", checkFd(fd), checkBuffer(buffer), checkPosition(position)), opts);
  }

  /** Scatter read into `buffers`. Resolves the total bytes read. */
  readv(fd: number, buffers: ArrayBufferView[], position?: number | bigint | null, opts?: OpOptions): Promise<number> {
    return this.#start(this.#vec(IORING_OP_READV, "readv", fd, buffers, position), opts);
  }

  /** Gather write from `buffers`. Resolves the total bytes written. */
  writev(fd: number, buffers: ArrayBufferView[], position?: number | bigint | null, opts?: OpOptions): Promise<number> {
    return this.#start(this.#vec(IORING_OP_WRITEV, "writev", fd, buffers, position), opts);
  }

  #vec(opcode: number, name: string, fd: number, buffers: ArrayBufferView[], position: number | bigint | null | undefined): Op {
    if (!Array.isArray(buffers)) throw invalidArgument("buffers", "Expected an array of ArrayBufferViews.", "type");
    const iov = new IoVecs(buffers.map((b, k) => checkBuffer(b, `buffers[${k}]`)));
    const op = this.#newOp(opcode, name);
    op.fd = checkFd(fd);
    op.addr = iov.address;
    op.len = iov.length;
    op.off = checkPosition(position);
    op.keep = iov;
    return op;
  }

  /** close(2) a raw fd. */
  closeFd(fd: number, opts?: OpOptions): Promise<void> {
    const op = this.#newOp(IORING_OP_CLOSE, "close");
    op.fd = checkFd(fd);
    op.map = () => undefined;
    return this.#start(op, opts);
  }

  /** fsync(2) (or fdatasync with `datasync`). */
  fsync(fd: number, datasync = false, opts?: OpOptions): Promise<void> {
    const op = this.#newOp(IORING_OP_FSYNC, datasync ? "fdatasync" : "fsync");
    op.fd = checkFd(fd);
    op.opFlags = datasync ? IORING_FSYNC_DATASYNC : 0;
    op.map = () => undefined;
    return this.#start(op, opts);
  }

  /** ftruncate(2) (Linux ≥ 6.9). */
  ftruncate(fd: number, length = 0, opts?: OpOptions): Promise<void> {
    const op = this.#newOp(IORING_OP_FTRUNCATE, "ftruncate");
    op.fd = checkFd(fd);
    op.off = checkPosition(length);
    op.map = () => undefined;
    return this.#start(op, opts);
  }

  /** fallocate(2): reserve (mode 0) or punch (FALLOC_FL_*) `length` bytes at `offset`. */
  fallocate(fd: number, offset: number, length: number, mode = 0, opts?: OpOptions): Promise<void> {
    const op = this.#newOp(IORING_OP_FALLOCATE, "fallocate");
    op.fd = checkFd(fd);
    op.len = checkInt(mode, "mode");
    op.off = checkPosition(offset);
    op.addr = Number(checkPosition(length));
    op.map = () => undefined;
    return this.#start(op, opts);
  }

  /** statx(2) of an open fd (AT_EMPTY_PATH). */
  fstat(fd: number, opts?: OpOptions): Promise<UringStats> {
    return this.#statx(checkFd(fd), "", AT_EMPTY_PATH, "fstat", undefined, opts);
  }

  #statx(dfd: number, path: string, flags: number, name: string, shownPath: string | undefined, opts?: OpOptions): Promise<UringStats> {
    const buf = new Uint8Array(256);
    const p = path === "" ? new Uint8Array(1) : cString(path); // owned (see addressOfOwned)
    const op = this.#newOp(IORING_OP_STATX, name);
    op.fd = dfd;
    op.addr = addressOfOwned(p);
    op.len = STATX_BASIC_STATS | STATX_BTIME;
    op.off = addressOfOwned(buf);
    op.opFlags = flags;
    op.keep = [buf, p];
    op.path = shownPath;
    op.map = () => parseStatx(buf);
    return this.#start(op, opts);
  }

  // ------------------------------------------------------------------ path-level

  /** openat(2) relative to the cwd; resolves a `UringFile`. `flags` like node:fs ("r", "w", "a+", … or O_* bits). */
  async open(path: string, flags: string | number = "r", mode = 0o666, opts?: OpOptions): Promise<UringFile> {
    const fd = await this.openFd(path, flags, mode, opts);
    return new UringFile(this, fd, path);
  }

  /** openat(2); resolves the raw fd. */
  openFd(path: string, flags: string | number = "r", mode = 0o666, opts?: OpOptions): Promise<number> {
    checkPath(path);
    const bytes = cString(path);
    const op = this.#newOp(IORING_OP_OPENAT, "open");
    op.fd = AT_FDCWD;
    op.addr = addressOfOwned(bytes);
    op.len = checkMode(mode);
    op.opFlags = parseOpenFlags(flags) | O_CLOEXEC;
    op.keep = bytes;
    op.path = path;
    return this.#start(op, opts);
  }

  /** statx(2) of a path, following symlinks. */
  stat(path: string, opts?: OpOptions): Promise<UringStats> {
    return this.#statx(AT_FDCWD, checkPath(path), 0, "stat", path, opts);
  }

  /** statx(2) of a path, not following a final symlink. */
  lstat(path: string, opts?: OpOptions): Promise<UringStats> {
    return this.#statx(AT_FDCWD, checkPath(path), AT_SYMLINK_NOFOLLOW, "lstat", path, opts);
  }

  #pathOp(opcode: number, name: string, path: string, flags: number, len: number, opts?: OpOptions): Promise<void> {
    const bytes = cString(checkPath(path));
    const op = this.#newOp(opcode, name);
    op.fd = AT_FDCWD;
    op.addr = addressOfOwned(bytes);
    op.len = len;
    op.opFlags = flags;
    op.keep = bytes;
    op.path = path;
    op.map = () => undefined;
    return this.#start(op, opts);
  }

  #twoPathOp(opcode: number, name: string, a: string, b: string, flags: number, opts?: OpOptions): Promise<void> {
    const pa = cString(checkPath(a, "oldPath"), "oldPath");
    const pb = cString(checkPath(b, "newPath"), "newPath");
    const op = this.#newOp(opcode, name);
    op.fd = AT_FDCWD;
    op.addr = addressOfOwned(pa);
    op.len = opcode === IORING_OP_SYMLINKAT ? 0 : AT_FDCWD >>> 0;
    op.off = addressOfOwned(pb);
    op.opFlags = flags;
    op.keep = [pa, pb];
    op.path = a;
    op.dest = b;
    op.map = () => undefined;
    return this.#start(op, opts);
  }

  /** unlinkat(2) of a file. */
  unlink(path: string, opts?: OpOptions): Promise<void> {
    return this.#pathOp(IORING_OP_UNLINKAT, "unlink", path, 0, 0, opts);
  }

  /** Remove an empty directory. */
  rmdir(path: string, opts?: OpOptions): Promise<void> {
    return this.#pathOp(IORING_OP_UNLINKAT, "rmdir", path, AT_REMOVEDIR, 0, opts);
  }

  /** renameat2(2). `noReplace` (RENAME_NOREPLACE) fails with EEXIST instead of replacing `newPath`. */
  rename(oldPath: string, newPath: string, opts?: OpOptions & { noReplace?: boolean }): Promise<void> {
    return this.#twoPathOp(IORING_OP_RENAMEAT, "rename", oldPath, newPath, opts?.noReplace ? 1 /* RENAME_NOREPLACE */ : 0, opts);
  }

  /** A symlink at `path` pointing to `target`. */
  symlink(target: string, path: string, opts?: OpOptions): Promise<void> {
    return this.#twoPathOp(IORING_OP_SYMLINKAT, "symlink", target, path, 0, opts);
  }

  /** A hard link `newPath` to `existingPath`. */
  link(existingPath: string, newPath: string, opts?: OpOptions): Promise<void>;
  /** Run `steps` as one chain of linked SQEs (IOSQE_IO_LINK; `hard: true` for IOSQE_IO_HARDLINK): one promise per step. */
  link(steps: LinkStep[], opts?: OpOptions & { hard?: boolean }): Promise<unknown>[];
  link(a: string | LinkStep[], b?: string | (OpOptions & { hard?: boolean }), opts?: OpOptions): Promise<void> | Promise<unknown>[] {
    if (Array.isArray(a)) return this.#chain(a, (b as OpOptions & { hard?: boolean }) ?? {});
    return this.#twoPathOp(IORING_OP_LINKAT, "link", a, b as string, 0, opts);
  }

  /** mkdirat(2); `recursive` creates missing parents and accepts an existing directory, like node:fs. */
  async mkdir(path: string, options: { mode?: number; recursive?: boolean } & OpOptions = {}): Promise<void> {
    const mode = checkMode(options.mode ?? 0o777);
    try {
      await this.#pathOp(IORING_OP_MKDIRAT, "mkdir", path, 0, mode, options);
    } catch (e) {
      if (!options.recursive) throw e;
      const code = (e as UringError).errno;
      if (code === -EEXIST) {
        if ((await this.stat(path)).isDirectory()) return;
        throw e;
      }
      if (code !== -ENOENT) throw e;
      const parent = path.replace(/\/+[^/]*\/*$/, "");
      if (!parent || parent === path) throw e;
      await this.mkdir(parent, options);
      await this.mkdir(path, options);
    }
  }

  /** The whole file, read through the ring. With `encoding`, a string. */
  async readFile(path: string, options: { encoding: BufferEncoding } & OpOptions): Promise<string>;
  async readFile(path: string, options?: { encoding?: null } & OpOptions): Promise<Buffer>;
  async readFile(path: string, options: { encoding?: BufferEncoding | null } & OpOptions = {}): Promise<Buffer | string> {
    const file = await this.open(path, "r", 0, options);
    try {
      const st = await this.fstat(file.fd, options);
      let buf = Buffer.allocUnsafe(Math.max(st.size, 4096));
      let len = 0;
      for (;;) {
        if (len === buf.length) {
          const bigger = Buffer.allocUnsafe(buf.length * 2);
          buf.copy(bigger, 0, 0, len);
          buf = bigger;
        }
        const n = await withPathAsync(this.read(file.fd, buf.subarray(len), len, options), path);
        if (n === 0) break;
        len += n;
      }
      const out = buf.subarray(0, len);
      return options.encoding ? out.toString(options.encoding) : out;
    } finally {
      await file.close();
    }
  }

  /** Write `data` to `path`, creating or truncating it. */
  async writeFile(path: string, data: string | ArrayBufferView, options: { mode?: number; flag?: string | number } & OpOptions = {}): Promise<void> {
    const bytes = typeof data === "string" ? Buffer.from(data) : checkBuffer(data, "data");
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const flags = options.flag !== undefined ? parseOpenFlags(options.flag) : O_WRONLY | O_CREAT | O_TRUNC;
    const file = await this.open(path, flags, options.mode ?? 0o666, options);
    try {
      let done = 0;
      while (done < view.length) {
        done += await withPathAsync(this.write(file.fd, view.subarray(done), done, options), path);
      }
    } finally {
      await file.close();
    }
  }

  // ------------------------------------------------------------------ link chains

  #stepOp(step: LinkStep, k: number): Op {
    const bad = (m: string) => invalidArgument(`steps[${k}]`, m);
    switch (step?.op) {
      case "nop": {
        const op = this.#newOp(IORING_OP_NOP, "nop");
        op.fd = -1;
        return op;
      }
      case "read":
      case "write":
        return this.#rw(
          step.op === "read" ? IORING_OP_READ : IORING_OP_WRITE,
          step.op,
          checkFd(step.fd, `steps[${k}].fd`),
          checkBuffer(step.buffer, `steps[${k}].buffer`),
          checkPosition(step.position),
        );
      case "fsync": {
        const op = this.#newOp(IORING_OP_FSYNC, step.datasync ? "fdatasync" : "fsync");
        op.fd = checkFd(step.fd, `steps[${k}].fd`);
        op.opFlags = step.datasync ? IORING_FSYNC_DATASYNC : 0;
        op.map = () => undefined;
        return op;
      }
      case "close": {
        const op = this.#newOp(IORING_OP_CLOSE, "close");
        op.fd = checkFd(step.fd, `steps[${k}].fd`);
        op.map = () => undefined;
        return op;
      }
      case "sleep":
        return this.#sleepOp(step.ms);
      case "open": {
        const bytes = cString(checkPath(step.path, `steps[${k}].path`));
        const op = this.#newOp(IORING_OP_OPENAT, "open");
        op.fd = AT_FDCWD;
        op.addr = addressOfOwned(bytes);
        op.len = step.mode ?? 0o666;
        op.opFlags = parseOpenFlags(step.flags) | O_CLOEXEC;
        op.keep = bytes;
        op.path = step.path;
        return op;
      }
      default:
        throw bad(`Unknown step ${JSON.stringify((step as { op?: unknown })?.op)}; expected nop, read, write, fsync, close, sleep or open.`);
    }
  }

  #chain(steps: LinkStep[], opts: OpOptions & { hard?: boolean }): Promise<unknown>[] {
    if (!Array.isArray(steps) || steps.length === 0) throw invalidArgument("steps", "Expected a non-empty array of steps.", "type");
    if (steps.length > this.ring.sqEntries) {
      throw invalidArgument("steps", `A chain must fit the SQ (${this.ring.sqEntries} entries); got ${steps.length}.`, "range");
    }
    const ops = steps.map((s, k) => this.#stepOp(s, k));
    const linkFlag = opts.hard ? IOSQE_IO_HARDLINK : IOSQE_IO_LINK;
    for (let k = 0; k < ops.length - 1; k++) ops[k]!.sqeFlags |= linkFlag;
    const promises = ops.map((op) => {
      if (this.#closing) return Promise.reject(closedError("link"));
      return new Promise<unknown>((resolve, reject) => {
        op.resolve = resolve as (v: never) => void;
        op.reject = reject;
      });
    });
    if (this.#closing) return promises;
    const head = ops[0]!;
    head.chain = ops.slice(1);
    const { signal, timeout } = opts;
    if (signal !== undefined || timeout !== undefined) this.#watch(head, { signal, timeout });
    if (!head.settled) this.#enqueue(head);
    return promises;
  }

  // ------------------------------------------------------------------ sockets

  /** socket(2) (Linux ≥ 5.19). Resolves the fd. */
  socket(domain: number = AF_INET, type: number = SOCK_STREAM, protocol = 0, opts?: OpOptions): Promise<number> {
    const op = this.#newOp(IORING_OP_SOCKET, "socket");
    op.fd = checkInt(domain, "domain", 0, 0x7fffffff);
    op.off = checkInt(type, "type", 0, 0x7fffffff) | SOCK_CLOEXEC;
    op.len = checkInt(protocol, "protocol", 0, 0x7fffffff);
    return this.#start(op, opts);
  }

  #addrOf(address: Uint8Array | { host: string; port: number } | string, port?: number): Uint8Array {
    if (address instanceof Uint8Array) return address;
    if (typeof address === "string") return sockaddr(address, port ?? 0);
    return sockaddr(address.host, address.port);
  }

  /** connect(2) to `host:port` (an address literal) or a sockaddr. */
  connect(fd: number, address: Uint8Array | { host: string; port: number }, opts?: OpOptions): Promise<void> {
    return this.#start(this.#sockaddrOp(IORING_OP_CONNECT, "connect", fd, address), opts);
  }

  /** bind(2) (Linux ≥ 6.11). */
  bind(fd: number, address: Uint8Array | { host: string; port: number }, opts?: OpOptions): Promise<void> {
    return this.#start(this.#sockaddrOp(IORING_OP_BIND, "bind", fd, address), opts);
  }

  /** connect and bind share a shape: fd, addr = the sockaddr, off = its length. */
  #sockaddrOp(opcode: number, name: string, fd: number, address: Uint8Array | { host: string; port: number }): Op {
    const sa = this.#addrOf(address);
    const op = this.#newOp(opcode, name);
    op.fd = checkFd(fd);
    op.addr = addressOf(sa);
    op.off = sa.byteLength;
    op.keep = sa;
    op.map = () => undefined;
    return op;
  }

  /** listen(2) (Linux ≥ 6.11). */
  listen(fd: number, backlog = 511, opts?: OpOptions): Promise<void> {
    const op = this.#newOp(IORING_OP_LISTEN, "listen");
    op.fd = checkFd(fd);
    op.len = checkInt(backlog, "backlog", 0, 0x7fffffff);
    op.map = () => undefined;
    return this.#start(op, opts);
  }

  /**
   * A listening TCP socket on `host:port` (port 0: any free port), built from socket, setsockopt
   * (SO_REUSEADDR), bind and listen through the ring. Resolves the fd and the bound address.
   */
  async listenTcp(host: string, port: number, backlog = 511): Promise<{ fd: number; address: SocketAddress }> {
    const sa = sockaddr(host, port);
    const family = new DataView(sa.buffer).getUint16(0, true) === AF_INET6 ? AF_INET6 : AF_INET;
    const fd = await this.socket(family, SOCK_STREAM, 0);
    try {
      setReuseAddr(fd);
      await this.bind(fd, sa);
      await this.listen(fd, backlog);
      return { fd, address: localAddress(fd) };
    } catch (e) {
      await this.closeFd(fd).catch(noop);
      throw e;
    }
  }

  /** accept4(2) one connection. Resolves `{ fd, address }`. */
  accept(fd: number, opts?: OpOptions): Promise<{ fd: number; address: SocketAddress }> {
    const addr = new Uint8Array(SOCKADDR_STORAGE_SIZE);
    const addrlen = Uint32Array.of(SOCKADDR_STORAGE_SIZE);
    const op = this.#newOp(IORING_OP_ACCEPT, "accept");
    op.fd = checkFd(fd);
    op.addr = addressOf(addr);
    op.off = addressOf(addrlen);
    op.opFlags = SOCK_CLOEXEC;
    op.keep = [addr, addrlen];
    op.map = (res) => ({ fd: res, address: parseSockaddr(addr, addrlen[0]) });
    return this.#start(op, opts);
  }

  /**
   * Every incoming connection, from one multishot accept (Linux ≥ 5.19): an async iterator of fds.
   * Ends when the signal aborts or the listening socket is closed/shut down; `break` cancels it.
   */
  acceptMany(fd: number, opts: OpOptions = {}): AsyncIterableIterator<number> {
    checkFd(fd);
    return this.#multishot<number>(
      () => {
        const op = this.#newOp(IORING_OP_ACCEPT, "accept");
        op.fd = fd;
        op.ioprio = IORING_ACCEPT_MULTISHOT;
        op.opFlags = SOCK_CLOEXEC;
        return op;
      },
      (res, push) => push(res),
      opts,
      undefined,
      undefined,
      (acceptedFd) => void closeFd(acceptedFd), // accepted but never handed out: close it
    );
  }

  /** send(2). Resolves the bytes sent. */
  send(fd: number, buffer: ArrayBufferView, flags = 0, opts?: OpOptions): Promise<number> {
    const op = this.#rw(IORING_OP_SEND, "send", checkFd(fd), checkBuffer(buffer), 0);
    op.opFlags = checkInt(flags, "flags");
    return this.#start(op, opts);
  }

  /** recv(2) into `buffer`. Resolves the bytes received (0: the peer closed). */
  recv(fd: number, buffer: ArrayBufferView, flags = 0, opts?: OpOptions): Promise<number> {
    const op = this.#rw(IORING_OP_RECV, "recv", checkFd(fd), checkBuffer(buffer), 0);
    op.opFlags = checkInt(flags, "flags");
    return this.#start(op, opts);
  }

  /**
   * Every message on `fd`, from one multishot recv into a provided-buffer ring (Linux ≥ 6.0):
   * an async iterator of byte arrays (copies; the ring buffer is recycled at once — like Node's
   * pooled Buffers, small messages may share one ArrayBuffer, so use each view's byteOffset and
   * byteLength rather than its .buffer as a whole). Ends when the
   * peer closes; re-arms by itself when the kernel runs out of buffers.
   */
  recvMany(
    fd: number,
    opts: OpOptions & { bufferSize?: number; buffers?: number; zeroCopy?: boolean } = {},
  ): AsyncIterableIterator<Uint8Array> {
    checkFd(fd);
    const zeroCopy = opts.zeroCopy === true;
    const bufferSize = opts.bufferSize ?? 16 * 1024;
    const count = opts.buffers ?? 64;
    const bgid = this.#takeBgid();
    let br: BufferRing;
    try {
      br = this.ring.setupBufRing(bgid, count, bufferSize);
    } catch (e) {
      this.#freeBgids.push(bgid);
      throw e;
    }
    let ended = false;
    /** zeroCopy: ring buffers lent to the caller or queued for it, not yet back with the kernel. */
    let held = 0;
    return this.#multishot<Uint8Array>(
      () => {
        const op = this.#newOp(IORING_OP_RECV, "recv");
        op.fd = fd;
        op.ioprio = IORING_RECV_MULTISHOT;
        op.sqeFlags = IOSQE_BUFFER_SELECT;
        op.bufIndex = bgid;
        op.keep = br;
        return op;
      },
      (res, push, flags) => {
        const bid = BufferRing.bufferId(flags);
        if (res === 0) {
          ended = true;
          return "end";
        }
        if (bid >= 0 && zeroCopy) {
          // lent as it is: the buffer goes back to the kernel when the caller asks for the next one
          held++;
          push(br.view(bid, res));
        } else if (bid >= 0) {
          // One copy, out of the ring buffer (which goes straight back to the kernel) into a slab
          // shared by the messages that arrive together: a view on an existing ArrayBuffer costs
          // an object, not an allocation of its own (and a small typed array made by slice()
          // would move its storage again the first time a send touches its .buffer). The slab
          // lives as long as any of its views.
          push(copyOut(br.view(bid, res)));
          br.recycle(bid);
        }
      },
      opts,
      // out of buffers: the kernel ended the multishot; re-arm — once one is back, if the caller holds them all
      (res) => (res === -ENOBUFS && !ended ? (zeroCopy && held >= count ? "later" : true) : false),
      () => {
        if (!this.ring.closed) this.ring.unregisterBufRing(bgid);
        this.#freeBgids.push(bgid);
      },
      // zeroCopy: a lent buffer (or one never handed out) goes back to the kernel
      zeroCopy
        ? (v) => {
            held--;
            if (!this.ring.closed) br.recycle(br.idOf(v));
          }
        : noop,
      zeroCopy,
    );
  }

  /** A free buffer group id: reused after its iterator finished. */
  #takeBgid(): number {
    const id = this.#freeBgids.pop();
    if (id !== undefined) return id;
    if (this.#nextBgid > 0xffff) {
      throw invalidArgument("recvMany", "All 65536 buffer group ids are in use by open recvMany iterators.", "range");
    }
    return this.#nextBgid++;
  }

  /** shutdown(2). */
  shutdown(fd: number, how = 2, opts?: OpOptions): Promise<void> {
    const op = this.#newOp(IORING_OP_SHUTDOWN, "shutdown");
    op.fd = checkFd(fd);
    op.len = checkInt(how, "how", 0, 2); // SHUT_RD, SHUT_WR, SHUT_RDWR
    op.map = () => undefined;
    return this.#start(op, opts);
  }

  /**
   * The machinery under acceptMany/recvMany: one multishot op whose CQEs feed an async iterator.
   * `onValue` turns a successful CQE into values (or "end"); `rearm` says whether a final error
   * CQE should re-submit instead of ending; `finish` runs once, after the final CQE.
   */
  #multishot<T>(
    make: () => Op,
    onValue: (res: number, push: (v: T) => void, flags: number) => void | "end",
    opts: OpOptions,
    rearm: (res: number) => boolean | "later" = () => false,
    finish: () => void = noop,
    discard: (v: T) => void = noop,
    /** The values are lent: each is passed to `discard` when the caller asks for the next one (or stops). */
    lend = false,
  ): AsyncIterableIterator<T> {
    const values: T[] = [];
    let error: unknown = null;
    let done = false;
    /** A next() waiting for a value: a value or the end goes straight to it. */
    let waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | null = null;
    let current: Op | null = null;
    /** With `lend`: the value the caller holds, handed back on the next call. */
    let lent: T | undefined;
    let lending = false;
    /** Re-arm deferred until the caller hands a lent value back (see `rearm`'s "later"). */
    let paused = false;
    /** The result for a value the caller gets now (with `lend`, it holds it until its next call). */
    const handOut = (v: T): IteratorResult<T> => {
      if (lend) {
        lent = v;
        lending = true;
      }
      return { value: v, done: false };
    };
    const giveBack = () => {
      if (!lending) return;
      lending = false;
      const v = lent!;
      lent = undefined;
      discard(v);
    };
    /** What next() says once nothing is left: the end, or the error that ended it (thrown once). */
    const ending = (): Promise<IteratorResult<T>> => {
      if (error) {
        const e = error;
        error = null;
        return Promise.reject(e);
      }
      return Promise.resolve({ value: undefined, done: true });
    };
    const push = (v: T) => {
      if (done) return discard(v); // arrived after the caller stopped listening
      if (waiter !== null) {
        const w = waiter;
        waiter = null;
        w.resolve(handOut(v));
      } else values.push(v);
    };
    const end = (e: unknown) => {
      if (done) return;
      done = true;
      error = e;
      if (waiter !== null) {
        const w = waiter;
        waiter = null;
        ending().then(w.resolve, w.reject);
      }
    };
    const arm = () => {
      const op = make();
      current = op;
      op.each = (res, flags) => {
        const final = (flags & IORING_CQE_F_MORE) === 0;
        if (res >= 0) {
          if (onValue(res, push, flags) === "end") {
            if (!final) this.#abort(op, abortError("end of stream"));
            end(null);
          }
        }
        if (!final) return;
        current = null;
        if (done) return finish();
        // A final CQE that is not an error means the kernel stopped the multishot (e.g. the CQ was
        // full): it is the program's job to arm it again. So it is for an error `rearm` accepts.
        const again = res >= 0 || rearm(res);
        if (again === "later") {
          // out of buffers the caller holds (lend): armed again when it hands one back
          paused = true;
          return;
        }
        if (again) return arm();
        if (res !== -ECANCELED) end(new UringError(res, op.name));
        else end(null);
        finish();
      };
      op.resolve = noop;
      op.reject = noop;
      if (this.#closing) {
        end(closedError(op.name));
        finish();
        return;
      }
      this.#enqueue(op);
    };
    const stop = (why: unknown = null) => {
      if (current && current.inKernel) this.#abort(current, abortError("iterator closed"));
      else if (current) current.dropped = true;
      end(why);
      if (paused) {
        // nothing in the kernel: the final CQE came while paused, so finish here
        paused = false;
        finish();
      }
    };
    const signal = opts.signal;
    const onAbort = () => stop(abortError(signal!.reason));
    if (signal) {
      if (signal.aborted) done = true;
      else {
        signal.addEventListener("abort", onAbort, { once: true });
        const finishInner = finish;
        finish = () => {
          signal.removeEventListener("abort", onAbort);
          finishInner();
        };
      }
    }
    if (!done) arm();
    else finish();
    const iterator: AsyncIterableIterator<T> = {
      // Not an async function: a value that is already there costs one resolved promise, and one
      // that arrives later is handed straight to the waiting next().
      next: (): Promise<IteratorResult<T>> => {
        if (lend) {
          giveBack();
          if (paused && !done) {
            paused = false;
            arm();
          }
        }
        if (values.length > 0) return Promise.resolve(handOut(values.shift()!));
        if (done) return ending();
        return new Promise<IteratorResult<T>>((resolve, reject) => (waiter = { resolve, reject }));
      },
      return: async (): Promise<IteratorResult<T>> => {
        if (lend) giveBack();
        stop();
        // values the kernel produced that the caller will never see (accepted fds): release them
        for (const v of values.splice(0)) discard(v);
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}

/** An open file on a Uring, like node:fs/promises' FileHandle. */
export class UringFile {
  readonly #io: Uring;
  /** The fd; -1 once closed. */
  fd: number;
  readonly path: string;

  constructor(io: Uring, fd: number, path: string) {
    this.#io = io;
    this.fd = fd;
    this.path = path;
  }

  #live(method: string): number {
    if (this.fd < 0) {
      const err = new Error(`bun-uring: ${method}() on a closed file '${this.path}'`);
      (err as { code?: string }).code = "EBADF";
      throw err;
    }
    return this.fd;
  }

  /** Read into `buffer` at `position` (null: the file position). Resolves the bytes read. */
  read(buffer: ArrayBufferView, position?: number | bigint | null, opts?: OpOptions): Promise<number> {
    return this.#io.read(this.#live("read"), buffer, position, opts);
  }
  /** Write `buffer` at `position` (null: the file position). Resolves the bytes written. */
  write(buffer: ArrayBufferView, position?: number | bigint | null, opts?: OpOptions): Promise<number> {
    return this.#io.write(this.#live("write"), buffer, position, opts);
  }
  readv(buffers: ArrayBufferView[], position?: number | bigint | null, opts?: OpOptions): Promise<number> {
    return this.#io.readv(this.#live("readv"), buffers, position, opts);
  }
  writev(buffers: ArrayBufferView[], position?: number | bigint | null, opts?: OpOptions): Promise<number> {
    return this.#io.writev(this.#live("writev"), buffers, position, opts);
  }
  stat(opts?: OpOptions): Promise<UringStats> {
    return this.#io.fstat(this.#live("stat"), opts);
  }
  sync(opts?: OpOptions): Promise<void> {
    return this.#io.fsync(this.#live("sync"), false, opts);
  }
  datasync(opts?: OpOptions): Promise<void> {
    return this.#io.fsync(this.#live("datasync"), true, opts);
  }
  truncate(length = 0, opts?: OpOptions): Promise<void> {
    return this.#io.ftruncate(this.#live("truncate"), length, opts);
  }
  /** Close the fd. Idempotent. */
  async close(): Promise<void> {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    await this.#io.closeFd(fd);
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function setReuseAddr(fd: number): void {
  const one = Int32Array.of(1);
  setsockopt(fd, 1 /* SOL_SOCKET */, 2 /* SO_REUSEADDR */, addressOf(one), 4);
}

function localAddress(fd: number): SocketAddress {
  const addr = new Uint8Array(SOCKADDR_STORAGE_SIZE);
  const len = Uint32Array.of(SOCKADDR_STORAGE_SIZE);
  getsockname(fd, addressOf(addr), addressOf(len));
  return parseSockaddr(addr, len[0]);
}
