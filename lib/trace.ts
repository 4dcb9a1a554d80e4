/**
 * The protocol trace: every step of the ring protocol as a typed event, on the real kernel.
 *
 * `new IoUring(entries, { trace })` (and `new Uring({ trace })`) calls `trace(event)` for each step:
 *
 * | event      | what happened                                                         | who writes it |
 * |------------|-----------------------------------------------------------------------|---------------|
 * | `setup`    | io_uring_setup(2) made the ring                                        | —             |
 * | `sqe`      | an SQE slot was filled (decoded from the slot's 64 bytes)              | us            |
 * | `sq_tail`  | the SQ tail was published: a release store, old → new                  | us            |
 * | `enter`    | io_uring_enter(2): to_submit, min_complete, flags, result or errno     | —             |
 * | `sq_head`  | the SQ head, loaded with acquire: how far the kernel has consumed      | the kernel    |
 * | `cq_tail`  | the CQ tail, loaded with acquire: CQEs the kernel has posted           | the kernel    |
 * | `cqe`      | a CQE was read: slot, user_data, res (bytes or errno name), flags      | the kernel    |
 * | `cq_head`  | the CQ head was advanced: a release store, old → new                   | us            |
 * | `register` | io_uring_register(2): opcode, nr_args, result or errno                 | —             |
 *
 * **Zero cost when off.** Nothing here runs for an untraced ring: `installTrace()` replaces the
 * methods on the traced *instance* only (own properties shadowing the prototype's) and swaps that
 * ring's two syscall slots (`_traceSyscalls`). An untraced ring runs the prototype's methods — the
 * same code as before tracing existed — so getSqe/submit/peek/forEachCqe/cqeSeen carry no
 * `if (trace)` test at all; its only change is that io_uring_enter/io_uring_register are called
 * through a per-ring field holding the raw syscall. The trace row of `bun run bench nop` shows it.
 *
 * SQE events are emitted when the tail that publishes them is stored, not when the slot is filled:
 * until then the kernel cannot see the slot, and the library only learns the slots are final at
 * submit. Each event is decoded from the slot memory itself, so it shows what the kernel reads.
 *
 * `BUN_URING_TRACE=1` in the environment traces every ring made without a `trace` option, as
 * readable lines on stderr; `BUN_URING_TRACE=json` writes NDJSON instead; `BUN_URING_TRACE_FILE`
 * sends either to a file. `bun-uring trace <script>` sets them for you.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { ioUringEnter, ioUringRegister } from "../ffi/syscalls.ts";
import { sub32, add32 } from "./barrier.ts";
import * as C from "./constants.ts";
import {
  decodeFlags,
  IORING_CQE_BUFFER_SHIFT,
  IORING_CQE_F_BUFFER,
  IORING_CQE_F_MORE,
  IORING_CQE_F_NAMES,
  IORING_ENTER_FLAG_NAMES,
  IORING_SETUP_FLAG_NAMES,
  IORING_SETUP_SQE128,
  IOSQE_FLAG_NAMES,
  OPCODE_NAMES,
} from "./constants.ts";
import { errnoName, invalidArgument } from "./errors.ts";
import type { Cqe } from "./sqe.ts";
import { getU64, getU64Big, SQW } from "./sqe.ts";
import type { IoUring } from "./ring.ts";

// ------------------------------------------------------------------ the events

/** Fields every event has: which ring (its fd) and a per-ring sequence number from 0. */
export interface TraceBase {
  /** The ring's fd. */
  ring: number;
  /** 0, 1, 2, … per ring: the order the steps happened in. */
  seq: number;
}

/** io_uring_setup(2) made the ring. */
export interface SetupEvent extends TraceBase {
  type: "setup";
  sqEntries: number;
  cqEntries: number;
  /** IORING_SETUP_* as set, and decoded. */
  flags: number;
  flagNames: string[];
  /** Where the rings live: "shared" (SharedArrayBuffers, NO_MMAP) or "mmap". */
  memory: string;
}

