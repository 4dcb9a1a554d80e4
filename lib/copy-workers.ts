/**
 * copyTree's small files on threads: one Bun Worker per spare CPU (availableParallelism() - 1,
 * at least 1, at most MAX_WORKERS) plus the main thread itself, each copying whole chunks of one
 * directory's files with plain syscalls (lib/copy-worker-core.ts says why not through a ring).
 * The main thread walks the tree with direct syscalls first (its walk is a chain of microtasks),
 * then copies chunks in slices of HELP_SLICE_MS between its other tasks, so timers, progress,
 * abort and the general path keep running.
 *
 * Why threads: per file, a copy is ~7 µs of syscalls (statx, open, read, close, an O_CREAT|O_EXCL
 * open, write, close) whichever way it is issued — io_uring forces the create-type steps onto
 * io-wq, which costs more, not less (lib/copy-engine.ts) — so the only way below `cp -r`'s time is
 * to run files side by side on the other core. Measured on the 10,000 × 4 KiB tree on tmpfs, 2
 * CPUs (fresh processes, cold call, 5–6 interleaved rounds, medians; `cp -r` 72–76 ms in the same
 * runs): one worker + the main thread 62–64 ms; two workers, main thread walking only, 70–71 ms;
 * two workers + the main thread 71 ms; one worker alone 86 ms; the main thread alone 83 ms; the
 * in-process ring engine ~130 ms. A standalone prototype of the same design (no copyTree around
 * it: a bare walk, no staging, no summary) took 43–50 ms. The cold call is CPU-bound (~110–118 ms
 * of CPU in ~57 ms on 2 CPUs: sys ~70–75, user ~45 of which JSC's compiler threads ~15–17), so the
 * walk's ~15 ms before the main thread copies is mostly waiting for a CPU (the Worker's start-up,
 * the compiler threads): a getdents64 walk through bun:ffi measured the same as readdirSync (58.1
 * against 57.6 ms). See the README's copyTree performance paragraph.
 *
 * The protocol (lib/copy-worker-shared.ts): the main thread writes a chunk (≤ 128 names of one
 * directory, the two directory fds — fds are per process, so the workers use them as they are)
 * into a free slot and publishes it by moving C_TAIL; a worker claims it by compare-exchange on
 * C_HEAD, copies its files one by one, stores each file's result word, and posts the chunk's
 * number back. The main thread reads the results and reports them through the EngineHost exactly
 * as the in-process engine does (sized, copied, skipped, retry, failed), so summaries, progress,
 * verify, continueOnError and the general path's retries work unchanged. Abort and a fatal error
 * reach the workers through C_STOP (polled every few ms, and on every message).
 *
 * Lifetime: the pool is made on the first copy that needs it and reused by later ones (one copy
 * at a time; a concurrent copy gets an in-process engine). A worker is ref'ed from the start of a
 * copy until it reports itself back in its event loop ("idle"); idle it is unref'ed and never keeps
 * the process alive. `closeCopyWorkers()` terminates them.
 *
 * Failure: a worker that fails to start or dies (an uncaught error, a crash) breaks the pool:
 * a warning goes to the copy's onWarning; the chunks that worker held are settled — a file it had
 * started has its destination removed — and every file not copied is handed back to the general
 * path (`retry`); later batches of the copy, and later copies, use the in-process engine.
 */
import { availableParallelism } from "node:os";
import { unlinkatSync } from "../ffi/syscalls.ts";
import { casShared, loadShared, notifyShared, storeShared } from "./barrier.ts";
import type { Engine, EngineBatch, EngineHost } from "./copy-engine.ts";
import { attach, claimChunk, copyChunk, type Views } from "./copy-worker-core.ts";
import {
  C_FAULT,
  C_FSYNC,
  C_HEAD,
  C_NOCLOBBER,
  C_OPEN,
  C_PRESERVE_LINKS,
  C_PRESERVE_MODE,
  C_STARTED,
  C_STOP,
  C_TAIL,
  C_UMASK,
  CHUNK_FILES,
  CHUNK_SLOTS,
  CHUNK_WORDS,
  failErrno,
  failStep,
  CHUNK_NAME_BYTES,
  K_BYTES,
  K_COPIED,
  K_COUNT,
  K_DST,
  K_OWNER,
  K_SEQ,
  K_SRC,
  K_STAGED,
  K_TMPSEQ,
  makeSharedState,
  R_COPIED,
  R_PENDING,
  R_RETRY,
  R_SKIPPED,
  R_STARTED,
  type SharedState,
  STEP_ON_DEST,
  STEP_SYSCALL,
  viewsOf,
} from "./copy-worker-shared.ts";
import { addressOf } from "./memory.ts";

