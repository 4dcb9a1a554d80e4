/**
 * Model-based fuzzing of the raw ring: a seeded generator builds random sequences of
 * nop / read / short read / failing read / write (+ read-back) / timeout / count timeout /
 * cancel, as single ops, IO_LINK / IO_HARDLINK chains and IO_DRAIN units, over a random ring
 * (SQ and CQ sizes, memory mode, setup flags). A model predicts every CQE's user_data and res
 * (or, where the kernel leaves a choice, the allowed set), the bytes every read returns, and the
 * orderings the kernel guarantees:
 *
 * - every submitted op has exactly one CQE, none extra;
 * - the CQEs of a link chain arrive in chain order; after a member fails under IO_LINK (an error,
 *   a short read, an expired timeout without ETIME_SUCCESS) every later member is -ECANCELED;
 *   under IO_HARDLINK the chain goes on;
 * - an IO_DRAIN unit starts after every earlier op completed, and later ops after it completed;
 * - a cancel of a pending timeout returns 0 and the timeout -ECANCELED; a cancel of nothing -ENOENT;
 *   a cancel of some earlier op returns 0 / -ENOENT / -EALREADY and its target agrees with it (0:
 *   -ECANCELED; -ENOENT: its own result, or -ECANCELED when it was running in io-wq, where the
 *   kernel's io_try_cancel() turns -EALREADY into -ENOENT);
 * - a timeout with a count completes with 0 or -ETIME (the order relative to the CQEs it counted
 *   is the kernel's internal sequence, not checked).
 *
 * A mismatch throws an error naming the seed (`FUZZ_SEED=<seed> bun test test/fuzz.test.ts`).
 */
import { closeSync, openSync, readSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ERRNO } from "../../lib/errors.ts";
import {
  IORING_TIMEOUT_ETIME_SUCCESS,
  IOSQE_IO_DRAIN,
  IOSQE_IO_HARDLINK,
  IOSQE_IO_LINK,
  IoUring,
  prepCancel64,
  prepNop,
  prepRead,
  prepTimeout,
  prepWrite,
  Timespec,
  type IoUringOptions,
} from "../../lib/index.ts";
import { prng } from "../prng.ts";

const { ECANCELED, ENOENT, EALREADY, EBADF, ETIME, EINTR } = ERRNO;

/** Size of the read-only pattern file every read targets. */
export const PATTERN_SIZE = 64 * 1024;
/** Each write op owns one region of this many bytes in the scratch file. */
const REGION = 8192;
/** An fd number that is never open (above any RLIMIT_NOFILE we run with). */
const BAD_FD = 1 << 24;
/** A timeout its cancel is meant to catch pending. */
const LONG_TIMEOUT_MS = 1500;
/** Buffer size classes: tiny inline arrays, odd sizes, pages, more than a page. */
const SIZES = [1, 7, 64, 100, 511, 1000, 1001, 4096, 4097, 8192];

/** The byte at `offset` of the pattern file for `seed`. */
export function patternByte(seed: number, offset: number): number {
  return (Math.imul(offset ^ seed, 2654435761) >>> 24) & 0xff;
}

export function writePattern(dir: string, seed: number): string {
  const bytes = new Uint8Array(PATTERN_SIZE);
  for (let i = 0; i < bytes.length; i++) bytes[i] = patternByte(seed, i);
  const path = join(dir, "pattern.bin");
  writeFileSync(path, bytes);
  return path;
}

type Kind = "nop" | "read" | "shortRead" | "badRead" | "write" | "readBack" | "timeout" | "countTimeout" | "longTimeout" | "cancel" | "cancelMissing" | "cancelAny";