/** An SQE slot was filled and is about to be published. Decoded from the slot memory. */
export interface SqeEvent extends TraceBase {
  type: "sqe";
  /** The slot in the SQE array (`index & mask`). */
  slot: number;
  /** The free-running SQ counter value this SQE sits at. */
  index: number;
  opcode: number;
  /** The opcode's name without `IORING_OP_`: "READ", "NOP", … */
  op: string;
  fd: number;
  len: number;
  /** `off`, or −1 for "the current file position" (all 64 bits set). */
  off: number;
  /** user_data: a number, or a decimal string beyond 2^53 − 1. */
  userData: number | string;
  /** IOSQE_* as set, and decoded ("IO_LINK", "FIXED_FILE", …). */
  flags: number;
  flagNames: string[];
}

/** The SQ tail was published with a release store: the SQEs in [from, to) are the kernel's now. */
export interface SqTailEvent extends TraceBase {
  type: "sq_tail";
  from: number;
  to: number;
}

/** One io_uring_enter(2) call and its outcome. */
export interface EnterEvent extends TraceBase {
  type: "enter";
  toSubmit: number;
  minComplete: number;
  flags: number;
  flagNames: string[];
  /** ≥ 0: SQEs consumed; < 0: −errno. */
  result: number;
  /** The errno name when result < 0 ("EINTR", "EBUSY", "ETIME"). */
  errno?: string;
}

/** The SQ head, loaded with acquire after a submit: the kernel consumed every SQE before it. */
export interface SqHeadEvent extends TraceBase {
  type: "sq_head";
  head: number;
  /** How many SQEs the kernel consumed since the last sq_head event. */
  consumed: number;
  /** Published SQEs it has not consumed yet (SQPOLL, or a submit that did not enter). */
  pending: number;
}

/** The CQ tail, loaded with acquire: every CQE before it has been written by the kernel. */
export interface CqTailEvent extends TraceBase {
  type: "cq_tail";
  tail: number;
  /** CQEs ready to read (tail − head). */
  ready: number;
}

/** A CQE was read. */
export interface CqeEvent extends TraceBase {
  type: "cqe";
  slot: number;
  /** The free-running CQ counter value this CQE sits at. */
  index: number;
  userData: number | string;
  /** ≥ 0: the op's result; < 0: −errno. */
  res: number;
  /** res in words: "4096 bytes" for reads/writes/sends, "ECANCELED" for −125, else the number. */
  result: string;
  /** The opcode of the SQE with this user_data, when this trace saw it submitted. */
  op?: string;
  /** IORING_CQE_F_* as set, and decoded (the buffer id is split out). */
  flags: number;
  flagNames: string[];
  /** With IORING_CQE_F_BUFFER: the provided buffer's id. */
  bufferId?: number;
}

/** The CQ head was advanced with a release store: the slots in [from, to) are the kernel's again. */
export interface CqHeadEvent extends TraceBase {
  type: "cq_head";
  from: number;
  to: number;
}

/** One io_uring_register(2) call. */
export interface RegisterEvent extends TraceBase {
  type: "register";
  opcode: number;
  /** The opcode's name without `IORING_`: "REGISTER_BUFFERS", "UNREGISTER_FILES", … */
  op: string;
  nrArgs: number;
  result: number;
  errno?: string;
}

/** Every step of the ring protocol, as `trace` receives it. Discriminated on `type`. */
export type TraceEvent =
  | SetupEvent
  | SqeEvent
  | SqTailEvent
  | EnterEvent
  | SqHeadEvent
  | CqTailEvent
  | CqeEvent
  | CqHeadEvent
  | RegisterEvent;

/** An event before `ring` and `seq` are stamped on it. */
type Unstamped = TraceEvent extends infer T ? (T extends TraceEvent ? Omit<T, "ring" | "seq"> : never) : never;

/** What the `trace` option takes: a function called with each event, or `true` for lines on stderr. */
export type TraceOption = ((event: TraceEvent) => void) | boolean;

// ------------------------------------------------------------------ names

/** IORING_REGISTER_* / IORING_UNREGISTER_* opcode names, from the constants module. */
const REGISTER_NAMES: string[] = (() => {
  const names: string[] = [];
  for (const [k, v] of Object.entries(C)) {
    if (typeof v !== "number" || !/^IORING_(UN)?REGISTER_[A-Z0-9_]+$/.test(k)) continue;
    if (k === "IORING_REGISTER_LAST" || v < 0 || v >= 256 || !Number.isInteger(v)) continue;
    names[v] ??= k.slice("IORING_".length);
  }
  return names;
})();

/** The name of an io_uring_register opcode ("REGISTER_PROBE"), or "REGISTER_<n>". */
export function registerOpName(opcode: number): string {
  return REGISTER_NAMES[opcode & 0xff] ?? `REGISTER_${opcode}`;
}