/** Worker threads at most (creates in one directory serialise on its lock; two directories at a time per thread pair). */
const MAX_WORKERS = 4;
/** How often the main thread checks whether the copy has stopped (abort, a fatal error), ms. */
const STOP_POLL_MS = 4;
/** How long the main thread copies chunks before it yields to its event loop, ms. */
const HELP_SLICE_MS = 4;
/** K_OWNER of a chunk the main thread claimed. */
const MAIN_OWNER = 0x7fff;

/** How many workers, and whether the main thread copies too (measured: see the module comment). */
const config = {
  workers: Math.max(1, Math.min(MAX_WORKERS, availableParallelism() - 1)),
  mainHelps: true,
};

const encoder = new TextEncoder();

/** What the main thread keeps about a published chunk. */
interface Chunk {
  batch: EngineBatch;
  host: EngineHost;
  /** Index in batch.names of the chunk's first file. */
  k0: number;
  count: number;
}

/** A pool of copy workers behind the engine interface (see the module comment). */
export class WorkerPool implements Engine {
  readonly slots = CHUNK_FILES;
  readonly #shared: SharedState;
  readonly #v: Views;
  readonly #namesAddr: number;
  /** The main thread copies chunks too, in slices between its other work (see #help). */
  readonly #mainHelps: boolean;
  #helping = false;
  readonly #workers: Worker[] = [];
  /** Per worker: alive (started or starting, not dead). */
  readonly #alive: boolean[] = [];
  #ready = 0;
  /** Next chunk number to publish (mirrors C_TAIL). */
  #tail = 0;
  /** Per slot: the chunk in it, or null when free. */
  readonly #chunks: (Chunk | null)[] = new Array(CHUNK_SLOTS).fill(null);
  /** Chunks waiting for a free slot. */
  readonly #backlog: Chunk[] = [];
  /** Batches not yet settled → their unsettled files. */
  readonly #live = new Map<EngineBatch, { left: number; resolve: () => void }>();
  #open = false;
  #host: EngineHost | null = null;
  #poll: ReturnType<typeof setInterval> | null = null;
  #idleWaiters: (() => void)[] = [];
  /** Set once a worker failed: nothing new goes to the workers. */
  #broken: string | null = null;
  #warned = false;
  /** The in-process engine batches go to once the pool is broken. */
  #fallback: Engine | null = null;
  /** Makes that engine (set by takeWorkerPool). */
  makeFallback: (() => Engine) | null = null;

