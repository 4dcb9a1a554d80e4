/**
 * The bad-input sweep: every export of lib/index.ts and every CLI flag, fed wrong types,
 * NaN/negative/huge numbers, detached and resizable buffers, closed rings and paths with NUL
 * bytes, must answer with a clear error — a TypeError/RangeError with Node's `ERR_*` code, a
 * UringError, or an `ERR_URING_*` error — never a crash, and never a silent wrong result.
 *
 * One test enumerates the exports: an export without an entry in SWEEP (or, for prep*, a
 * parameter the generic prep sweep cannot give a valid value) fails it by name. Every prep*
 * helper gets the same generic cases from its parameter names, so new ones are swept unasked.
 * Methods of IoUring, Uring and UringFile are swept on a closed object, all of them, by enumeration.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as api from "../lib/index.ts";
import { CLI_FLAGS, type CliFlag, main, parseCpArgs } from "../lib/cli.ts";
import { kernelTest, tempDir, unavailable } from "./helpers.ts";

// ------------------------------------------------------------------ what counts as clear

interface Outcome {
  threw: boolean;
  error?: unknown;
  value?: unknown;
}

async function outcome(fn: () => unknown): Promise<Outcome> {
  try {
    const v = fn();
    if (v && typeof (v as Promise<unknown>).then === "function") return { threw: false, value: await v };
    return { threw: false, value: v };
  } catch (e) {
    return { threw: true, error: e };
  }
}

/** A clear error: it says what was wrong, in a way code can check. */
function clearness(e: unknown): string | null {
  if (!(e instanceof Error)) return `threw a non-Error: ${String(e)}`;
  const code = (e as { code?: unknown }).code;
  if (e instanceof api.UringError) return null;
  if ((e instanceof TypeError || e instanceof RangeError) && typeof code === "string" && code.startsWith("ERR_")) return null;
  if (typeof code === "string" && code.startsWith("ERR_URING_")) return null;
  // Node's own shape for a closed FileHandle: an Error whose code is the errno name
  if (typeof code === "string" && /^E[A-Z0-9]+$/.test(code) && e.message.length > 10) return null;
  if (e.name === "AbortError" || e.name === "TimeoutError") return null;
  return `unclear ${e.name}${code ? ` (${String(code)})` : " without a code"}: ${e.message.slice(0, 120)}`;
}

/** One bad call: it must throw/reject clearly, or (`returns`) give exactly this documented value. */
interface Case {
  label: string;
  call: () => unknown;
  /** The documented answer instead of an error (e.g. errnoName's UNKNOWN_ERRNO_n). */
  returns?: (v: unknown) => boolean;
}

async function runCases(owner: string, cases: Case[]): Promise<string[]> {
  const problems: string[] = [];
  for (const c of cases) {
    const o = await outcome(c.call);
    if (c.returns) {
      if (o.threw) {
        const why = clearness(o.error);
        if (why) problems.push(`${owner} ${c.label}: ${why}`);
      } else if (!c.returns(o.value)) problems.push(`${owner} ${c.label}: returned ${String(o.value)}`);
      continue;
    }
    if (!o.threw) problems.push(`${owner} ${c.label}: no error (returned ${String(o.value).slice(0, 60)})`);
    else {
      const why = clearness(o.error);
      if (why) problems.push(`${owner} ${c.label}: ${why}`);
    }
  }
  return problems;
}

// ------------------------------------------------------------------ bad values

function detachedView(): Uint8Array {
  const v = new Uint8Array(16);
  structuredClone(v, { transfer: [v.buffer] });
  return v;
}
const resizableView = () => new Uint8Array(new ArrayBuffer(16, { maxByteLength: 64 }));
const growableView = () => new Uint8Array(new SharedArrayBuffer(16, { maxByteLength: 64 } as never));

/** Values that are not buffers, or buffers whose memory cannot be handed to the kernel. */
const BAD_BUFFERS: [string, () => unknown][] = [
  ["a string", () => "abc"],
  ["a number", () => 42],
  ["a plain object", () => ({})],
  ["an array", () => [1, 2, 3]],
  ["a detached buffer", detachedView],
  ["a resizable buffer", resizableView],
  ["a growable SharedArrayBuffer", growableView],
];
const BAD_NUMBERS: [string, unknown][] = [
  ["NaN", Number.NaN],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["a numeric string", "5"],
  ["an object", {}],
];
const BAD_PATHS: [string, unknown][] = [
  ["a path with a NUL byte", "dir/a\0b"],
  ["a number", 42],
  ["an object", {}],
  ["a Uint8Array without its NUL", new Uint8Array([97, 98])],
];

// ------------------------------------------------------------------ the generic prep* sweep