/** Opcodes whose positive res is a byte count. */
const BYTE_OPS = new Set([
  "READV", "WRITEV", "READ_FIXED", "WRITE_FIXED", "SENDMSG", "RECVMSG", "READ", "WRITE", "SEND", "RECV",
  "SPLICE", "TEE", "SEND_ZC", "SENDMSG_ZC", "READ_MULTISHOT", "READV_FIXED", "WRITEV_FIXED", "RECV_ZC",
]);

/** A CQE's res in words: an errno name, "N bytes" for data moves, else the number. */
export function describeRes(res: number, op?: string): string {
  if (res < 0) return errnoName(res);
  if (op !== undefined && BYTE_OPS.has(op)) return `${res} byte${res === 1 ? "" : "s"}`;
  return String(res);
}

const userDataText = (v: number | string): string =>
  typeof v === "string" ? `0x${BigInt(v).toString(16)}` : v >= 0x10000 ? `0x${v.toString(16)}` : String(v);
const flagText = (names: string[]): string => (names.length ? names.join("|") : "0");

/** The fields formatTraceEvent reads, per event type ("flagNames" must be an array; the rest present). */
const EVENT_FIELDS: Readonly<Record<TraceEvent["type"], readonly string[]>> = {
  setup: ["sqEntries", "cqEntries", "flagNames", "memory"],
  sqe: ["slot", "op", "fd", "len", "off", "userData", "flagNames"],
  sq_tail: ["from", "to"],
  enter: ["toSubmit", "minComplete", "flagNames", "result"],
  sq_head: ["head", "consumed", "pending"],
  cq_tail: ["tail", "ready"],
  cqe: ["slot", "userData", "res", "result", "flagNames"],
  cq_head: ["from", "to"],
  register: ["op", "nrArgs", "result"],
};

/** A named error for something that is not a TraceEvent, instead of a line full of "undefined". */
function checkEvent(e: unknown): asserts e is TraceEvent {
  if (e === null || typeof e !== "object") throw invalidArgument("event", `Expected a TraceEvent object; got ${e === null ? "null" : typeof e}.`, "type");
  const type = (e as { type?: unknown }).type;
  const fields = typeof type === "string" && Object.hasOwn(EVENT_FIELDS, type) ? EVENT_FIELDS[type as TraceEvent["type"]] : null;
  if (!fields) throw invalidArgument("event.type", `Expected one of ${Object.keys(EVENT_FIELDS).join(", ")}; got ${JSON.stringify(type) ?? "undefined"}.`);
  for (const f of ["ring", ...fields]) {
    const v = (e as Record<string, unknown>)[f];
    if (v === undefined || (f === "flagNames" && !Array.isArray(v))) throw invalidArgument(`event.${f}`, `A ${type} event needs ${f}; got ${String(v)}.`, "type");
  }
}

/**
 * One event as a readable line, e.g.
 * `sqe      slot 3  READ fd=5 len=4096 off=0 user_data=7 flags=IO_LINK`,
 * `enter    to_submit=1 min_complete=1 flags=GETEVENTS → 1`.
 * user_data is decimal below 65536 and hex above (sentinels like 0xaaaaaaaa read better).
 */