  constructor(script: string | URL = new URL("./copy-worker.ts", import.meta.url), workers = config.workers, mainHelps = config.mainHelps) {
    this.#shared = makeSharedState();
    this.#v = attach(this.#shared);
    this.#namesAddr = this.#v.namesAddr;
    this.#mainHelps = mainHelps;
    const n = workers;
    for (let i = 0; i < n; i++) {
      const w = new Worker(script);
      w.unref();
      this.#workers.push(w);
      this.#alive.push(true);
      w.onmessage = (e: MessageEvent) => this.#onMessage(i, e.data);
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault?.();
        this.#onDeath(i, e.message || "error");
      };
      w.addEventListener("close", () => this.#onDeath(i, "exited"));
      w.postMessage({ init: this.#shared, id: i });
    }
  }

  /** True while batches are unsettled. */
  get busy(): boolean {
    return this.#live.size > 0 || (this.#fallback?.busy ?? false);
  }

  /** False once a worker has failed. */
  get reusable(): boolean {
    return this.#broken === null && !this.busy;
  }

  copy(host: EngineHost, batch: EngineBatch): Promise<void> {
    this.#host = host;
    if (this.#broken !== null) {
      this.#warn(host);
      return (this.#fallback ??= this.makeFallback!()).copy(host, batch);
    }
    const names = batch.names;
    if (names.length === 0) return Promise.resolve();
    if (!this.#open) this.#openJob(host);
    return new Promise<void>((resolve) => {
      this.#live.set(batch, { left: names.length, resolve });
      for (let k0 = 0; k0 < names.length; k0 += CHUNK_FILES) {
        this.#backlog.push({ batch, host, k0, count: Math.min(CHUNK_FILES, names.length - k0) });
      }
      this.#publish();
    });
  }

  /** Resolves when every batch is settled. */
  async idle(): Promise<void> {
    if (this.#live.size > 0) await new Promise<void>((r) => this.#idleWaiters.push(r));
    if (this.#fallback) await this.#fallback.idle();
  }

  /** The copy is over: the workers go back to their event loop, unref'ed. */
  release(): void {
    if (this.#open) {
      this.#open = false;
      storeShared(this.#v.ctl, C_OPEN, 0);
      notifyShared(this.#v.ctl, C_TAIL);
      // each worker is unref'ed when it says it is back in its event loop ("idle"): the process
      // never exits under a worker still running a job
      if (this.#poll) clearInterval(this.#poll);
      this.#poll = null;
    }
    this.#host = null;
    if (this.#fallback && !this.#fallback.busy) {
      this.#fallback.close();
      this.#fallback = null;
    }
  }

  close(): void {
    this.release();
    for (let i = 0; i < this.#workers.length; i++) {
      this.#alive[i] = false;
      this.#workers[i]!.terminate();
    }
    this.#broken ??= "closed";
  }


  // ---------------------------------------------------------------- main-thread side

  #openJob(host: EngineHost): void {
    const ctl = this.#v.ctl;
    ctl[C_FSYNC] = host.fsync ? 1 : 0;
    ctl[C_NOCLOBBER] = host.noClobber ? 1 : 0;
    ctl[C_PRESERVE_MODE] = host.preserveMode ? 1 : 0;
    ctl[C_PRESERVE_LINKS] = host.preserveLinks ? 1 : 0;
    ctl[C_UMASK] = host.umask;
    ctl[C_STARTED] = 0;
    ctl[C_FAULT] = faultAt;
    storeShared(ctl, C_STOP, 0);
    storeShared(ctl, C_OPEN, 1); // (release: the options above are visible to a worker that sees it)
    this.#open = true;
    for (let i = 0; i < this.#workers.length; i++) {
      if (!this.#alive[i]) continue;
      this.#workers[i]!.ref(); // a copy in progress keeps the process alive
      this.#workers[i]!.postMessage({ job: true });
    }
    this.#poll = setInterval(() => this.#checkStop(), STOP_POLL_MS);
  }

  #checkStop(): void {
    if (this.#host?.stopped() && this.#v.ctl[C_STOP] === 0) storeShared(this.#v.ctl, C_STOP, 1);
  }

  /** Move chunks from the backlog into free slots and publish them. */
  #publish(): void {
    const v = this.#v;
    let published = false;
    while (this.#backlog.length > 0) {
      const slot = (this.#tail >>> 0) % CHUNK_SLOTS;
      if (this.#chunks[slot] !== null) break; // full: more when a chunk settles
      const ch = this.#backlog.shift()!;
      this.#chunks[slot] = ch;
      const c = slot * CHUNK_WORDS;
      const base = slot * CHUNK_FILES;
      const b = ch.batch;
      const staged = b.staged;
      // the names, NUL-terminated, in one encodeInto (the worker finds where each starts)
      const names = ch.count === b.names.length ? b.names : b.names.slice(ch.k0, ch.k0 + ch.count);
      const joined = `${names.join("\0")}\0`;
      const arena = v.names.subarray(slot * CHUNK_NAME_BYTES, (slot + 1) * CHUNK_NAME_BYTES);
      if (joined.length * 3 > arena.length && encoder.encodeInto(joined, arena).read < joined.length) {
        // (only when names pass NAME_MAX: each goes alone, a too-long one as 256 × "x" → ENAMETOOLONG)
        let at = 0;
        for (const name of names) {
          const r = name.length <= 255 ? encoder.encodeInto(name, arena.subarray(at, at + 255)) : null;
          if (r === null || r.read < name.length) {
            arena.fill(0x78, at, at + 256);
            at += 256;
          } else at += r.written;
          arena[at++] = 0;
        }
      } else encoder.encodeInto(joined, arena);
      v.size.fill(-1, base, base + ch.count);
      v.res.fill(R_PENDING, base, base + ch.count);
      v.chunks[c + K_TMPSEQ] = staged ? 0 : reserveTmpSeqRef(ch.count);
      v.chunks[c + K_COPIED] = -1;
      v.chunks[c + K_SRC] = b.srcFd;
      v.chunks[c + K_DST] = b.dstFd;
      v.chunks[c + K_COUNT] = ch.count;
      v.chunks[c + K_STAGED] = staged ? 1 : 0;
      v.chunks[c + K_OWNER] = 0;
      v.chunks[c + K_SEQ] = this.#tail;
      this.#tail = (this.#tail + 1) | 0;
      storeShared(v.ctl, C_TAIL, this.#tail); // release: the chunk's words and names are written
      published = true;
    }
    if (published) {
      notifyShared(v.ctl, C_TAIL);
      this.#armHelp();
    }
    if (!this.#mainHelps && !this.#alive.some(Boolean)) this.#reclaimAll();
  }

  #armHelp(): void {
    if (this.#mainHelps && !this.#helping) {
      this.#helping = true;
      setImmediate(this.#help);
    }
  }

  /**
   * The main thread's share: when its event loop has nothing else to run, claim and copy chunks
   * for up to HELP_SLICE_MS, then yield (timers, progress, abort, and the walk's next directories
   * run in between).
   */
  readonly #help = (): void => {
    this.#helping = false;
    if (!this.#open) return;
    const t0 = performance.now();
    for (;;) {
      this.#checkStop();
      const seq = claimChunk(this.#v, MAIN_OWNER);
      if (seq === -1) return; // re-armed by the next publish
      copyChunk(this.#v, seq);
      this.#settleChunk(seq, false);
      if (performance.now() - t0 >= HELP_SLICE_MS) break;
    }
    this.#publish();
    this.#armHelp();
  };

  #onMessage(i: number, m: unknown): void {
    if (typeof m === "number") {
      this.#settleChunk(m, false);
      this.#checkStop();
      this.#publish();
    } else if (m === "idle") {
      if (!this.#open) this.#workers[i]!.unref();
    } else if (m === "ready") this.#ready++;
  }

  /** Chunk `seq` is done (or its worker died): report every file, free the slot. */
  #settleChunk(seq: number, crashed: boolean): void {
    const slot = (seq >>> 0) % CHUNK_SLOTS;
    const ch = this.#chunks[slot];
    if (!ch) return;
    this.#chunks[slot] = null;
    const v = this.#v;
    const host = ch.host;
    const b = ch.batch;
    const base = slot * CHUNK_FILES;
    const copied = crashed ? -1 : loadShared(v.chunks, slot * CHUNK_WORDS + K_COPIED); // acquire
    if (copied === ch.count && host.copiedRun) {
      // the common case: every file copied — one call for the chunk
      const bytes = v.chunks[slot * CHUNK_WORDS + K_BYTES]! >>> 0; // unsigned: up to 2 GiB (see K_BYTES)
      host.sized(bytes);
      host.copiedRun(b, ch.k0, ch.count, bytes);
    } else for (let j = 0; j < ch.count; j++) {
      const f = base + j;
      const k = ch.k0 + j;
      const res = loadShared(v.res, f); // acquire: the size word is written before it
      const size = v.size[f]!;
      if (res === R_COPIED) {
        host.sized(size);
        host.copied(b, k, size);
      } else if (res === R_SKIPPED) {
        host.sized(size);
        host.skipped(b, k, size);
      } else if (res === R_RETRY) host.retry(b, k, 0);
      else if (res < 0) {
        if (size >= 0) host.sized(size);
        const step = failStep(res);
        host.failed(b, k, -failErrno(res), STEP_SYSCALL[step]!, STEP_ON_DEST[step]!);
      } else if (crashed) {
        // R_STARTED: the worker died with this file's destination possibly created — remove it;
        // R_PENDING: never started. Either way the general path copies it.
        if (res === R_STARTED) this.#removeDest(b, f, v.chunks[slot * CHUNK_WORDS + K_TMPSEQ]! + j);
        host.retry(b, k, 0);
      }
      // R_PENDING after a normal finish: the copy stopped first; settles as nothing
    }
    const live = this.#live.get(b);
    if (live && (live.left -= ch.count) === 0) {
      this.#live.delete(b);
      live.resolve();
      if (this.#live.size === 0) for (const w of this.#idleWaiters.splice(0)) w();
    }
  }

  /** The destination a dead worker may have left for file slot f (R_STARTED: its name was parsed). */
  #removeDest(b: EngineBatch, f: number, tmpSeq: number): void {
    const v = this.#v;
    const at = v.nameAt[f]!;
    if (b.staged) {
      unlinkatSync(b.dstFd, this.#namesAddr + at, 0);
      return;
    }
    const name = v.names.subarray(at, at + v.nameLen[f]!);
    const tmp = Buffer.concat([Buffer.from("."), name, Buffer.from(`.bun-uring-${process.pid}-${tmpSeq}.tmp\0`)]);
    unlinkatSync(b.dstFd, addressOf(tmp), 0);
  }

  #warn(host: EngineHost | null): void {
    if (this.#warned || !host) return;
    this.#warned = true;
    host.warn?.(`copy worker failed (${this.#broken}); copying on the main thread`);
  }

  /** Worker i failed to start or died. */
  #onDeath(i: number, why: string): void {
    if (!this.#alive[i]) return;
    this.#alive[i] = false;
    this.#workers[i]!.terminate();
    if (this.#broken === "closed") return;
    this.#broken ??= why;
    this.#warn(this.#host);
    // the chunks it held
    const v = this.#v;
    for (let slot = 0; slot < CHUNK_SLOTS; slot++) {
      if (this.#chunks[slot] && loadShared(v.chunks, slot * CHUNK_WORDS + K_OWNER) === i + 1) {
        this.#settleChunk(v.chunks[slot * CHUNK_WORDS + K_SEQ]!, true);
      }
    }
    if (!this.#mainHelps && !this.#alive.some(Boolean)) this.#reclaimAll();
    else this.#publish();
  }

  /** No worker left: claim every published chunk (and the backlog) and hand its files back. */
  #reclaimAll(): void {
    const v = this.#v;
    for (;;) {
      const head = loadShared(v.ctl, C_HEAD);
      if (head === loadShared(v.ctl, C_TAIL)) break;
      if (casShared(v.ctl, C_HEAD, head, (head + 1) | 0) === head) this.#settleChunk(head, true);
    }
    // chunks a dead worker had claimed but not marked (it died in between)
    for (let slot = 0; slot < CHUNK_SLOTS; slot++) {
      if (this.#chunks[slot]) this.#settleChunk(v.chunks[slot * CHUNK_WORDS + K_SEQ]!, true);
    }
    while (this.#backlog.length > 0) {
      const ch = this.#backlog.shift()!;
      const slot = (this.#tail >>> 0) % CHUNK_SLOTS;
      // settle in place, without publishing: a free slot, its results all R_PENDING
      this.#chunks[slot] = ch;
      for (let j = 0; j < ch.count; j++) v.res[slot * CHUNK_FILES + j] = R_PENDING;
      v.chunks[slot * CHUNK_WORDS + K_COUNT] = ch.count;
      this.#settleChunk(slot, true);
    }
  }
}

let tmpSeqOf: (n: number) => number = () => 0;
function reserveTmpSeqRef(n: number): number {
  return tmpSeqOf(n);
}

let pool: WorkerPool | null = null;
/** Test hook: the n-th file a worker thread starts in a copy makes it throw (0: never). */
let faultAt = 0;
let inUse = false;
let disabled = false;
let scriptOverride: string | URL | undefined;

/**
 * The process's worker pool for one copy, or null: in use by another copy, broken, or the
 * workers cannot be made (the caller then uses the in-process engine).
 */
export function takeWorkerPool(makeFallback: () => Engine, reserveTmpSeq: (n: number) => number, warn?: (m: string) => void): WorkerPool | null {
  if (disabled || inUse) return null;
  tmpSeqOf = reserveTmpSeq;
  if (pool && !pool.reusable) {
    pool.close();
    pool = null;
    disabled = true; // a worker failed: the in-process engine from now on
    warn?.("a copy worker failed earlier; copying on the main thread");
    return null;
  }
  try {
    pool ??= new WorkerPool(scriptOverride);
  } catch (e) {
    disabled = true;
    warn?.(`copy workers unavailable (${(e as Error).message}); copying on the main thread`);
    return null;
  }
  pool.makeFallback = makeFallback;
  inUse = true;
  return pool;
}

/** The copy that took the pool is over (every batch settled). */
export function giveWorkerPool(p: WorkerPool): void {
  p.release();
  if (p !== pool) return;
  inUse = false;
  if (closeWhenFree) closeCopyWorkers();
}

let closeWhenFree = false;

/**
 * Terminate copyTree's worker threads. Optional: between copies they are idle and unref'ed, so
 * they never keep the process alive; a later copyTree starts new ones. Called during a copy, it
 * takes effect when that copy is over.
 * @example
 * await copyTree("src", "dst");
 * closeCopyWorkers();
 */
export function closeCopyWorkers(): void {
  if (inUse) {
    closeWhenFree = true;
    return;
  }
  closeWhenFree = false;
  pool?.close();
  pool = null;
}

/**
 * Test hooks. `script`: the worker module the next pool starts (a missing one fails to start);
 * `fault(n)`: the n-th file a copy starts makes its worker throw; `reset()`: a fresh pool next time.
 */
export const unsafeCopyWorkerHooks = {
  /** Workers in the next pool, and whether the main thread copies chunks too. */
  configure(workers: number, mainHelps: boolean): void {
    config.workers = workers;
    config.mainHelps = mainHelps;
  },
  script(url: string | URL | undefined): void {
    scriptOverride = url;
  },
  fault(n: number): void {
    faultAt = n;
  },
  reset(): void {
    inUse = false;
    closeCopyWorkers();
    disabled = false;
    faultAt = 0;
    scriptOverride = undefined;
  },
  get pool(): WorkerPool | null {
    return pool;
  },
};