/** The parameter names of a function, from its source (defaults stripped). */
function paramNames(fn: Function): { name: string; optional: boolean; fallback?: string }[] {
  const src = Function.prototype.toString.call(fn);
  const open = src.indexOf("(");
  let depth = 0;
  let end = open;
  for (let i = open; i < src.length; i++) {
    if ("([{".includes(src[i]!)) depth++;
    else if (")]}".includes(src[i]!) && --depth === 0) {
      end = i;
      break;
    }
  }
  const inner = src.slice(open + 1, end);
  const parts: string[] = [];
  depth = 0;
  let cur = "";
  for (const ch of inner) {
    if ("([{".includes(ch)) depth++;
    if (")]}".includes(ch)) depth--;
    if (ch === "," && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (cur.trim()) parts.push(cur);
  return parts.map((p) => ({ name: p.split("=")[0]!.trim(), optional: p.includes("="), fallback: p.includes("=") ? p.slice(p.indexOf("=") + 1).trim() : undefined }));
}

type Kind =
  | "sqe"
  | "fd"
  | "buffer"
  | "address"
  | "path"
  | "number"
  | "u64"
  | "ts"
  | "iovecs"
  | "struct"
  | "fds"
  | "futex"
  | "epoll"
  | "userData"
  | "other";

/** What a prep* parameter is, by its liburing name (and, where one name means two things, the helper). */
function kindOf(name: string, prep = ""): Kind {
  if (name === "sqe") return "sqe";
  if (/^(fd|dfd|sockfd|olddfd|newdfd|newdirfd|dirfd|fdIn|fdOut|epfd|sourceFd)$/.test(name)) return "fd";
  // madvise takes a pointer, as in C: a number (e.g. Region.address of allocShared) or a view
  if (name === "addr" && prep.startsWith("prepMadvise")) return "address";
  if (/^(buf|statxbuf|addr|buffer|value|destAddr|infop|optval)$/.test(name)) return "buffer";
  // xattr names are C strings like paths
  if (/path$|^target$/i.test(name) || (name === "name" && /xattr$/i.test(prep))) return "path";
  if (/^(offset|off|offIn|offOut|val|mask|data)$/.test(name)) return "u64";
  if (/^(len|nbytes|length|maxevents)$/.test(name)) return "number";
  if (name === "ts") return "ts";
  if (name === "iovecs") return "iovecs";
  // struct open_how / msghdr / futex_waitv arrays: the library's classes, nothing else
  if (name === "futexv" || name === "msg" || (name === "how" && prep.startsWith("prepOpenat2"))) return "struct";
  if (name === "fds") return "fds";
  if (name === "futex") return "futex";
  if (name === "ev" || name === "events") return "epoll";
  if (/^(userData|oldUserData|newUserData)$/.test(name)) return "userData";
  return "other";
}

/** The least a buffer parameter must hold: the kernel writes that many bytes whatever its length. */
const MIN_BYTES: Record<string, number> = { statxbuf: 256, infop: 128 };

/** A valid value for each kind (no kernel ever sees these SQEs: they are never submitted). */
function validFor(kind: Kind, name: string): unknown {
  switch (kind) {
    case "fd":
      return 3;
    case "address":
      return 4096;
    case "buffer":
      return name in MIN_BYTES ? new Uint8Array(MIN_BYTES[name]!) : name === "addr" || name === "destAddr" ? api.sockaddr("127.0.0.1", 80) : new Uint8Array(16);
    case "path":
      return name === "name" ? "user.test" : "some/file";
    case "number":
    case "u64":
      return 8;
    case "ts":
      return new api.Timespec(1);
    case "iovecs":
      return new api.IoVecs([new Uint8Array(4)]);
    case "struct":
      return name === "futexv" ? new api.FutexWaitv([{ word: new Uint32Array(1), val: 0 }]) : name === "msg" ? new api.MsgHdr(null) : new api.OpenHow();
    case "fds":
      return new Int32Array(2);
    case "futex":
      return new Uint32Array(1);
    case "epoll":
      return new api.EpollEvents(name === "ev" ? 1 : 8);
    case "userData":
      return 7;
    default:
      if (name === "addrlen") return Uint32Array.of(16);
      return 0;
  }
}

/** Candidates for a parameter the table does not know, tried in order until the call works. */
const CANDIDATES: (() => unknown)[] = [() => 0, () => new Uint8Array(64), () => "some/file", () => new api.Timespec(1), () => null, () => ({})];

interface PrepPlan {
  params: { name: string; kind: Kind; optional: boolean; fallback?: string }[];
  valid: unknown[];
}

/** Find a valid argument list for a prep helper; null if none of the candidates works. */
function planPrep(fn: Function, newSqe: () => api.Sqe): PrepPlan | string {
  const params = paramNames(fn).map((p) => ({ ...p, kind: kindOf(p.name, fn.name) }));
  if (params[0]?.kind !== "sqe") return "its first parameter is not `sqe`";
  const valid = params.map((p) => (p.kind === "sqe" ? null : p.optional && p.kind === "other" ? undefined : validFor(p.kind, p.name)));
  const works = () => {
    try {
      fn(newSqe(), ...valid.slice(1));
      return true;
    } catch {
      return false;
    }
  };
  if (works()) return { params, valid };
  // unknown parameters: try candidates one parameter at a time
  for (let k = 1; k < params.length; k++) {
    if (params[k]!.kind !== "other") continue;
    for (const c of CANDIDATES) {
      valid[k] = c();
      if (works()) return { params, valid };
    }
  }
  return `no valid call found for (${params.map((p) => p.name).join(", ")}): add its parameter names to kindOf()/validFor() in test/bad-input.test.ts`;
}

/** The generic cases for one prep helper: bad SQEs, bad fds/lengths/offsets, bad buffers, bad paths. */
function prepCases(name: string, fn: Function, plan: PrepPlan, newSqe: () => api.Sqe, staleSqe: () => api.Sqe): Case[] {
  const cases: Case[] = [];
  const withArg = (k: number, v: unknown, sqe = newSqe) => () => {
    const args = plan.valid.slice();
    args[0] = sqe();
    args[k] = v;
    return fn(...args);
  };
  cases.push({ label: "with a null SQE", call: withArg(0, null, () => null as never) });
  cases.push({ label: "with a plain object as SQE", call: withArg(0, { u32: new Uint32Array(16), i: 0 }, () => ({ u32: new Uint32Array(16), i: 0 }) as never) });
  cases.push({ label: "with an SQE of a closed ring", call: withArg(0, undefined, staleSqe) });
  plan.params.forEach((p, k) => {
    if (k === 0) return;
    const arg = (v: unknown) => {
      const args = plan.valid.slice();
      args[k] = v;
      return args;
    };
    switch (p.kind) {
      case "fd":
        for (const [what, v] of [...BAD_NUMBERS, ["1.5", 1.5], ["2^40", 2 ** 40]] as [string, unknown][]) {
          cases.push({ label: `${p.name} = ${what}`, call: () => fn(newSqe(), ...arg(v).slice(1)) });
        }
        cases.push(negativeCase(name, fn, arg(-7), newSqe, p.name));
        break;
      case "number":
      case "u64":
        for (const [what, v] of BAD_NUMBERS) cases.push({ label: `${p.name} = ${what}`, call: () => fn(newSqe(), ...arg(v).slice(1)) });
        cases.push({ label: `${p.name} = 2^64`, call: () => fn(newSqe(), ...arg(2 ** 64).slice(1)) });
        cases.push(negativeCase(name, fn, arg(-7), newSqe, p.name));
        break;
      case "buffer":
        for (const [what, make] of BAD_BUFFERS) cases.push({ label: `${p.name} = ${what}`, call: () => fn(newSqe(), ...arg(make()).slice(1)) });
        if (p.name in MIN_BYTES) {
          const n = MIN_BYTES[p.name]! - 1;
          cases.push({ label: `${p.name} = ${n} bytes (the kernel writes ${n + 1})`, call: () => fn(newSqe(), ...arg(new Uint8Array(n)).slice(1)) });
        }
        break;
      case "path":
        for (const [what, v] of BAD_PATHS) cases.push({ label: `${p.name} = ${what}`, call: () => fn(newSqe(), ...arg(v).slice(1)) });
        break;
      case "ts":
      case "iovecs":
      case "struct": {
        // an object that only looks like the struct ({ address, length }) or is another struct would
        // hand the kernel memory of the wrong shape and size
        const wrongStruct = p.kind === "ts" ? new api.OpenHow() : new api.Timespec(1);
        for (const [what, v] of [
          ["null", null],
          ["a plain object", {}],
          ["a Uint8Array", new Uint8Array(64)],
          ["a look-alike { address, length }", { address: 4096, length: 1 }],
          [`another struct (${wrongStruct.constructor.name})`, wrongStruct],
        ] as [string, unknown][]) {
          cases.push({ label: `${p.name} = ${what}`, call: () => fn(newSqe(), ...arg(v).slice(1)) });
        }
        break;
      }
      case "address":
        for (const [what, v] of [...BAD_NUMBERS, ["-4096", -4096], ["1.5", 1.5], ["2^64", 2 ** 64], ["null", null]] as [string, unknown][]) {
          cases.push({ label: `${p.name} = ${what}`, call: () => fn(newSqe(), ...arg(v).slice(1)) });
        }
        for (const [what, make] of BAD_BUFFERS) {
          if (what !== "a number") cases.push({ label: `${p.name} = ${what}`, call: () => fn(newSqe(), ...arg(make()).slice(1)) });
        }
        break;
      case "fds": {
        const detached = new Int32Array(2);
        structuredClone(detached, { transfer: [detached.buffer] });
        const bad: [string, unknown][] = [
          ["null", null],
          ["a number", 3],
          ["a plain array", [3, 4]],
          ["a Uint32Array", new Uint32Array(2)],
          ["an empty Int32Array", new Int32Array(0)],
          ["a detached Int32Array", detached],
          ["a resizable Int32Array", new Int32Array(new ArrayBuffer(8, { maxByteLength: 64 }))],
        ];
        if (name.startsWith("prepPipe")) bad.push(["an Int32Array of 1 (a pipe has two ends)", new Int32Array(1)]);
        for (const [what, v] of bad) cases.push({ label: `${p.name} = ${what}`, call: () => fn(newSqe(), ...arg(v).slice(1)) });
        break;
      }
      case "futex":
        for (const [what, make] of [...BAD_BUFFERS, ["a Uint8Array (the futex word is 4 bytes)", () => new Uint8Array(4)], ["an empty Uint32Array", () => new Uint32Array(0)], ["null", () => null]] as [string, () => unknown][]) {
          cases.push({ label: `${p.name} = ${what}`, call: () => fn(newSqe(), ...arg(make()).slice(1)) });
        }
        break;
      case "epoll":
        for (const [what, make] of [
          ...BAD_BUFFERS,
          ["{ bytes: 'x' }", () => ({ bytes: "x" })],
          ["a 4-byte view (an epoll_event is 12)", () => new Uint8Array(4)],
          ...(p.name === "events" ? [["null", () => null]] : []),
        ] as [string, () => unknown][]) {
          cases.push({ label: `${p.name} = ${what}`, call: () => fn(newSqe(), ...arg(make()).slice(1)) });
        }
        break;
      case "userData":
        for (const [what, v] of [...BAD_NUMBERS, ["-1", -1], ["2^64 as a number", 2 ** 64]] as [string, unknown][]) {
          cases.push({ label: `${p.name} = ${what}`, call: () => fn(newSqe(), ...arg(v).slice(1)) });
        }
        break;
      default:
        // a number the table has no name for (flags, mode, advice, a slot, a cmd op; also an optional
        // one whose default is a number): NaN, 1.5 and "1" must not land in the SQE as 0 or 1
        if (typeof plan.valid[k] === "number" || (p.fallback !== undefined && /^-?\d+$/.test(p.fallback))) {
          for (const [what, v] of [["NaN", Number.NaN], ["1.5", 1.5], ["a numeric string", "1"]] as [string, unknown][]) {
            cases.push({ label: `${p.name} = ${what}`, call: () => fn(newSqe(), ...arg(v).slice(1)) });
          }
        }
        break;
    }
  });
  return cases;
}

/** A negative fd/length: a clear error, or written into the SQE exactly (the kernel then fails it with EBADF/EINVAL). */
function negativeCase(name: string, fn: Function, args: unknown[], newSqe: () => api.Sqe, param: string): Case {
  return {
    label: `${param} = -7`,
    call: () => {
      const sqe = newSqe();
      fn(sqe, ...args.slice(1));
      const words = Array.from(sqe.u32.subarray(sqe.i, sqe.i + 16));
      return words.includes(-7 >>> 0) ? "verbatim" : `not in the SQE (${name})`;
    },
    returns: (v) => v === "verbatim",
  };
}

// ------------------------------------------------------------------ the table for everything else

interface Ctx {
  ring: api.IoUring;
  closedRing: api.IoUring;
  io: api.Uring;
  file: api.UringFile;
  dir: string;
  regular: string;
  newSqe: () => api.Sqe;
  staleSqe: () => api.Sqe;
}

type Entry = ((ctx: Ctx) => Case[]) | { none: string };

/** A real picture (the first of the nop scenario), and copies of it with one part broken. */
function pictureCases(name: string, render: (p: api.RingPicture) => string): Case[] {
  const gen = api.course(["nop"]);
  const good = gen.next().value as api.RingPicture;
  gen.return(undefined);
  const broken = (patch: Record<string, unknown>) => ({ ...good, ...patch }) as never;
  return [
    c("(null)", () => render(null as never)),
    c("('x')", () => render("x" as never)),
    c("({})", () => render({} as never)),
    c("(counters missing)", () => render(broken({ counters: undefined }))),
    c("(counters.sqHead NaN)", () => render(broken({ counters: { ...good.counters, sqHead: Number.NaN } }))),
    c("(sq not an array)", () => render(broken({ sq: "x" }))),
    c("(sq empty)", () => render(broken({ sq: [] }))),
    c("(sq of 3 slots: markers need a power of two)", () => render(broken({ sq: good.sq.slice(0, 3) }))),
    c("(a slot without lines)", () => render(broken({ cq: good.cq.map((s) => ({ ...s, lines: undefined })) }))),
    c("(a slot with an unknown state)", () => render(broken({ cq: good.cq.map((s) => ({ ...s, state: "bogus" })) }))),
    c("(title a number)", () => render(broken({ title: 42 }))),
    c(`(the real picture) draws it (${name})`, () => render(good), (v) => typeof v === "string" && v.includes("SQ[0]") && v.includes("CQ[7]")),
  ];
}

const c = (label: string, call: () => unknown, returns?: (v: unknown) => boolean): Case => ({ label, call, ...(returns ? { returns } : {}) });
const eq = (x: unknown) => (v: unknown) => v === x;

/** Every non-prep export: its bad calls. A new export without an entry fails the enumeration test. */
const SWEEP: Record<string, Entry> = {
  addressOf: () => BAD_BUFFERS.map(([what, make]) => c(`(${what})`, () => api.addressOf(make() as never))).concat([c("(null)", () => api.addressOf(null as never))]),
  cString: () => [...BAD_PATHS.map(([what, v]) => c(`(${what})`, () => api.cString(v as never))), c("(null)", () => api.cString(null as never))],
  cStringAddress: () => [c("(a string as bytes)", () => api.cStringAddress("x" as never, "x")), c("(detached bytes)", () => api.cStringAddress(detachedView(), detachedView()))],
  copyFile: (x) => [
    c("(src with a NUL byte)", () => api.copyFile("a\0b", join(x.dir, "out"))),
    c("(dest with a NUL byte)", () => api.copyFile(x.regular, "a\0b")),
    c("(a number as src)", () => api.copyFile(42 as never, join(x.dir, "out"))),
    c("(queueDepth NaN)", () => api.copyFile(x.regular, join(x.dir, "out"), { queueDepth: Number.NaN })),
    c("(blockSize -1)", () => api.copyFile(x.regular, join(x.dir, "out"), { blockSize: -1 })),
    c("(an unknown option)", () => api.copyFile(x.regular, join(x.dir, "out"), { bogus: 1 } as never)),
  ],
  copyTree: (x) => [
    c("(src with a NUL byte)", () => api.copyTree("a\0b", join(x.dir, "tree"))),
    c("(dest with a NUL byte)", () => api.copyTree(x.dir, "a\0b")),
    c("(null src)", () => api.copyTree(null as never, join(x.dir, "tree"))),
    c("(queueDepth 0)", () => api.copyTree(x.dir, join(x.dir, "tree2"), { queueDepth: 0 })),
  ],
  decodeFlags: () => [
    c("(NaN)", () => api.decodeFlags(Number.NaN, api.IOSQE_FLAG_NAMES)),
    c("(a string)", () => api.decodeFlags("1" as never, api.IOSQE_FLAG_NAMES)),
    c("(no table)", () => api.decodeFlags(1, null as never)),
  ],
  errnoMessage: () => [
    c("(NaN) is 'unknown error', not strerror(0)'s 'success'", () => api.errnoMessage(Number.NaN), (v) => v === "unknown error NaN"),
    c("(a string)", () => api.errnoMessage("x" as never), (v) => v === "unknown error x"),
  ],
  errnoName: () => [
    c("(NaN) is UNKNOWN_ERRNO_NaN, as documented", () => api.errnoName(Number.NaN), eq("UNKNOWN_ERRNO_NaN")),
    c("(99999) is UNKNOWN_ERRNO_99999", () => api.errnoName(99999), eq("UNKNOWN_ERRNO_99999")),
  ],
  errnoNumber: () => [c("(an unknown name) is undefined", () => api.errnoNumber("ENOTANERRNO"), eq(undefined)), c("(a number) is undefined", () => api.errnoNumber(2 as never), eq(undefined))],
  parseOpenFlags: () => [
    c("('zz')", () => api.parseOpenFlags("zz" as never)),
    c("(NaN)", () => api.parseOpenFlags(Number.NaN)),
    c("(1.5)", () => api.parseOpenFlags(1.5)),
    c("({})", () => api.parseOpenFlags({} as never)),
  ],
  parseSockaddr: () => [
    c("(a string)", () => api.parseSockaddr("x" as never)),
    c("(null)", () => api.parseSockaddr(null as never)),
    c("(len NaN)", () => api.parseSockaddr(new Uint8Array(16), Number.NaN)),
  ],
  parseStatx: () => [c("(a string)", () => api.parseStatx("x" as never)), c("(3 bytes)", () => api.parseStatx(new Uint8Array(3)))],
  sockaddr: () => [
    c("(not an address)", () => api.sockaddr("not a host", 80)),
    c("(port NaN)", () => api.sockaddr("127.0.0.1", Number.NaN)),
    c("(port -1)", () => api.sockaddr("127.0.0.1", -1)),
    c("(port 70000)", () => api.sockaddr("127.0.0.1", 70000)),
    c("(a number as host)", () => api.sockaddr(42 as never, 80)),
  ],
  sockaddrUnix: () => [c("(NUL byte)", () => api.sockaddrUnix("a\0b")), c("(200 bytes)", () => api.sockaddrUnix("x".repeat(200))), c("(a number)", () => api.sockaddrUnix(42 as never))],
  BufferRing: () => [
    c("(bgid NaN)", () => new api.BufferRing(Number.NaN, 8, 64)),
    c("(entries 3, not a power of two)", () => new api.BufferRing(0, 3, 64)),
    c("(bufferSize -1)", () => new api.BufferRing(0, 8, -1)),
    c("(bufferSize NaN)", () => new api.BufferRing(0, 8, Number.NaN)),
  ],
  Cqe: () => [c("(null view)", () => new api.Cqe(null as never, 0)), c("(slot past the end)", () => new api.Cqe(new Uint32Array(4), 2)), c("(slot NaN)", () => new api.Cqe(new Uint32Array(4), Number.NaN))],
  Sqe: () => [c("(null view)", () => new api.Sqe(null as never, 0)), c("(slot past the end)", () => new api.Sqe(new Uint32Array(16), 8)), c("(slot -1)", () => new api.Sqe(new Uint32Array(32), -1))],
  IoUring: (x) => [
    c("(NaN entries)", () => new api.IoUring(Number.NaN)),
    c("(-1 entries)", () => new api.IoUring(-1)),
    c("(2^31 entries)", () => new api.IoUring(2 ** 31)),
    c("('4' entries)", () => new api.IoUring("4" as never)),
    c("(memory 'x')", () => new api.IoUring(4, { memory: "x" } as never)),
    c("(cqEntries below entries)", () => new api.IoUring(8, { cqEntries: 2 })),
    c("(flags NaN)", () => new api.IoUring(4, { flags: Number.NaN })),
    c("(an unknown option)", () => new api.IoUring(4, { bogus: true } as never)),
    c("attach({})", () => api.IoUring.attach({} as never)),
    c("attach(null)", () => api.IoUring.attach(null as never)),
    c(".submitAndWait(-1)", () => x.ring.submitAndWait(-1)),
    c(".submitAndWait(NaN)", () => x.ring.submitAndWait(Number.NaN)),
    c(".waitCqeNr(-1)", () => x.ring.waitCqeNr(-1)),
    c(".waitCqeTimeout(NaN)", () => x.ring.waitCqeTimeout(Number.NaN)),
    c(".waitCqeTimeout(1, -1)", () => x.ring.waitCqeTimeout(1, -1)),
    c(".cqAdvance(NaN)", () => x.ring.cqAdvance(Number.NaN)),
    c(".cqAdvance(5) past the ready CQEs", () => x.ring.cqAdvance(5)),
    c(".cqAdvance(-1)", () => x.ring.cqAdvance(-1)),
    c(".peekBatchCqe(null)", () => x.ring.peekBatchCqe(null as never)),
    c(".peekBatchCqe([], NaN)", () => x.ring.peekBatchCqe([], Number.NaN)),
    c(".forEachCqe(null)", () => x.ring.forEachCqe(null as never)),
    c(".enter(NaN, 0, 0)", () => x.ring.enter(Number.NaN, 0, 0)),
    c(".enter(0, -1, 0)", () => x.ring.enter(0, -1, 0)),
    c(".registerBuffers('x')", () => x.ring.registerBuffers("x" as never)),
    c(".registerBuffers([detached])", () => x.ring.registerBuffers([detachedView()])),
    c(".registerBuffers([resizable])", () => x.ring.registerBuffers([resizableView()])),
    c(".registerBuffers(['x'])", () => x.ring.registerBuffers(["x" as never])),
    c(".registerFiles(['x'])", () => x.ring.registerFiles(["x" as never])),
    c(".registerFiles([NaN])", () => x.ring.registerFiles([Number.NaN])),
    c(".registerFiles(null)", () => x.ring.registerFiles(null as never)),
    c(".registerFilesUpdate(NaN, [1])", () => x.ring.registerFilesUpdate(Number.NaN, [1])),
    c(".registerEventfd(NaN)", () => x.ring.registerEventfd(Number.NaN)),
    c(".registerIowqMaxWorkers(-1, -1)", () => x.ring.registerIowqMaxWorkers(-1, -1)),
    c(".setupBufRing(0, 3, 64)", () => x.ring.setupBufRing(0, 3, 64)),
    c(".register(0, 'x', 1)", () => x.ring.register(0, "x" as never, 1)),
    c(".share('x')", () => x.ring.share("x" as never)),
    c(".getSqe() on a closed ring", () => x.closedRing.getSqe()),
    c(".cqReady() on a closed ring", () => x.closedRing.cqReady()),
  ],
  IoVecs: () => [
    c("(['x'])", () => new api.IoVecs(["x"] as never)),
    c("('x')", () => new api.IoVecs("x" as never)),
    c("([detached])", () => new api.IoVecs([detachedView()])),
    c("([resizable])", () => new api.IoVecs([resizableView()])),
  ],
  Probe: () => [
    c(".isSupported(NaN) is false", () => new api.Probe(5, new Uint16Array(6).fill(1)).isSupported(Number.NaN), eq(false)),
    c(".isSupported(-1) is false", () => new api.Probe(5, new Uint16Array(6).fill(1)).isSupported(-1), eq(false)),
    c(".isSupported(99) is false", () => new api.Probe(5, new Uint16Array(6).fill(1)).isSupported(99), eq(false)),
  ],
  Timespec: () => [
    c("(NaN)", () => new api.Timespec(Number.NaN)),
    c("(-1)", () => new api.Timespec(-1)),
    c("(Infinity)", () => new api.Timespec(Number.POSITIVE_INFINITY)),
    c("('5')", () => new api.Timespec("5" as never)),
    c(".set(NaN)", () => new api.Timespec(1).set(Number.NaN)),
  ],
  Uring: (x) => [
    c("({ entries: -3 })", () => new api.Uring({ entries: -3 })),
    c("({ entries: NaN })", () => new api.Uring({ entries: Number.NaN })),
    c("({ maxInFlight: 0 })", () => new api.Uring({ maxInFlight: 0 })),
    c("({ bogus: 1 })", () => new api.Uring({ bogus: 1 } as never)),
    c("('x')", () => new api.Uring("x" as never)),
    c(".read(NaN fd)", () => x.io.read(Number.NaN, new Uint8Array(4))),
    c(".read(-1 fd)", () => x.io.read(-1, new Uint8Array(4))),
    c(".read(2^40 fd)", () => x.io.read(2 ** 40, new Uint8Array(4))),
    ...BAD_BUFFERS.map(([what, make]) => c(`.read(fd, ${what})`, () => x.io.read(0, make() as never))),
    c(".read(fd, buf, NaN)", () => x.io.read(0, new Uint8Array(4), Number.NaN)),
    c(".read(fd, buf, -5)", () => x.io.read(0, new Uint8Array(4), -5)),
    c(".read(fd, buf, 2^64)", () => x.io.read(0, new Uint8Array(4), 2 ** 64)),
    ...BAD_BUFFERS.map(([what, make]) => c(`.write(fd, ${what})`, () => x.io.write(1, make() as never))),
    c(".readv(fd, 'x')", () => x.io.readv(0, "x" as never)),
    c(".readv(fd, [detached])", () => x.io.readv(0, [detachedView()])),
    c(".writev(fd, [resizable])", () => x.io.writev(1, [resizableView()])),
    c(".closeFd(NaN)", () => x.io.closeFd(Number.NaN)),
    c(".fsync(-1)", () => x.io.fsync(-1)),
    c(".ftruncate(fd, NaN)", () => x.io.ftruncate(0, Number.NaN)),
    c(".fallocate(fd, NaN, 1)", () => x.io.fallocate(0, Number.NaN, 1)),
    c(".fstat('x')", () => x.io.fstat("x" as never)),
    ...BAD_PATHS.slice(0, 3).flatMap(([what, v]) => [
      c(`.open(${what})`, () => x.io.open(v as never)),
      c(`.openFd(${what})`, () => x.io.openFd(v as never)),
      c(`.stat(${what})`, () => x.io.stat(v as never)),
      c(`.lstat(${what})`, () => x.io.lstat(v as never)),
      c(`.unlink(${what})`, () => x.io.unlink(v as never)),
      c(`.rmdir(${what})`, () => x.io.rmdir(v as never)),
      c(`.mkdir(${what})`, () => x.io.mkdir(v as never)),
      c(`.readFile(${what})`, () => x.io.readFile(v as never)),
      c(`.writeFile(${what})`, () => x.io.writeFile(v as never, "data")),
      c(`.rename(${what}, b)`, () => x.io.rename(v as never, join(x.dir, "b"))),
      c(`.rename(a, ${what})`, () => x.io.rename(x.regular, v as never)),
      c(`.symlink(target, ${what})`, () => x.io.symlink("t", v as never)),
      c(`.link(${what}, b)`, () => x.io.link(v as never, join(x.dir, "b")) as Promise<void>),
    ]),
    c(".open(path, 'zz')", () => x.io.open(x.regular, "zz")),
    c(".open(path, 'r', NaN)", () => x.io.open(x.regular, "r", Number.NaN)),
    c(".writeFile(path, 42)", () => x.io.writeFile(join(x.dir, "w"), 42 as never)),
    c(".writeFile(path, detached)", () => x.io.writeFile(join(x.dir, "w"), detachedView())),
    c(".sleep(NaN)", () => x.io.sleep(Number.NaN)),
    c(".sleep(-1)", () => x.io.sleep(-1)),
    c(".nop({ timeout: NaN })", () => x.io.nop({ timeout: Number.NaN })),
    c(".nop({ signal: 'x' })", () => x.io.nop({ signal: "x" as never })),
    c(".socket(NaN)", () => x.io.socket(Number.NaN)),
    c(".connect(fd, { host: 'x', port: 1 })", () => x.io.connect(3, { host: "x", port: 1 })),
    c(".connect(fd, { host: '127.0.0.1', port: NaN })", () => x.io.connect(3, { host: "127.0.0.1", port: Number.NaN })),
    c(".bind(NaN, addr)", () => x.io.bind(Number.NaN, { host: "127.0.0.1", port: 0 })),
    c(".listen(fd, NaN)", () => x.io.listen(3, Number.NaN)),
    c(".listenTcp('127.0.0.1', -1)", () => x.io.listenTcp("127.0.0.1", -1)),
    c(".accept(NaN)", () => x.io.accept(Number.NaN)),
    c(".acceptMany(NaN)", () => x.io.acceptMany(Number.NaN).next()),
    c(".send(fd, 'x')", () => x.io.send(3, "x" as never)),
    c(".recv(fd, detached)", () => x.io.recv(3, detachedView())),
    c(".recvMany(fd, { bufferSize: -1 })", () => x.io.recvMany(3, { bufferSize: -1 }).next()),
    c(".shutdown(NaN)", () => x.io.shutdown(Number.NaN)),
    // numeric arguments the kernel takes as they are: NaN would have been written as 0 and run
    c(".send(fd, buf, NaN flags)", () => x.io.send(3, new Uint8Array(1), Number.NaN)),
    c(".recv(fd, buf, -1 flags)", () => x.io.recv(3, new Uint8Array(1), -1)),
    c(".fallocate(fd, 0, 1, NaN mode)", () => x.io.fallocate(0, 0, 1, Number.NaN)),
    c(".openFd(path, 1.5)", () => x.io.openFd(x.regular, 1.5)),
    c(".openFd(path, -1)", () => x.io.openFd(x.regular, -1)),
    c(".socket(AF_INET, NaN)", () => x.io.socket(2, Number.NaN)),
    c(".socket(AF_INET, 1, 0.5)", () => x.io.socket(2, 1, 0.5)),
    c(".listen(fd, -1)", () => x.io.listen(3, -1)),
    c(".shutdown(fd, 7)", () => x.io.shutdown(3, 7)),
    c(".link([{ op: 'bogus' }])", () => Promise.all(x.io.link([{ op: "bogus" } as never]) as Promise<unknown>[])),
    c(".link([{ op: 'read', fd: NaN, buffer }])", () => Promise.all(x.io.link([{ op: "read", fd: Number.NaN, buffer: new Uint8Array(1) }]) as Promise<unknown>[])),
    c(".enqueue(null, null)", () => x.io.enqueue(null as never, null as never)),
  ],
  UringError: () => [
    c("(NaN, 'read')", () => new api.UringError(Number.NaN, "read")),
    c("(0, 'read')", () => new api.UringError(0, "read")),
    c("(-2, 42)", () => new api.UringError(-2, 42 as never)),
  ],
  UringFile: (x) => [
    ...BAD_BUFFERS.map(([what, make]) => c(`.read(${what})`, () => x.file.read(make() as never))),
    c(".read(buf, NaN)", () => x.file.read(new Uint8Array(4), Number.NaN)),
    c(".write('x')", () => x.file.write("x" as never)),
    c(".readv('x')", () => x.file.readv("x" as never)),
    c(".truncate(NaN)", () => x.file.truncate(Number.NaN)),
  ],
  OpenHow: () => [
    c("(flags NaN)", () => new api.OpenHow(Number.NaN)),
    c("(flags a string)", () => new api.OpenHow("0" as never)),
    c("(mode an object)", () => new api.OpenHow(0, {} as never)),
    c("(resolve 2^64)", () => new api.OpenHow(0, 0, 2 ** 64)),
    c("(resolve Infinity)", () => new api.OpenHow(0, 0, Number.POSITIVE_INFINITY)),
  ],
  MsgHdr: () => [
    c("(iov a string)", () => new api.MsgHdr("x" as never)),
    c("(iov a plain object)", () => new api.MsgHdr({ address: 8, length: 1 } as never)),
    c("(iov a Timespec)", () => new api.MsgHdr(new api.Timespec(1) as never)),
    ...BAD_BUFFERS.map(([what, make]) => c(`(name ${what})`, () => new api.MsgHdr(null, make() as never))),
    ...BAD_BUFFERS.map(([what, make]) => c(`(control ${what})`, () => new api.MsgHdr(null, null, make() as never))),
  ],
  FutexWaitv: () => {
    const word = () => new Uint32Array(1);
    return [
      c("([])", () => new api.FutexWaitv([])),
      c("(null)", () => new api.FutexWaitv(null as never)),
      c("(a string)", () => new api.FutexWaitv("x" as never)),
      c("([null])", () => new api.FutexWaitv([null as never])),
      c("([42])", () => new api.FutexWaitv([42 as never])),
      c("(word a plain array)", () => new api.FutexWaitv([{ word: [0] as never, val: 0 }])),
      c("(word an Int32Array)", () => new api.FutexWaitv([{ word: new Int32Array(1) as never, val: 0 }])),
      c("(word empty)", () => new api.FutexWaitv([{ word: new Uint32Array(0), val: 0 }])),
      c("(word detached)", () => {
        const w = new Uint32Array(1);
        structuredClone(w, { transfer: [w.buffer] });
        return new api.FutexWaitv([{ word: w, val: 0 }]);
      }),
      c("(word resizable)", () => new api.FutexWaitv([{ word: new Uint32Array(new ArrayBuffer(4, { maxByteLength: 64 })), val: 0 }])),
      ...BAD_NUMBERS.map(([what, v]) => c(`(val ${what})`, () => new api.FutexWaitv([{ word: word(), val: v as never }]))),
      c("(val -1)", () => new api.FutexWaitv([{ word: word(), val: -1 }])),
      c("(val 2^32: the futex word is 32 bits)", () => new api.FutexWaitv([{ word: word(), val: 2 ** 32 }])),
      c("(val 1.5)", () => new api.FutexWaitv([{ word: word(), val: 1.5 }])),
      ...BAD_NUMBERS.map(([what, v]) => c(`(flags ${what})`, () => new api.FutexWaitv([{ word: word(), val: 0, flags: v as never }]))),
      c("(129 entries: FUTEX_WAITV_MAX is 128)", () => new api.FutexWaitv(Array.from({ length: 129 }, () => ({ word: word(), val: 0 })))),
    ];
  },
  EpollEvents: () => {
    const ev = () => new api.EpollEvents(2);
    return [
      ...BAD_NUMBERS.map(([what, v]) => c(`(${what})`, () => new api.EpollEvents(v as never))),
      c("(0)", () => new api.EpollEvents(0)),
      c("(-1)", () => new api.EpollEvents(-1)),
      c("(1.5)", () => new api.EpollEvents(1.5)),
      c("(2^40)", () => new api.EpollEvents(2 ** 40)),
      c(".events(-1)", () => ev().events(-1)),
      c(".events(2) past the end", () => ev().events(2)),
      c(".events(NaN)", () => ev().events(Number.NaN)),
      c(".data(1.5)", () => ev().data(1.5)),
      c(".data('0')", () => ev().data("0" as never)),
      c(".set(2, …) past the end", () => ev().set(2, 1, 0)),
      c(".set(0, NaN, 0)", () => ev().set(0, Number.NaN, 0)),
      c(".set(0, 2^40, 0)", () => ev().set(0, 2 ** 40, 0)),
      c(".set(0, 1, NaN)", () => ev().set(0, 1, Number.NaN)),
      c(".set(0, 1, -1)", () => ev().set(0, 1, -1)),
      c(".set(0, 1, 1.5)", () => ev().set(0, 1, 1.5)),
      c(".set(0, 1, 2^64 as a bigint)", () => ev().set(0, 1, 2n ** 64n)),
      c(".set(0, 1, 'x')", () => ev().set(0, 1, "x" as never)),
    ];
  },
  course: () => [
    c("('nop': a string, not a list)", () => api.course("nop" as never)),
    c("(['bogus'])", () => api.course(["bogus"])),
    c("([42])", () => api.course([42 as never])),
    c("(null)", () => api.course(null as never)),
    c("({})", () => api.course({} as never)),
    c("(['nop', '__proto__'])", () => api.course(["nop", "__proto__"])),
  ],
  formatTraceEvent: () => [
    c("(null)", () => api.formatTraceEvent(null as never)),
    c("('sqe')", () => api.formatTraceEvent("sqe" as never)),
    c("({})", () => api.formatTraceEvent({} as never)),
    c("({ type: 'bogus' })", () => api.formatTraceEvent({ type: "bogus", ring: 3, seq: 0 } as never)),
    c("({ type: 'toString' })", () => api.formatTraceEvent({ type: "toString", ring: 3, seq: 0 } as never)),
    c("({ type: 'sqe' } without its fields)", () => api.formatTraceEvent({ type: "sqe", ring: 3, seq: 0 } as never)),
    c("({ type: 'enter', flagNames: 'x' })", () =>
      api.formatTraceEvent({ type: "enter", ring: 3, seq: 0, toSubmit: 1, minComplete: 0, flags: 0, flagNames: "x", result: 1 } as never),
    ),
  ],
  renderText: () => pictureCases("renderText", api.renderText),
  renderSvg: () => pictureCases("renderSvg", api.renderSvg),
  traceWriter: () => [
    c("(null)", () => api.traceWriter(null as never)),
    c("('json')", () => api.traceWriter("json" as never)),
    ...BAD_NUMBERS.map(([what, v]) => c(`({ fd: ${what} })`, () => api.traceWriter({ fd: v as never }))),
    c("({ fd: -1 })", () => api.traceWriter({ fd: -1 })),
    c("({ fd: 1.5 })", () => api.traceWriter({ fd: 1.5 })),
    c("({ json: 'yes' })", () => api.traceWriter({ json: "yes" as never })),
    c("({ bogus: 1 })", () => api.traceWriter({ bogus: 1 } as never)),
  ],
  UringStats: { none: "a plain record filled by parseStatx (swept there); its methods take no input" },
  parseStatxUnused: { none: "placeholder" },
};
delete SWEEP.parseStatxUnused;

// ------------------------------------------------------------------ the tests

const isClass = (v: unknown) => typeof v === "function" && /^class[\s{]/.test(Function.prototype.toString.call(v));
const exportedFunctions = Object.entries(api).filter(([, v]) => typeof v === "function") as [string, Function][];

test("every function and class exported by lib/index.ts has a sweep entry (prep* are swept generically)", () => {
  const missing = exportedFunctions.filter(([name]) => !name.startsWith("prep") && !(name in SWEEP)).map(([n]) => n);
  expect(missing, `exports without a bad-input sweep entry in test/bad-input.test.ts: ${missing.join(", ")}`).toEqual([]);
  const stale = Object.keys(SWEEP).filter((k) => !(k in api));
  expect(stale, `sweep entries for exports that no longer exist: ${stale.join(", ")}`).toEqual([]);
  expect(exportedFunctions.length).toBeGreaterThan(40);
});

describe.skipIf(!!unavailable)("bad input", () => {
  const ctx = {} as Ctx;
  let dir: ReturnType<typeof tempDir>;
  let pool: api.IoUring[] = [];
  beforeAll(async () => {
    dir = tempDir("bun-uring-bad-");
    ctx.dir = dir.path;
    ctx.regular = join(dir.path, "regular");
    writeFileSync(ctx.regular, "some bytes");
    ctx.ring = new api.IoUring(8);
    ctx.closedRing = new api.IoUring(2);
    ctx.closedRing.close();
    ctx.io = new api.Uring({ entries: 8 });
    ctx.file = await ctx.io.open(ctx.regular, "r");
    // SQEs for the prep sweep come from rings that are never submitted: garbage never reaches the kernel
    ctx.newSqe = () => {
      let ring = pool.at(-1);
      if (!ring || ring.sqSpaceLeft() === 0) {
        ring = new api.IoUring(256);
        pool.push(ring);
      }
      return ring.getSqe()!;
    };
    ctx.staleSqe = () => {
      const r = new api.IoUring(1);
      const sqe = r.getSqe()!;
      r.close();
      return sqe;
    };
  });
  afterAll(async () => {
    await ctx.file?.close().catch(() => {});
    await ctx.io?.close();
    ctx.ring?.close();
    for (const r of pool) r.close();
    pool = [];
    dir?.cleanup();
  });

  test("every prep* helper: bad SQEs, fds, lengths, offsets, buffers, paths, timespecs → clear errors", async () => {
    const preps = exportedFunctions.filter(([n]) => n.startsWith("prep") && n !== "prepRw");
    expect(preps.length).toBeGreaterThan(30);
    const problems: string[] = [];
    let total = 0;
    for (const [name, fn] of preps) {
      const plan = planPrep(fn, ctx.newSqe);
      if (typeof plan === "string") {
        problems.push(`${name}: ${plan}`);
        continue;
      }
      const cases = prepCases(name, fn, plan, ctx.newSqe, ctx.staleSqe);
      total += cases.length;
      problems.push(...(await runCases(name, cases)));
    }
    // prepRw, the common body, takes the raw fields
    const rw: Case[] = [
      c("(fd NaN)", () => api.prepRw(0, ctx.newSqe(), Number.NaN, 0, 0, 0)),
      c("(len NaN)", () => api.prepRw(0, ctx.newSqe(), 0, 0, Number.NaN, 0)),
      c("(len 2^40)", () => api.prepRw(0, ctx.newSqe(), 0, 0, 2 ** 40, 0)),
      c("(addr NaN)", () => api.prepRw(0, ctx.newSqe(), 0, Number.NaN, 0, 0)),
      c("(offset NaN)", () => api.prepRw(0, ctx.newSqe(), 0, 0, 0, Number.NaN)),
      c("(null sqe)", () => api.prepRw(0, null as never, 0, 0, 0, 0)),
      c("(stale sqe)", () => api.prepRw(0, ctx.staleSqe(), 0, 0, 0, 0)),
    ];
    problems.push(...(await runCases("prepRw", rw)));
    expect(problems).toEqual([]);
    expect(total).toBeGreaterThan(500);
  });

  test("every other export: the sweep table", async () => {
    const problems: string[] = [];
    let total = 0;
    for (const [name, entry] of Object.entries(SWEEP)) {
      if (typeof entry !== "function") {
        expect(entry.none.length).toBeGreaterThan(10); // a reason, not an empty excuse
        continue;
      }
      const cases = entry(ctx);
      expect(cases.length).toBeGreaterThan(0);
      total += cases.length;
      problems.push(...(await runCases(name, cases)));
    }
    expect(problems).toEqual([]);
    expect(total).toBeGreaterThan(150);
    // nothing above reached the kernel: the live ring is untouched and still works
    expect(ctx.ring.cqReady()).toBe(0);
    api.prepNop(ctx.ring.getSqe()!);
    expect(ctx.ring.submitAndWait(1)).toBe(1);
    ctx.ring.cqeSeen();
    expect(await ctx.io.nop()).toBe(0);
  });

  test("Uring: numeric flags, modes and socket arguments are checked before any SQE (NaN was written as 0)", () => {
    // a synchronous throw naming the argument: the kernel never saw the call (with NaN as 0,
    // send/recv would have run with no flags and socket() would have made a socket)
    const cases: [() => unknown, string][] = [
      [() => ctx.io.send(3, new Uint8Array(1), Number.NaN), '"flags"'],
      [() => ctx.io.recv(3, new Uint8Array(1), 2 ** 32), '"flags"'],
      [() => ctx.io.fallocate(0, 0, 1, Number.NaN), '"mode"'],
      [() => ctx.io.openFd(ctx.regular, 1.5), '"flags"'],
      [() => ctx.io.socket(2, 1, 0.5), '"protocol"'],
      [() => ctx.io.socket(Number.NaN), '"domain"'],
      [() => ctx.io.listen(3, -1), '"backlog"'],
      [() => ctx.io.shutdown(3, 7), '"how"'],
    ];
    for (const [call, name] of cases) {
      let err: unknown;
      try {
        call();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RangeError);
      expect((err as Error).message).toContain(name);
      expect((err as { code?: string }).code).toBe("ERR_OUT_OF_RANGE");
    }
  });

  test("every method of IoUring, Uring and UringFile on a closed object: a clear error (enumerated)", async () => {
    const closedRing = new api.IoUring(2);
    closedRing.close();
    const io = new api.Uring({ entries: 2 });
    const f = await io.open(ctx.regular, "r");
    await f.close();
    await io.close();
    const targets: [string, object, object][] = [
      ["IoUring", api.IoUring.prototype, closedRing],
      ["Uring", api.Uring.prototype, io],
      ["UringFile", api.UringFile.prototype, f],
    ];
    // teardown and introspection answer on a closed object by design
    const exempt = new Set(["constructor", "close", "closed", "memory", "inFlight", "queued", "path", "fd"]);
    const problems: string[] = [];
    let swept = 0;
    for (const [cls, proto, obj] of targets) {
      for (const key of Reflect.ownKeys(proto)) {
        if (typeof key === "symbol" || exempt.has(key)) continue;
        const d = Object.getOwnPropertyDescriptor(proto, key)!;
        if (d.get || typeof d.value !== "function") continue;
        swept++;
        const o = await outcome(() => (obj as Record<string, (...a: unknown[]) => unknown>)[key]!(0, 0, 0));
        let e = o.error;
        if (!o.threw && o.value && typeof (o.value as AsyncIterator<unknown>).next === "function") {
          const n = await outcome(() => (o.value as AsyncIterator<unknown>).next());
          if (n.threw) e = n.error;
          else {
            problems.push(`${cls}.${key}() on a closed object: an iterator that did not fail`);
            continue;
          }
        } else if (!o.threw) {
          problems.push(`${cls}.${key}() on a closed object: no error (returned ${String(o.value)})`);
          continue;
        }
        const why = clearness(e);
        if (why) problems.push(`${cls}.${key}() on a closed object: ${why}`);
      }
    }
    expect(problems).toEqual([]);
    expect(swept).toBeGreaterThan(60);
  });
});

// ------------------------------------------------------------------ CLI flags

/** Run main() with console output captured; returns the exit code and what went to stderr. */
async function runMain(argv: string[]): Promise<{ code: number; err: string; out: string }> {
  const err: string[] = [];
  const out: string[] = [];
  const saved = { error: console.error, log: console.log };
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  try {
    const code = await main(argv);
    return { code, err: err.join("\n"), out: out.join("\n") };
  } finally {
    console.error = saved.error;
    console.log = saved.log;
  }
}

const BAD_VALUES = ["", "abc", "-1", "NaN", "1e999", "99999999999999999999", "0x", " ", "--", "1.5"];

test("CLI: every command in the help has its flags in CLI_FLAGS, and every flag it mentions is there", async () => {
  const help = (await runMain(["--help"])).out;
  const commands = [...help.matchAll(/^\s+bun-uring (\w[\w-]*)/gm)].map((m) => m[1]!).filter((c) => c !== "help" && c !== "version");
  expect(commands.length).toBeGreaterThanOrEqual(3);
  const problems: string[] = [];
  for (const cmd of commands) {
    if (!(cmd in CLI_FLAGS)) {
      problems.push(`command ${cmd} has no CLI_FLAGS entry in lib/cli.ts`);
      continue;
    }
    const known = new Set(CLI_FLAGS[cmd]!.map((f) => f.flag));
    const line = help.split("\n").filter((l) => l.includes(`bun-uring ${cmd}`)).join(" ");
    const sub = (await runMain([cmd, "--help"])).out;
    for (const m of `${line}\n${cmd === "cp" ? sub : ""}`.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)) {
      if (!known.has(`--${m[1]}`)) problems.push(`${cmd}: --${m[1]} is in the help but not in CLI_FLAGS`);
    }
  }
  expect(problems).toEqual([]);
});

/**
 * Run `fn` in a fresh temporary working directory: a value the CLI wrongly takes as a file name
 * ("abc", "-1") is then written there, not into the repository, and the directory is removed after.
 */
async function inTempCwd<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = tempDir("bun-uring-cli-sweep-");
  const saved = process.cwd();
  process.chdir(dir.path);
  try {
    return await fn(dir.path);
  } finally {
    process.chdir(saved);
    dir.cleanup();
  }
}

test("CLI: every flag of every command with bad values → exit 2 and a message naming it, never a crash", async () => {
  await inTempCwd(async (cwd) => {
    // trace gets a real script, so a bad --output that slips through runs it and exits 0: caught
    const script = join(cwd, "ok.ts");
    writeFileSync(script, "process.exit(0);\n");
    writeFileSync(join(cwd, "regular-file"), "x");
    const operands: Record<string, string[]> = { cp: ["a", "b"], trace: [script] };
    // what a wrong value is depends on what the value is (CliFlag.kind in lib/cli.ts)
    const badFor = (kind: CliFlag["kind"]): string[] =>
      kind === "file"
        ? ["", cwd, join(cwd, "missing", "out")] // empty, a directory, a missing parent
        : kind === "dir"
          ? ["", join(cwd, "regular-file"), join(cwd, "missing")] // empty, not a directory, missing
          : BAD_VALUES;
    const problems: string[] = [];
    let swept = 0;
    for (const [cmd, flags] of Object.entries(CLI_FLAGS)) {
      const ops = operands[cmd] ?? [];
      for (const { flag, value, kind } of flags) {
        const long = flag.startsWith("--");
        if (value !== "none" && !kind) problems.push(`${cmd} ${flag}: takes a value but has no kind in CLI_FLAGS`);
        // a switch given a value
        if (long && value === "none") {
          const r = await runMain([cmd, `${flag}=yes`, "a", "b"]);
          swept++;
          if (r.code !== 2 || !r.err.includes(flag)) problems.push(`${cmd} ${flag}=yes: exit ${r.code}, stderr ${JSON.stringify(r.err.slice(0, 100))}`);
        }
        if (value === "none") continue;
        // a value option with nothing after it
        if (value === "required") {
          const r = await runMain([cmd, flag]);
          swept++;
          if (r.code !== 2 || !r.err.includes(flag)) problems.push(`${cmd} ${flag} (no value): exit ${r.code}, stderr ${JSON.stringify(r.err.slice(0, 100))}`);
        }
        for (const bad of badFor(kind)) {
          if (cmd === "cp") {
            // cp's parser, directly: it must refuse the value, naming the flag
            swept++;
            try {
              parseCpArgs([`${flag}=${bad}`, "a", "b"]);
              problems.push(`cp ${flag}=${JSON.stringify(bad)}: accepted`);
            } catch (e) {
              const why = (e as Error).name === "CliError" && (e as Error).message.includes(flag) ? null : `${(e as Error).name}: ${(e as Error).message}`;
              if (why) problems.push(`cp ${flag}=${JSON.stringify(bad)}: ${why}`);
            }
            continue;
          }
          swept++;
          const o = await outcome(() => runMain([cmd, `${flag}=${bad}`, ...ops]));
          const r = o.value as { code: number; err: string } | undefined;
          if (o.threw) problems.push(`${cmd} ${flag}=${JSON.stringify(bad)}: main() threw ${(o.error as Error).message.slice(0, 80)}`);
          else if (r!.code !== 2 || !r!.err.includes(flag)) problems.push(`${cmd} ${flag}=${JSON.stringify(bad)}: exit ${r!.code}, stderr ${JSON.stringify(r!.err.slice(0, 100))}`);
        }
      }
      // a value with a NUL byte (only a programmatic main() can pass one; argv cannot)
      for (const { flag, value } of flags) {
        if (value === "none") continue;
        swept++;
        const o = await outcome(() => runMain([cmd, `${flag}=x\0y`, ...ops]));
        const r = o.value as { code: number; err: string } | undefined;
        if (o.threw) problems.push(`${cmd} ${flag}=<NUL>: main() threw ${(o.error as Error).message.slice(0, 80)}`);
        else if (r!.code !== 2 || !r!.err.includes(flag)) problems.push(`${cmd} ${flag}=<NUL>: exit ${r!.code}, stderr ${JSON.stringify(r!.err.slice(0, 100))}`);
      }
      // an unknown flag, for every command
      const r = await runMain([cmd, "--no-such-flag", ...ops]);
      swept++;
      if (r.code !== 2 || !r.err.includes("--no-such-flag")) problems.push(`${cmd} --no-such-flag: exit ${r.code}`);
    }
    expect(problems).toEqual([]);
    expect(swept).toBeGreaterThan(60);
    // nothing the sweep passed was written as a file: only the two files made above are here
    expect(readdirSync(cwd).sort()).toEqual(["ok.ts", "regular-file"]);
  });
});

kernelTest("CLI: FILE values are file names: learn --svg=-1 and --svg=NaN write those files", async () => {
  await inTempCwd(async (cwd) => {
    for (const name of ["-1", "NaN", join(cwd, "sub.svg")]) {
      const r = await runMain(["learn", "--scenario=nop", "--steps=1", `--svg=${name}`]);
      expect(r.code).toBe(0);
      expect(readFileSync(join(cwd, name.startsWith("/") ? "sub.svg" : name), "utf8")).toContain("<svg");
    }
  });
});

kernelTest("CLI: learn --svg whose write fails after the checks (/dev/full: ENOSPC) exits 1 naming the file, not an exception out of main()", async () => {
  const o = await outcome(() => runMain(["learn", "--scenario=nop", "--steps=1", "--svg=/dev/full"]));
  expect(o.threw).toBe(false);
  const r = o.value as { code: number; err: string };
  expect(r.code).toBe(1);
  expect(r.err).toContain("ENOSPC");
  expect(r.err).toContain("/dev/full");
});

test("CLI: cp operands with NUL bytes are usage errors (exit 2), not an exception out of main()", async () => {
  for (const argv of [["cp", "a\0b", "/tmp/x"], ["cp", "/etc/hostname", "/tmp/a\0b"], ["cp", "-r", "/tmp/none\0", "/tmp/y"]]) {
    const o = await outcome(() => runMain(argv));
    expect(o.threw).toBe(false);
    const r = o.value as { code: number; err: string };
    expect(r.code).toBe(2);
    expect(r.err).toContain("NUL byte");
  }
});

kernelTest("CLI: the real entry point with bad flags exits 2 with one line, no stack trace", () => {
  const root = join(import.meta.dir, "..");
  for (const argv of [
    ["cp", "--queue-depth=-1", "a", "b"],
    ["cp", "--block-size", "NaN", "a", "b"],
    ["demo", "--size=abc"],
    ["probe", "--json=1"],
  ]) {
    const r = Bun.spawnSync([process.execPath, "lib/cli.ts", ...argv], { cwd: root, stderr: "pipe" });
    const err = r.stderr.toString();
    expect(r.exitCode).toBe(2);
    expect(err).not.toContain("    at ");
    expect(err.trim().length).toBeGreaterThan(10);
  }
});