export function formatTraceEvent(e: TraceEvent): string {
  checkEvent(e);
  const tag = `[ring ${e.ring}] `;
  switch (e.type) {
    case "setup":
      return `${tag}setup    sq_entries=${e.sqEntries} cq_entries=${e.cqEntries} flags=${flagText(e.flagNames)} memory=${e.memory}`;
    case "sqe":
      return (
        `${tag}sqe      slot ${e.slot}  ${e.op} fd=${e.fd} len=${e.len} off=${e.off} ` +
        `user_data=${userDataText(e.userData)} flags=${flagText(e.flagNames)}`
      );
    case "sq_tail":
      return `${tag}sq_tail  ${e.from} → ${e.to}  (release store: ${sub32(e.to, e.from)} SQE${sub32(e.to, e.from) === 1 ? "" : "s"} published)`;
    case "enter":
      return (
        `${tag}enter    to_submit=${e.toSubmit} min_complete=${e.minComplete} flags=${flagText(e.flagNames)} → ` +
        (e.result < 0 ? `-${e.errno}` : String(e.result))
      );
    case "sq_head":
      return `${tag}sq_head  ${e.head}  (acquire: kernel consumed ${e.consumed}, ${e.pending} pending)`;
    case "cq_tail":
      return `${tag}cq_tail  ${e.tail}  (acquire: ${e.ready} CQE${e.ready === 1 ? "" : "s"} ready)`;
    case "cqe":
      return (
        `${tag}cqe      slot ${e.slot}  user_data=${userDataText(e.userData)} res=${e.res < 0 ? `-${e.result}` : e.result}` +
        `${e.op ? ` (${e.op})` : ""} flags=${flagText(e.flagNames)}${e.bufferId !== undefined ? ` buffer=${e.bufferId}` : ""}`
      );
    case "cq_head":
      return `${tag}cq_head  ${e.from} → ${e.to}  (release store: ${sub32(e.to, e.from)} slot${sub32(e.to, e.from) === 1 ? "" : "s"} handed back)`;
    case "register":
      return `${tag}register ${e.op} nr_args=${e.nrArgs} → ${e.result < 0 ? `-${e.errno}` : e.result}`;
  }
}

// ------------------------------------------------------------------ sinks

/** A trace function that writes each event as a line (or NDJSON) to `fd` (default 2, stderr). */
export function traceWriter(options: { json?: boolean; fd?: number } = {}): (event: TraceEvent) => void {
  // checked now: a bad fd would otherwise fail inside the ring's bookkeeping at the first event
  if (options === null || typeof options !== "object") throw invalidArgument("options", `Expected { json?, fd? }; got ${options === null ? "null" : typeof options}.`, "type");
  for (const k of Object.keys(options)) if (k !== "json" && k !== "fd") throw invalidArgument("options", `Unknown option ${JSON.stringify(k)} (json, fd).`);
  const fd = options.fd ?? 2;
  const json = options.json ?? false;
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) throw invalidArgument("options.fd", `Expected a file descriptor (an integer ≥ 0); got ${String(fd)}.`, typeof fd === "number" ? "range" : "type");
  if (typeof json !== "boolean") throw invalidArgument("options.json", `Expected a boolean; got ${typeof json}.`, "type");
  return (event) => {
    writeSync(fd, `${json ? JSON.stringify(event) : formatTraceEvent(event)}\n`);
  };
}

let envSink: ((event: TraceEvent) => void) | null | undefined;

/**
 * The trace function BUN_URING_TRACE asks for, or null: `1`/`true`/`text` → lines, `json` → NDJSON,
 * on stderr or appended to BUN_URING_TRACE_FILE. Read once per process (at the first ring).
 */
export function traceFromEnv(): ((event: TraceEvent) => void) | null {
  if (envSink !== undefined) return envSink;
  const v = (process.env.BUN_URING_TRACE ?? "").trim().toLowerCase();
  if (v === "" || v === "0" || v === "false" || v === "off") return (envSink = null);
  const file = process.env.BUN_URING_TRACE_FILE;
  let fd = 2;
  if (file) {
    fd = openSync(file, "a");
    process.once("exit", () => closeSync(fd));
  }
  return (envSink = traceWriter({ json: v === "json" || v === "ndjson", fd }));
}

// ------------------------------------------------------------------ the tracer

/** An exception from the trace function: rethrown outside the ring's bookkeeping, so the ring stays consistent. */
function rethrowLater(e: unknown): void {
  queueMicrotask(() => {
    throw e;
  });
}

/**
 * Make `ring` call `trace` for every protocol step. Called by the IoUring constructor when the
 * `trace` option (or BUN_URING_TRACE) asks for it; replaces methods on this instance only.
 */