/** One op as generated: what it does, what the model says, and how it is linked. */
interface ModelOp {
  index: number;
  userData: number;
  kind: Kind;
  flags: number;
  /** Expected res when the op runs (not cancelled); null when the kernel leaves a choice. */
  expect: number | null;
  /** read / readBack / write */
  buf?: Uint8Array;
  offset?: number;
  /** The bytes a successful read must hold (the first `res` of them). */
  want?: Uint8Array;
  /** timeouts */
  ts?: Timespec;
  count?: number;
  etimeSuccess?: boolean;
  /** cancels: the op they target */
  target?: ModelOp;
  /** chain membership: chain id, position; the op before it in the chain */
  chain?: number;
  prev?: ModelOp;
  /** a readBack's write */
  writer?: ModelOp;
  /** drained unit this op belongs to: [first, last] op index */
  drain?: [number, number];
  /** a nop submitted alone before a long timeout, ending any active drain */
  guard?: boolean;
  // filled in from the CQE
  res?: number;
  pos?: number;
}

export interface FuzzCase {
  seed: number;
  entries: number;
  cqEntries: number;
  options: IoUringOptions;
  batches: ModelOp[][];
  ops: ModelOp[];
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

/** Build the op sequence and the ring shape for `seed`. `scratchFd` is the file writes go to. */
export function generate(seed: number, patternSeed: number, opsTarget = 60): FuzzCase {
  const r = prng(seed);
  const entries = pick(r, [1, 2, 4, 8, 16, 32, 64]);
  const cqEntries = Math.min(entries * pick(r, [1, 2, 4, 8]), 4096);
  const flagsChoice = pick(r, ["none", "single", "defer", "coop"] as const);
  const options: IoUringOptions = { cqEntries, memory: pick(r, ["shared", "mmap"] as const) };
  if (flagsChoice === "single") options.singleIssuer = true;
  if (flagsChoice === "defer") Object.assign(options, { deferTaskrun: true, taskrunFlag: true });
  if (flagsChoice === "coop") Object.assign(options, { coopTaskrun: true, taskrunFlag: true });

  const ops: ModelOp[] = [];
  const batches: ModelOp[][] = [];
  let chainId = 0;
  // user_data: a random base, sometimes above 2^32, so both u64 halves are exercised
  const base = r() < 0.5 ? Math.floor(r() * 1e6) : 2 ** 33 + Math.floor(r() * 1e9);
  const newOp = (kind: Kind, flags = 0): ModelOp => {
    const op: ModelOp = { index: ops.length, userData: base + ops.length, kind, flags, expect: null };
    ops.push(op);
    return op;
  };
  const size = () => pick(r, SIZES);
  const fill = (op: ModelOp): ModelOp => {
    switch (op.kind) {
      case "nop":
        op.expect = 0;
        break;
      case "read": {
        const len = size();
        const offset = Math.floor(r() * (PATTERN_SIZE - len));
        op.buf = new Uint8Array(len).fill(0xee);
        op.offset = offset;
        op.want = Uint8Array.from({ length: len }, (_, i) => patternByte(patternSeed, offset + i));
        op.expect = len;
        break;
      }
      case "shortRead": {
        // starts inside the last `len` bytes (or at EOF): fewer bytes than asked, a failure under IO_LINK
        const len = Math.max(2, size());
        const left = Math.floor(r() * len); // 0 … len-1 bytes before EOF
        op.buf = new Uint8Array(len).fill(0xee);
        op.offset = PATTERN_SIZE - left;
        op.want = Uint8Array.from({ length: left }, (_, i) => patternByte(patternSeed, op.offset! + i));
        op.expect = left;
        break;
      }
      case "badRead":
        op.buf = new Uint8Array(size());
        op.expect = -EBADF;
        break;
      case "write": {
        const len = Math.min(size(), REGION);
        op.buf = Uint8Array.from({ length: len }, () => Math.floor(r() * 256));
        op.offset = op.index * REGION;
        op.expect = len;
        break;
      }
      case "timeout":
        op.ts = new Timespec(r() * 3);
        op.count = 0;
        op.etimeSuccess = r() < 0.3;
        op.expect = -ETIME;
        break;
      case "countTimeout":
        op.ts = new Timespec(1 + r() * 5);
        op.count = 1 + Math.floor(r() * 4);
        op.expect = null; // 0 after `count` completions, or -ETIME
        break;
      case "longTimeout":
        op.ts = new Timespec(LONG_TIMEOUT_MS); // completes by its cancel (see check())
        op.count = 0;
        op.expect = -ECANCELED;
        break;
      case "cancel":
        op.expect = 0;
        break;
      case "cancelMissing":
        op.expect = -ENOENT;
        break;
      case "cancelAny":
        op.expect = null;
        break;
      default:
        break;
    }
    return op;
  };

  let batch: ModelOp[] = [];
  let inBatch = 0;
  /** Ops of this batch that a cancelAny may target: standalone, not drained. */
  let singles: ModelOp[] = [];
  const batchCap = () => Math.max(1, Math.floor(r() * cqEntries * 3));
  let cap = batchCap();
  const closeBatch = () => {
    if (batch.length) batches.push(batch);
    batch = [];
    inBatch = 0;
    singles = [];
    cap = batchCap();
  };
  let lastTimeout: ModelOp | null = null;
  while (ops.length < opsTarget) {
    const u = r();
    if (u < 0.3) {
      // a single op, maybe drained
      const drain = r() < 0.12;
      const kind = pick(r, ["nop", "nop", "read", "read", "shortRead", "badRead", "write", "timeout", "countTimeout", "cancelMissing"] as const);
      const op = fill(newOp(kind, drain ? IOSQE_IO_DRAIN : 0));
      if (drain) op.drain = [op.index, op.index];
      else if (kind !== "countTimeout") singles.push(op);
      batch.push(op);
      inBatch++;
    } else if (u < 0.7) {
      if (entries < 2) continue;
      // a chain of 2 … min(6, entries) members; a chain never spans a submit (it would be cut)
      const len = 2 + Math.floor(r() * (Math.min(6, entries) - 1));
      const drain = r() < 0.15;
      const id = ++chainId;
      const members: ModelOp[] = [];
      let prev: ModelOp | undefined;
      while (members.length < len) {
        const room = len - members.length;
        const kind = pick(r, ["nop", "read", "read", "shortRead", "badRead", "write", "timeout", ...(room >= 2 ? (["write+readBack"] as const) : [])] as const);
        const linkFlag = () => (r() < 0.35 ? IOSQE_IO_HARDLINK : IOSQE_IO_LINK);
        if (kind === "write+readBack") {
          const w = fill(newOp("write", linkFlag()));
          const rb = newOp("readBack", linkFlag());
          rb.writer = w;
          rb.buf = new Uint8Array(w.buf!.length).fill(0xee);
          rb.offset = w.offset;
          rb.want = w.buf;
          rb.expect = w.buf!.length;
          for (const m of [w, rb]) {
            m.chain = id;
            m.prev = prev;
            prev = m;
            members.push(m);
          }
        } else {
          const m = fill(newOp(kind, linkFlag()));
          m.chain = id;
          m.prev = prev;
          prev = m;
          members.push(m);
        }
      }
      members.at(-1)!.flags &= ~(IOSQE_IO_LINK | IOSQE_IO_HARDLINK);
      if (drain) {
        members[0]!.flags |= IOSQE_IO_DRAIN;
        for (const m of members) m.drain = [members[0]!.index, members.at(-1)!.index];
      }
      batch.push(...members);
      inBatch += members.length;
    } else if (u < 0.82) {
      // a long timeout, then its cancel later in the same submit (no drain in between: it would
      // hold the cancel back behind the timeout)
      if (entries < 2) continue;
      // While a drain is active the kernel issues every new request from task work — after a
      // cancel submitted behind it, which then finds nothing. A guard nop, submitted alone once
      // everything earlier completed, ends the drain (see runCase).
      const guard = fill(newOp("nop"));
      guard.guard = true;
      batch.push(guard);
      inBatch++;
      const t = fill(newOp("longTimeout"));
      batch.push(t);
      inBatch++;
      lastTimeout = t;
      const between = entries >= 4 ? Math.floor(r() * 2) : 0;
      for (let k = 0; k < between && 2 + k + 1 <= entries; k++) {
        const op = fill(newOp(pick(r, ["nop", "read", "write"] as const)));
        singles.push(op);
        batch.push(op);
        inBatch++;
      }
      const c = fill(newOp("cancel"));
      c.target = lastTimeout;
      batch.push(c);
      inBatch++;
    } else if (u < 0.9 && singles.length) {
      const c = fill(newOp("cancelAny"));
      c.target = pick(r, singles);
      batch.push(c);
      inBatch++;
    } else if (batch.length) {
      closeBatch();
    }
    if (inBatch >= cap) closeBatch();
  }
  closeBatch();
  return { seed, entries, cqEntries, options, batches, ops };
}

/** Fill one SQE for `op`. */
function prepOp(ring: IoUring, op: ModelOp, patternFd: number, scratchFd: number): void {
  const sqe = ring.getSqe();
  if (!sqe) throw new Error(`no SQE for op ${op.index} (the generator must not overfill the SQ)`);
  switch (op.kind) {
    case "nop":
      prepNop(sqe);
      break;
    case "read":
    case "shortRead":
      prepRead(sqe, patternFd, op.buf!, op.offset!);
      break;
    case "badRead":
      prepRead(sqe, BAD_FD, op.buf!, 0);
      break;
    case "write":
      prepWrite(sqe, scratchFd, op.buf!, op.offset!);
      break;
    case "readBack":
      prepRead(sqe, scratchFd, op.buf!, op.offset!);
      break;
    case "timeout":
    case "countTimeout":
    case "longTimeout":
      prepTimeout(sqe, op.ts!, op.count ?? 0, op.etimeSuccess ? IORING_TIMEOUT_ETIME_SUCCESS : 0);
      break;
    case "cancel":
    case "cancelAny":
      prepCancel64(sqe, op.target!.userData);
      break;
    case "cancelMissing":
      prepCancel64(sqe, 0xdead_beef_0000 + op.index);
      break;
  }
  sqe.flags = op.flags;
  sqe.userData = op.userData;
}

/** Did `op` (as it completed) fail its link, i.e. cancel the rest of a soft-linked chain? */
function failsLink(op: ModelOp): boolean {
  const res = op.res!;
  if (res < 0) return !(op.kind === "timeout" && op.etimeSuccess && res === -ETIME);
  if (op.buf && (op.kind === "read" || op.kind === "shortRead" || op.kind === "readBack" || op.kind === "write")) return res !== op.buf.length;
  return false;
}

/** Run one case against the kernel; throws an Error naming the seed on any mismatch. */
export function runCase(c: FuzzCase, patternPath: string, scratchPath: string, log: string[] = []): void {
  const fail = (msg: string): never => {
    throw new Error(
      `fuzz seed ${c.seed}: ${msg}\n  ring: entries ${c.entries}, cq ${c.cqEntries}, ${JSON.stringify(c.options)}\n` +
        `  reproduce: FUZZ_SEED=${c.seed} bun test test/fuzz.test.ts\n  ${log.slice(-20).join("\n  ")}`,
    );
  };
  const patternFd = openSync(patternPath, "r");
  const scratchFd = openSync(scratchPath, "w+");
  const ring = new IoUring(c.entries, c.options);
  const byUserData = new Map<number, ModelOp>();
  for (const op of c.ops) byUserData.set(op.userData, op);
  const order: ModelOp[] = [];
  const reap = () =>
    ring.forEachCqe((cqe) => {
      const op = byUserData.get(cqe.userData);
      if (!op) fail(`a CQE with unknown user_data ${cqe.userData} (res ${cqe.res})`);
      if (op!.res !== undefined) fail(`a second CQE for op ${op!.index} (${op!.kind}): res ${op!.res} then ${cqe.res}`);
      op!.res = cqe.res;
      op!.pos = order.length;
      order.push(op!);
    });
  /** Reap until every op before `index` has completed. */
  const waitAll = (index: number) => {
    const deadline = performance.now() + 10_000;
    while (c.ops.some((o) => o.index < index && o.res === undefined)) {
      if (performance.now() > deadline) {
        const left = c.ops.filter((o) => o.index < index && o.res === undefined).map((o) => `${o.index}:${o.kind}`);
        fail(`ops before ${index} did not complete within 10 s: ${left.join(", ")}`);
      }
      ring.waitCqeTimeout(20);
      reap();
    }
  };
  try {
    let submitted = 0;
    for (const batch of c.batches) {
      let k = 0;
      while (k < batch.length) {
        // fill as much of the batch as the SQ takes, keeping chains whole
        let room = ring.sqSpaceLeft();
        let n = 0;
        while (k + n < batch.length) {
          let len = 1;
          const op = batch[k + n]!;
          if (op.guard) {
            if (n > 0) break; // submit what came before first
            if (c.ops.some((o) => o.drain && o.index < op.index)) {
              // everything earlier completes (the defer list empties), then the nop alone ends the drain
              waitAll(op.index);
              n = 1;
              break;
            }
          }
          if (op.chain !== undefined) while (k + n + len < batch.length && batch[k + n + len]!.chain === op.chain) len++;
          if (op.kind === "longTimeout") {
            // keep a long timeout and its cancel in one submit
            let j = k + n + 1;
            while (batch[j]!.kind !== "cancel" || batch[j]!.target !== op) j++;
            len = j - (k + n) + 1;
          }
          if (len > room) break;
          room -= len;
          n += len;
        }
        if (n === 0) fail(`a unit of the batch does not fit an empty SQ of ${ring.sqEntries}`);
        for (let j = 0; j < n; j++) prepOp(ring, batch[k + j]!, patternFd, scratchFd);
        k += n;
        for (;;) {
          try {
            submitted += ring.submit();
            break;
          } catch (e) {
            // EBUSY: the CQ overflowed; reap, then submit again
            if ((e as { code?: string }).code !== "EBUSY") throw e;
            reap();
          }
        }
        log.push(`submitted ${n} (total ${submitted}), sq space ${ring.sqSpaceLeft()}`);
      }
      // sometimes reap between batches, sometimes let completions pile up past the CQ size
      if ((c.seed + batch.length) % 3 !== 0) reap();
    }
    if (submitted !== c.ops.length) fail(`submit() reported ${submitted} of ${c.ops.length} SQEs`);
    const deadline = performance.now() + 10_000;
    while (order.length < c.ops.length) {
      if (performance.now() > deadline) {
        const missing = c.ops.filter((o) => o.res === undefined).map((o) => `${o.index}:${o.kind}`);
        fail(`lost completions after 10 s: ${missing.join(", ")}`);
      }
      ring.waitCqeTimeout(100);
      reap();
    }
    // nothing more may arrive
    if (ring.waitCqeTimeout(5)) reap();
    if (order.length !== c.ops.length) fail(`${order.length} CQEs for ${c.ops.length} ops`);
  } finally {
    ring.close();
    closeSync(patternFd);
    closeSync(scratchFd);
  }
  check(c, order, fail);
  // every complete write is in the file
  for (const op of c.ops) {
    if (op.kind !== "write" || op.res !== op.buf!.length) continue;
    const got = preadFile(scratchPath, op.offset!, op.buf!.length);
    if (Buffer.compare(got, op.buf!) !== 0) fail(`op ${op.index} (write): the file does not hold the bytes written`);
  }
}

function check(c: FuzzCase, order: ModelOp[], fail: (msg: string) => never): void {
  const desc = (op: ModelOp) => `op ${op.index} (${op.kind}${op.chain ? ` in chain ${op.chain}` : ""}, flags ${op.flags})`;
  // results, chain by chain and op by op
  for (const op of c.ops) {
    const res = op.res!;
    // an earlier soft-linked member failed: the kernel cancels this one
    let cancelled = false;
    for (let p = op.prev; p; p = p.prev) {
      if (p.flags & IOSQE_IO_LINK && !(p.flags & IOSQE_IO_HARDLINK) && failsLink(p)) {
        cancelled = true;
        break;
      }
    }
    if (cancelled) {
      if (res !== -ECANCELED) fail(`${desc(op)}: expected -ECANCELED after a failed IO_LINK member, got ${res}`);
      continue;
    }
    switch (op.kind) {
      case "countTimeout":
        if (res !== 0 && res !== -ETIME) fail(`${desc(op)}: expected 0 or -ETIME, got ${res}`);
        // Not checked: that a count-completed timeout comes after `count` other CQEs in our order.
        // The kernel counts by its internal CQ sequence, and seed 20596 (SQ 1, CQ 2, overflowing)
        // saw a count-4 timeout complete after 3 visible CQEs.
        break;
      case "longTimeout":
        break; // checked with its cancel
      case "cancel": {
        const t = op.target!;
        if (res === 0 && t.res === -ECANCELED) break;
        // After a drain the kernel may issue the timeout from task work, after its cancel ran:
        // then the cancel finds nothing and the timeout expires. Without a drain before, never.
        const drainBefore = c.ops.some((o) => o.drain && o.index < op.index);
        if (drainBefore && res === -ENOENT && t.res === -ETIME) break;
        fail(`${desc(op)} returned ${res} and its pending timeout ${desc(t)} got ${t.res}; expected 0 and -ECANCELED`);
        break;
      }
      case "cancelAny": {
        const t = op.target!;
        if (res === 0) {
          if (t.res !== -ECANCELED) fail(`${desc(op)} returned 0 but its target ${desc(t)} completed with ${t.res}`);
        } else if (res === -ENOENT) {
          // Nothing found, so the target ran as predicted — or it was running in io-wq: the kernel's
          // io_try_cancel() signals the worker (-EALREADY), falls through to the poll and timeout
          // lists and returns their -ENOENT, and the target still ends -ECANCELED (seen: seed 33707).
          if (t.res !== t.expect && t.res !== -ECANCELED) fail(`${desc(op)} found nothing to cancel but its target ${desc(t)} got ${t.res}, expected ${t.expect}`);
        } else if (res === -EALREADY) {
          if (t.res !== t.expect && t.res !== -ECANCELED && t.res !== -EINTR) fail(`${desc(op)} -EALREADY, target ${desc(t)} got ${t.res}`);
        } else fail(`${desc(op)}: expected 0, -ENOENT or -EALREADY, got ${res}`);
        break;
      }
      default: {
        // a cancelAny may have cancelled this op: its cancel says so
        const canceller = c.ops.find((o) => o.kind === "cancelAny" && o.target === op && (o.res === 0 || o.res === -EALREADY || o.res === -ENOENT));
        if (canceller && (res === -ECANCELED || res === -EINTR)) break;
        if (res !== op.expect) {
          const cancels = c.ops.filter((o) => o.kind === "cancelAny" && o.target === op).map((o) => `${desc(o)} res ${o.res}`);
          fail(`${desc(op)}: expected res ${op.expect}, got ${res}${cancels.length ? ` (targeted by ${cancels.join(", ")})` : ""}`);
        }
        if (op.want && res > 0) {
          for (let i = 0; i < res; i++) {
            if (op.buf![i] !== op.want[i]) fail(`${desc(op)}: byte ${i} is ${op.buf![i]}, expected ${op.want[i]}`);
          }
          for (let i = res; i < op.buf!.length; i++) if (op.buf![i] !== 0xee) fail(`${desc(op)}: byte ${i} past res was written`);
        }
      }
    }
  }
  // chains: in order
  for (const op of c.ops) {
    if (op.prev && op.prev.pos! > op.pos!) fail(`${desc(op)} completed before ${desc(op.prev)} of its chain`);
  }
  // drains: after everything before, before everything after
  for (const op of c.ops) {
    if (!op.drain || op.index !== op.drain[0]) continue;
    const [a, b] = op.drain;
    const unitFirst = Math.min(...c.ops.slice(a, b + 1).map((o) => o.pos!));
    const unitLast = Math.max(...c.ops.slice(a, b + 1).map((o) => o.pos!));
    for (const o of c.ops) {
      if (o.index < a && o.pos! > unitFirst) fail(`drained ${desc(op)} completed before the earlier ${desc(o)}`);
      if (o.index > b && o.pos! < unitLast) fail(`${desc(o)} completed before the earlier drained unit ${a}..${b}`);
    }
  }
}

/** Read `len` bytes at `offset` of a file (for checking the scratch file after a case). */
export function preadFile(path: string, offset: number, len: number): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const out = new Uint8Array(len);
    readSync(fd, out, 0, len, offset);
    return out;
  } finally {
    closeSync(fd);
  }
}