export function installTrace(ring: IoUring, option: TraceOption): void {
  if (option === false) return;
  const fn = option === true ? traceWriter() : option;
  const fd = ring.fd;
  const sqMask = ring.sqEntries - 1;
  const cqMask = ring.cqEntries - 1;
  const sqeWords = ring.flags & IORING_SETUP_SQE128 ? 32 : 16;
  let seq = 0;
  const emit = (e: Unstamped) => {
    try {
      fn({ ring: fd, seq: seq++, ...e } as TraceEvent);
    } catch (err) {
      rethrowLater(err);
    }
  };

  const c0 = ring.counters();
  /** The SQ tail this trace last reported as published, and the SQ head it last reported. */
  let sqTail = c0.sqTail;
  let sqHead = c0.sqHead;
  /** The CQ tail last reported, and the first CQ counter not yet reported as read. */
  let cqTail = c0.cqTail;
  let cqeNext = c0.cqHead;
  /** SQEs decoded before a submit: with SQPOLL the kernel may consume them before we look again. */
  let pending: SqeEvent[] = [];
  /** Opcode by user_data, to name a CQE's op (and say "bytes"); bounded. */
  const opByUserData = new Map<number | string, string>();

  const decodeSqe = (index: number): SqeEvent => {
    const u = ring.sqes;
    const slot = index & sqMask;
    const i = slot * sqeWords;
    const head = u[i]!;
    const opcode = head & 0xff;
    const flags = (head >>> 8) & 0xff;
    const offLo = u[i + SQW.off]!;
    const offHi = u[i + SQW.off + 1]!;
    const udHi = u[i + SQW.userData + 1]!;
    const userData = udHi < 0x200000 ? getU64(u, i + SQW.userData) : getU64Big(u, i + SQW.userData).toString();
    return {
      ring: fd,
      seq: -1, // stamped when emitted
      type: "sqe",
      slot,
      index,
      opcode,
      op: OPCODE_NAMES[opcode] ?? `OP_${opcode}`,
      fd: u[i + SQW.fd]! | 0,
      len: u[i + SQW.len]!,
      off: offLo === 0xffffffff && offHi === 0xffffffff ? -1 : getU64(u, i + SQW.off),
      userData,
      flags,
      flagNames: decodeFlags(flags, IOSQE_FLAG_NAMES),
    };
  };

  /** Before a submit: decode every filled, unpublished slot while it is certainly intact. */
  const capture = () => {
    if (ring.fd < 0) return;
    const c = ring.counters();
    pending = [];
    for (let k = c.sqTail; k !== c.sqeTail; k = add32(k, 1)) pending.push(decodeSqe(k));
  };

  /** The SQ tail moved: report the SQEs it published, then the release store. */
  const syncSq = () => {
    if (ring.fd < 0) return;
    const t = ring.counters().sqTail;
    if (t === sqTail) return;
    for (let k = sqTail; k !== t; k = add32(k, 1)) {
      const e = pending.find((p) => p.index === k) ?? decodeSqe(k);
      if (opByUserData.size > 4096) opByUserData.clear();
      opByUserData.set(e.userData, e.op);
      const { ring: _r, seq: _s, ...rest } = e;
      emit(rest);
    }
    pending = [];
    emit({ type: "sq_tail", from: sqTail, to: t });
    sqTail = t;
  };

  const observeSqHead = () => {
    if (ring.fd < 0) return;
    const c = ring.counters();
    // nothing published and nothing consumed since the last look: no news
    if (c.sqHead === sqHead && c.sqTail === c.sqHead) return;
    emit({ type: "sq_head", head: c.sqHead, consumed: sub32(c.sqHead, sqHead), pending: sub32(c.sqTail, c.sqHead) });
    sqHead = c.sqHead;
  };

  const observeCqTail = () => {
    if (ring.fd < 0) return;
    const c = ring.counters();
    if (c.cqTail === cqTail) return;
    cqTail = c.cqTail;
    emit({ type: "cq_tail", tail: c.cqTail, ready: sub32(c.cqTail, c.cqHead) });
  };

  /** Report the CQE at counter `index`, once. */
  const readCqe = (cqe: Cqe, index: number) => {
    // only CQEs at or past the first unreported counter (modulo 2^32)
    if (sub32(index, cqeNext) >= 0x80000000) return;
    cqeNext = add32(index, 1);
    const u = cqe.u32;
    const userData = u[cqe.i + 1]! < 0x200000 ? cqe.userData : cqe.userDataBigInt.toString();
    const res = cqe.res;
    const flags = cqe.flags;
    const op = opByUserData.get(userData);
    if (op !== undefined && !(flags & IORING_CQE_F_MORE)) opByUserData.delete(userData);
    const hasBuffer = (flags & IORING_CQE_F_BUFFER) !== 0;
    emit({
      type: "cqe",
      slot: index & cqMask,
      index,
      userData,
      res,
      result: describeRes(res, op),
      ...(op !== undefined ? { op } : {}),
      flags,
      flagNames: decodeFlags(hasBuffer ? flags & 0xffff : flags, IORING_CQE_F_NAMES),
      ...(hasBuffer ? { bufferId: flags >>> IORING_CQE_BUFFER_SHIFT } : {}),
    });
  };

  const cqHeadNow = () => ring.counters().cqHead;

  // ---- the two syscalls
  ring._traceSyscalls(
    (ringFd, toSubmit, minComplete, flags, argp, argsz) => {
      syncSq(); // the tail store happened just before this enter
      const r = ioUringEnter(ringFd, toSubmit, minComplete, flags, argp, argsz);
      emit({
        type: "enter",
        toSubmit,
        minComplete,
        flags,
        flagNames: decodeFlags(flags, IORING_ENTER_FLAG_NAMES),
        result: r,
        ...(r < 0 ? { errno: errnoName(r) } : {}),
      });
      return r;
    },
    (ringFd, opcode, arg, nrArgs) => {
      const r = ioUringRegister(ringFd, opcode, arg, nrArgs);
      emit({ type: "register", opcode, op: registerOpName(opcode), nrArgs, result: r, ...(r < 0 ? { errno: errnoName(r) } : {}) });
      return r;
    },
  );

  // ---- the methods, replaced on this instance only (the prototype's stay untouched)
  const self = ring as unknown as Record<string, unknown>;
  const proto = Object.getPrototypeOf(ring) as Record<string, (...args: never[]) => unknown>;

  for (const name of ["submit", "submitAndWait", "submitAndGetEvents"] as const) {
    const orig = proto[name]!;
    self[name] = function (this: IoUring, ...args: never[]) {
      capture();
      const r = orig.apply(this, args);
      syncSq(); // a submit that did not enter (SQPOLL awake) still published the tail
      observeSqHead();
      observeCqTail();
      return r;
    };
  }

  const origWaitTimeout = proto.waitCqeTimeout!;
  self.waitCqeTimeout = function (this: IoUring, ...args: never[]) {
    capture();
    const before = this.fd >= 0 ? cqHeadNow() : 0;
    const cqe = origWaitTimeout.apply(this, args) as Cqe | null;
    const published = this.fd >= 0 && this.counters().sqTail !== sqTail;
    syncSq();
    if (published) observeSqHead();
    observeCqTail();
    if (cqe) readCqe(cqe, before);
    return cqe;
  };

  for (const name of ["peekCqe", "waitCqeNr"] as const) {
    const orig = proto[name]!;
    self[name] = function (this: IoUring, ...args: never[]) {
      const cqe = orig.apply(this, args) as Cqe | null;
      observeCqTail();
      if (cqe) readCqe(cqe, cqHeadNow());
      return cqe;
    };
  }

  const origBatch = proto.peekBatchCqe!;
  self.peekBatchCqe = function (this: IoUring, out: Cqe[], max?: number) {
    const n = (origBatch as (o: Cqe[], m?: number) => number).call(this, out, max);
    observeCqTail();
    const head = cqHeadNow();
    for (let k = 0; k < n; k++) readCqe(out[k]!, add32(head, k));
    return n;
  };

  const origForEach = proto.forEachCqe!;
  self.forEachCqe = function (this: IoUring, cb: (cqe: Cqe) => void) {
    if (this.fd < 0) return (origForEach as (f: (c: Cqe) => void) => number).call(this, cb);
    const head = cqHeadNow();
    let k = 0;
    let observed = false;
    return (origForEach as (f: (c: Cqe) => void) => number).call(this, (cqe: Cqe) => {
      if (!observed) {
        observed = true;
        observeCqTail();
      }
      readCqe(cqe, add32(head, k++));
      cb(cqe);
    });
  };

  // cqeSeen() and forEachCqe() both go through this.cqAdvance(): one wrapper sees every head store
  const origAdvance = proto.cqAdvance!;
  self.cqAdvance = function (this: IoUring, n: number) {
    const from = this.fd >= 0 ? cqHeadNow() : 0;
    (origAdvance as (n: number) => void).call(this, n);
    const to = cqHeadNow();
    if (to !== from) emit({ type: "cq_head", from, to });
  };

  emit({
    type: "setup",
    sqEntries: ring.sqEntries,
    cqEntries: ring.cqEntries,
    flags: ring.flags,
    flagNames: decodeFlags(ring.flags, IORING_SETUP_FLAG_NAMES),
    memory: ring.memory.mode,
  });
}
