/**
 * The small-file engines behind copyTree, and the pool that hands them out (takeEngine).
 *
 * By default a copy gets the worker threads (lib/copy-workers.ts): files copied with plain
 * syscalls on a Bun Worker per spare CPU and on the main thread between its other tasks — ~2×
 * faster than this file's ring engine on the 10,000 × 4 KiB tree (62 ms against ~130 ms on
 * tmpfs), because io_uring forces every create-type step onto io-wq (see below). This in-process
 * ring engine remains for a second copy running at the same time as the first, and as the
 * fallback when a worker cannot start or dies.
 *
 * The ring engine: regular files up to 64 KiB, many at once, on a raw IoUring of its own,
 * driven by one tight loop — no Promise, closure or Op object per step.
 *
 * Per file, relative to the open source and destination directories:
 *
 * 1. statx(name), synchronously — size and mode (the walk's d_type only says "regular file");
 *    through io_uring it always runs on an io-wq worker, one more hand-off and CQE per file;
 * 2. one linked chain on two fixed-file slots: openat(name) → read → close →
 *    openat(dest, O_CREAT|O_EXCL) → write → [fsync] → close [→ renameat(tmp, name)]. The head is
 *    issued inline (an open without O_CREAT resolves from the dentry cache, LOOKUP_CACHED); the
 *    steps that block — the O_CREAT open, on tmpfs the read and the write — go to io-wq. Every
 *    step but the last is IOSQE_CQE_SKIP_SUCCESS: a file that copies cleanly posts one CQE; a
 *    failing step posts its error, and the kernel cancels the steps after it without posting
 *    theirs — either way one CQE ends the chain.
 *
 * The guarantee is copy.ts's. In a directory that existed, `dest` is `.NAME.bun-uring-PID-N.tmp`
 * and the chain ends with renameat into place (RENAME_NOREPLACE with noClobber). In a staged
 * directory (one this copy created under a temporary name, renamed into place when complete;
 * see copy.ts dir()) no final path reaches the file yet: `dest` is the file's own name and the
 * close ends the chain. Either way SIGKILL never leaves a partial file under a final path; a
 * failed chain's file is unlinked (and its slots closed) before the file counts as settled.
 *
 * The ring is SINGLE_ISSUER|DEFER_TASKRUN: completions from io-wq are batched as task work on
 * this thread and run when it enters to wait. Measured on the 10,000 × 4 KiB tree, and the floor
 * of this design (test/bench/copy.bench.ts, README): the same chain driven from C with liburing
 * takes ~105 ms on tmpfs against cp -r's ~80 ms — ~16 µs of CPU per file in io_uring against ~7 µs
 * for plain syscalls — so the engine's aim is to add as little as possible on top of that.
 *
 * State lives in typed arrays indexed by slot (a file in flight); user_data is slot × 16 + step.
 * Paths are encoded once into a per-slot arena (name, then the temporary name). A file the engine
 * cannot take as it is — not regular after all, over 64 KiB, a second hard link when
 * links are preserved, a mode the umask would trim when modes are preserved, changed size under
 * the copy — is handed back to the caller (`retry`), which copies it the general way.
 *
 * The loop waits for completions in short, bounded io_uring_enter calls and yields to the event
 * loop every few milliseconds, so timers, progress callbacks and abort signals keep running.
 */
import {
  AT_SYMLINK_NOFOLLOW,
  IORING_OP_CLOSE,
  IORING_OP_FSYNC,
  IORING_OP_OPENAT,
  IORING_OP_READ,
  IORING_OP_RENAMEAT,
  IORING_OP_UNLINKAT,
  IORING_OP_WRITE,
  IOSQE_CQE_SKIP_SUCCESS,
  IOSQE_FIXED_FILE,
  IOSQE_IO_LINK,
  O_CREAT,
  O_EXCL,
  O_NOFOLLOW,
  O_RDONLY,
  O_WRONLY,
  STATX_BASIC_STATS,
} from "./constants.ts";
import { statxSync } from "../ffi/syscalls.ts";
import { ERRNO } from "./errors.ts";
import { addressOf } from "./memory.ts";
import { IoUring } from "./ring.ts";
import { giveWorkerPool, takeWorkerPool, WorkerPool } from "./copy-workers.ts";
import type { Cqe } from "./sqe.ts";

/** Files up to this size go through the engine (one read, one write). */
export const ENGINE_MAX_FILE = 64 * 1024;
/** Files in flight at most (fixed-file slots: two each). */
const MAX_SLOTS = 256;
/** Arena bytes per slot: a name (≤ NAME_MAX = 255 bytes) and its temporary name, NUL-terminated. */
const ARENA = 640;
const STATX_BYTES = 256;
/** How long one io_uring_enter may wait, and how often the loop yields to the event loop (ms). */
const WAIT_MS = 2;
const YIELD_MS = 4;

const { EEXIST } = ERRNO;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

// steps of a file, the low 4 bits of user_data
const STATX = 0;
const OPEN_SRC = 1;
const READ = 2;
const CLOSE_SRC = 3;
const OPEN_TMP = 4;
const WRITE = 5;
const FSYNC = 6;
const CLOSE_TMP = 7;
const RENAME = 8;
const CLEANUP = 9;
// what a slot is waiting for
const P_FREE = 0;
const P_STAT = 1;
const P_CHAIN = 2;
const P_CLEAN = 3;
/** What each step is called in an error (the syscall field), and which path it names. */
const STEP_SYSCALL = ["statx", "open", "read", "close", "open", "write", "fsync", "close", "rename", "unlink"] as const;
const STEP_ON_DEST = [false, false, false, false, true, true, true, true, true, true] as const;

/** One directory's regular files, handed to the engine together. */
export interface EngineBatch {
  /** Source and destination directories (for messages), and fds open on them. */
  readonly srcDir: string;
  readonly dstDir: string;
  readonly srcFd: number;
  readonly dstFd: number;
  /**
   * The destination directory is staged: this copy created it (or an ancestor) under a temporary
   * name that no final path reaches until the copy renames it into place, so files are written
   * under their final names (O_EXCL), with no temporary name and no rename each.
   */
  readonly staged: boolean;
  readonly names: string[];
  /** Files of this batch not yet settled; the batch resolves at 0. */
  left: number;
  /** Next name to start. */
  next: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** What the engine reports back, one call per file. */
export interface EngineHost {
  /** True once the copy has failed or been aborted: start nothing new, drain what is in flight. */
  stopped(): boolean;
  /** Options, read once per file. */
  readonly fsync: boolean;
  readonly noClobber: boolean;
  /** preserve mode: a mode the umask would trim sends the file back (openat cannot set it). */
  readonly preserveMode: boolean;
  /** preserve links: a file with more than one link goes back (the caller pairs the links). */
  readonly preserveLinks: boolean;
  readonly umask: number;
  /** The file was stat'ed: it will be copied here (counts towards the totals). */
  sized(bytes: number): void;
  /** The file is in place under its name. */
  copied(batch: EngineBatch, k: number, bytes: number): void;
  /** Files k0 … k0 + n - 1 are in place, `bytes` in all (the worker threads report a whole chunk at once). */
  copiedRun?(batch: EngineBatch, k0: number, n: number, bytes: number): void;
  /** The destination exists and noClobber is set: nothing was written. */
  skipped(batch: EngineBatch, k: number, bytes: number): void;
  /** Copy this one the general way (it is settled as far as the engine goes). `bytes`: what sized() added. */
  retry(batch: EngineBatch, k: number, bytes: number): void;
  /** The file failed: errno (negative) at `syscall` on `path` (the source or the destination). */
  failed(batch: EngineBatch, k: number, errno: number, syscall: string, onDest: boolean): void;
  /** Something the user should know that does not fail the copy (a worker thread failed, …). */
  warn?(message: string): void;
}

/**
 * What copy.ts drives: this in-process engine (CopyEngine), or the worker threads
 * (lib/copy-workers.ts WorkerPool) that take it by default.
 */
export interface Engine {
  readonly slots: number;
  /** True while batches are unsettled. */
  readonly busy: boolean;
  /** False once it failed: closed, not reused. */
  readonly reusable: boolean;
  /** Copy a directory's regular files; resolves when every one is settled. */
  copy(host: EngineHost, batch: EngineBatch): Promise<void>;
  /** Resolves when every batch is settled. */
  idle(): Promise<void>;
  close(): void;
}

const encoder = new TextEncoder();
let tmpSeq = 0;

/** The N of the next `.NAME.bun-uring-PID-N.tmp`: one counter for the process, so no two copies pick the same name. */
export function nextTmpSeq(): number {
  return ++tmpSeq;
}

/** Reserve `n` consecutive N for temporary names: the first. */
export function reserveTmpSeq(n: number): number {
  const first = tmpSeq + 1;
  tmpSeq += n;
  return first;
}

/**
 * A ring, its fixed-file table, buffers and per-slot state: reused across copies (one engine per
 * concurrent copy; see takeEngine/giveEngine).
 */
export class CopyEngine implements Engine {
  readonly ring: IoUring;
  readonly slots: number;
  readonly #sqes: Uint32Array;
  readonly #data: Uint8Array;
  readonly #dataAddr: number;
  readonly #stx: Uint8Array;
  readonly #stxWords: Uint32Array;
  readonly #stxAddr: number;
  readonly #arena: Uint8Array;
  readonly #arenaAddr: number;
  // per slot
  readonly #batch: (EngineBatch | null)[];
  readonly #index: Int32Array;
  readonly #size: Int32Array;
  readonly #phase: Uint8Array; // P_FREE, P_STAT, P_CHAIN, P_CLEAN
  readonly #steps: Int32Array; // cleanup CQEs still expected
  readonly #failStep: Int32Array; // first step that really failed, or -1
  readonly #failRes: Int32Array;
  readonly #tmpAt: Int32Array; // arena offset of the temporary name
  readonly #free: number[] = [];
  /** Slots whose statx is in and whose chain waits for SQ room. */
  readonly #ready: number[] = [];
  readonly #batches: EngineBatch[] = [];
  #rr = 0;
  #inflight = 0;
  #host: EngineHost | null = null;
  #looping = false;
  #running: Promise<void> = Promise.resolve();
  /** Batches not yet settled. */
  readonly #live = new Set<EngineBatch>();
  /** The ring failed: never reuse this engine. */
  #broken = false;

  constructor(slots = 128) {
    this.slots = Math.max(1, Math.min(MAX_SLOTS, slots));
    // SINGLE_ISSUER|DEFER_TASKRUN: what io-wq finishes (every step it runs is freed through task
    // work on this thread) is queued on the ring and run in batches when this thread enters to
    // wait, instead of a task_work_add + IPI per request and a wake-up per CQE. Measured on the
    // 10,000 × 4 KiB tree (cold, tmpfs, 5 interleaved rounds): 130 ms against 143–219 ms for a
    // plain ring and 143 ms for COOP_TASKRUN|TASKRUN_FLAG. Only this thread ever touches the ring
    // (an engine is per module instance, i.e. per thread). Kernels without it get a plain ring.
    this.ring = makeRing();
    try {
      this.ring.registerFilesSparse(this.slots * 2);
      // Creates and renames in one directory serialise on its lock: two workers run the chains
      // (measured: one is ~30 % slower, three or four no faster).
      this.ring.registerIowqMaxWorkers(2, 2);
    } catch (e) {
      this.ring.close();
      throw e;
    }
    this.#sqes = this.ring.sqes;
    this.#data = new Uint8Array(this.slots * ENGINE_MAX_FILE);
    this.#dataAddr = addressOf(this.#data);
    this.#stx = new Uint8Array(this.slots * STATX_BYTES);
    // addressOf touches .buffer first: a small typed array moves its storage on that first touch
    this.#stxAddr = addressOf(this.#stx);
    this.#stxWords = new Uint32Array(this.#stx.buffer, this.#stx.byteOffset, this.#stx.byteLength >>> 2);
    this.#arena = new Uint8Array(this.slots * ARENA);
    this.#arenaAddr = addressOf(this.#arena);
    this.#batch = new Array(this.slots).fill(null);
    this.#index = new Int32Array(this.slots);
    this.#size = new Int32Array(this.slots);
    this.#steps = new Int32Array(this.slots);
    this.#phase = new Uint8Array(this.slots);
    this.#failStep = new Int32Array(this.slots);
    this.#failRes = new Int32Array(this.slots);
    this.#tmpAt = new Int32Array(this.slots);
    for (let s = this.slots - 1; s >= 0; s--) this.#free.push(s);
  }

  /** True while files are queued or in flight. */
  get busy(): boolean {
    return this.#looping;
  }

  /** False once the ring has failed: such an engine is closed, not reused. */
  get reusable(): boolean {
    return !this.#broken && !this.#looping;
  }

  /**
   * Copy a directory's regular files; resolves when every one of them is settled (copied,
   * skipped, failed or handed back). All batches of one copy share one host.
   */
  copy(host: EngineHost, batch: EngineBatch): Promise<void> {
    this.#host = host;
    if (this.#broken) return Promise.reject(new Error("bun-uring: the copy engine's ring failed earlier"));
    const done = new Promise<void>((resolve, reject) => {
      batch.resolve = resolve;
      batch.reject = reject;
    });
    if (batch.names.length === 0) {
      batch.resolve();
      return done;
    }
    this.#live.add(batch);
    batch.left = batch.names.length;
    batch.next = 0;
    this.#batches.push(batch);
    if (!this.#looping) {
      // set here and cleared by the loop itself in the same tick it decides to stop, so a batch
      // that comes in after that decision starts a new loop instead of waiting for a dead one
      this.#looping = true;
      this.#running = this.#loop();
    }
    return done;
  }

  /** Wait until nothing is in flight (every batch settled). */
  async idle(): Promise<void> {
    while (this.#looping) await this.#running;
  }

  close(): void {
    this.ring.close();
  }

  // ---------------------------------------------------------------- the loop

  async #loop(): Promise<void> {
    try {
      await this.#run();
    } catch (e) {
      // the ring itself failed (io_uring_enter refused): settle every batch with the error;
      // what was in flight is abandoned with the ring, which is not reused
      this.#looping = false;
      this.#broken = true;
      for (const b of this.#live) b.reject(e);
      this.#live.clear();
      this.#batches.length = 0;
    }
  }

  async #run(): Promise<void> {
    const ring = this.ring;
    let lastYield = performance.now();
    for (;;) {
      this.#fill();
      if (this.#inflight === 0 && (this.#batches.length === 0 || this.#host!.stopped())) {
        // Decided in the same tick as #looping is cleared: a batch that comes in after this starts a new loop.
        this.#looping = false;
        // stopped: the files never started settle as nothing (the copy has failed already)
        for (const b of this.#batches.splice(0)) this.#resolve(b);
        return;
      }
      if (this.#inflight > 0) {
        // Submit and wait for a few completions (bounded, so a slow device cannot hold the event
        // loop); page-cache copies complete within microseconds.
        const want = Math.min(this.#inflight, 8);
        if (ring.cqReady() === 0) ring.waitCqeTimeout(WAIT_MS, want);
        else ring.submit();
        this.#reap();
      }
      const now = performance.now();
      if (now - lastYield >= YIELD_MS) {
        await new Promise<void>((r) => setImmediate(r));
        lastYield = performance.now();
      }
    }
  }

  #resolve(b: EngineBatch): void {
    if (this.#live.delete(b)) b.resolve();
  }

  /** Start chains whose statx is in, then statx more files, while slots and SQ room last. */
  #fill(): void {
    const ring = this.ring;
    while (this.#ready.length > 0 && ring.sqSpaceLeft() >= 10) this.#chain(this.#ready.shift()!);
    if (this.#host!.stopped()) return;
    const batches = this.#batches;
    // (a file can fail inside #start now, statx being synchronous: stop starting more once the copy has)
    while (batches.length > 0 && this.#free.length > 0 && ring.sqSpaceLeft() >= 12 && !this.#host!.stopped()) {
      // round-robin over directories: creates in different directories do not share a lock
      if (this.#rr >= batches.length) this.#rr = 0;
      const b = batches[this.#rr]!;
      const k = b.next++;
      if (b.next >= b.names.length) batches.splice(this.#rr, 1);
      else this.#rr++;
      this.#start(b, k);
    }
  }

  /** Take a slot for file k of b: encode its names, statx it. */
  #start(b: EngineBatch, k: number): void {
    const s = this.#free.pop()!;
    this.#batch[s] = b;
    this.#index[s] = k;
    this.#failStep[s] = -1;
    this.#failRes[s] = 0;
    const name = b.names[k]!;
    const base = s * ARENA;
    const arena = this.#arena;
    // the name, then ".NAME.bun-uring-PID-N.tmp"; a name too long for the arena fails like the kernel would
    let n = encoder.encodeInto(name, arena.subarray(base, base + 300)).written;
    const tooLong = n >= 300 || name.length > 255 * 4;
    arena[base + n] = 0;
    const tmpAt = base + n + 1;
    this.#tmpAt[s] = tmpAt;
    // a staged directory takes the final name at once: no temporary name to make
    n = tooLong || b.staged ? 0 : encoder.encodeInto(`.${name}.bun-uring-${process.pid}-${nextTmpSeq()}.tmp`, arena.subarray(tmpAt, base + ARENA - 1)).written;
    arena[tmpAt + n] = 0;
    this.#inflight++;
    this.#phase[s] = P_STAT;
    // The arena holds names up to 299 bytes: longer ones fail with ENAMETOOLONG in the kernel anyway.
    // statx here, synchronously: through io_uring it always runs on an io-wq worker, one more
    // hand-off and CQE per file before the chain can be queued (measured ~9 ms slower per 10,000).
    const res = tooLong
      ? -ERRNO.ENAMETOOLONG
      : statxSync(b.srcFd, this.#arenaAddr + base, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, this.#stxAddr + s * STATX_BYTES);
    this.#afterStatx(s, res);
  }

  /** The statx of slot s is in: copy it as one chain, or hand it back. */
  #afterStatx(s: number, res: number): void {
    const host = this.#host!;
    if (res < 0) {
      this.#failStep[s] = STATX;
      this.#failRes[s] = res;
      return this.#settle(s);
    }
    const w = this.#stxWords;
    const o = (s * STATX_BYTES) >>> 2;
    const mode = w[o + 7]! & 0xffff; // stx_mode at byte 28
    const nlink = w[o + 4]!; // stx_nlink at 16
    const sizeHi = w[o + 11]!; // stx_size at 40
    const size = w[o + 10]!;
    const perm = mode & 0o7777;
    if (
      (mode & S_IFMT) !== S_IFREG ||
      sizeHi !== 0 ||
      size > ENGINE_MAX_FILE ||
      (host.preserveLinks && nlink > 1) ||
      (host.preserveMode && (perm & ~host.umask) !== perm)
    ) {
      this.#index[s] = ~this.#index[s]!; // marks "retry" for #settle
      return this.#settle(s);
    }
    this.#size[s] = size;
    host.sized(size);
    if (this.ring.sqSpaceLeft() >= 10) this.#chain(s);
    else this.#ready.push(s);
  }

  /** Queue slot s's chain (its statx is in). */
  #chain(s: number): void {
    const host = this.#host!;
    const b = this.#batch[s]!;
    const size = this.#size[s]!;
    const a = s * 2; // source slot
    const d = a + 1; // destination slot
    const buf = this.#dataAddr + s * ENGINE_MAX_FILE;
    const nameAddr = this.#arenaAddr + s * ARENA;
    const tmpAddr = this.#arenaAddr + this.#tmpAt[s]!;
    const mode = host.preserveMode ? this.#modeOf(s) & 0o7777 : this.#modeOf(s) & 0o777;
    const L = IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
    const ud = s * 16;
    // The head is issued here, inline: an open without O_CREAT resolves from the dentry cache
    // (LOOKUP_CACHED) on this thread; the steps that block (the O_CREAT open, and on tmpfs the
    // read and write) go to io-wq and the rest of the chain follows there. IOSQE_ASYNC on the head
    // (the whole chain on io-wq) measured 143 ms per 10,000 files against 130.
    this.#put(IORING_OP_OPENAT, L, b.srcFd, 0, nameAddr, 0, O_RDONLY | O_NOFOLLOW, ud + OPEN_SRC, a + 1);
    if (size > 0) this.#put(IORING_OP_READ, L | IOSQE_FIXED_FILE, a, 0, buf, size, 0, ud + READ, 0);
    this.#put(IORING_OP_CLOSE, L, 0, 0, 0, 0, 0, ud + CLOSE_SRC, a + 1);
    this.#put(IORING_OP_OPENAT, L, b.dstFd, 0, b.staged ? nameAddr : tmpAddr, mode, O_WRONLY | O_CREAT | O_EXCL, ud + OPEN_TMP, d + 1);
    if (size > 0) this.#put(IORING_OP_WRITE, L | IOSQE_FIXED_FILE, d, 0, buf, size, 0, ud + WRITE, 0);
    if (host.fsync) this.#put(IORING_OP_FSYNC, L | IOSQE_FIXED_FILE, d, 0, 0, 0, 0, ud + FSYNC, 0);
    if (b.staged) {
      // the close ends the chain and posts its one CQE: the file is complete under its name
      this.#put(IORING_OP_CLOSE, 0, 0, 0, 0, 0, 0, ud + CLOSE_TMP, d + 1);
    } else {
      this.#put(IORING_OP_CLOSE, L, 0, 0, 0, 0, 0, ud + CLOSE_TMP, d + 1);
      // renameat: fd = olddfd, addr = oldpath, len = newdfd, off (addr2) = newpath, op flags
      this.#put(IORING_OP_RENAMEAT, 0, b.dstFd, nameAddr, tmpAddr, b.dstFd, host.noClobber ? 1 /* RENAME_NOREPLACE */ : 0, ud + RENAME, 0);
    }
    this.#phase[s] = P_CHAIN;
  }

  #modeOf(s: number): number {
    return this.#stxWords[((s * STATX_BYTES) >>> 2) + 7]! & 0xffff;
  }

  /** Write one SQE, every word (the slot is not zeroed for us). */
  #put(op: number, flags: number, fd: number, off: number, addr: number, len: number, opFlags: number, userData: number, fileIndex: number): void {
    const q = this.ring.unsafeGetSqe()!; // callers checked sqSpaceLeft()
    const u = this.#sqes;
    const i = q.i;
    u[i] = op | (flags << 8);
    u[i + 1] = fd;
    u[i + 2] = off >>> 0;
    u[i + 3] = (off / 4294967296) >>> 0;
    u[i + 4] = addr >>> 0;
    u[i + 5] = (addr / 4294967296) >>> 0;
    u[i + 6] = len;
    u[i + 7] = opFlags;
    u[i + 8] = userData;
    u[i + 9] = 0;
    u[i + 10] = 0;
    u[i + 11] = fileIndex; // file_index (slot + 1) for *_direct opens and closes, else 0
    u[i + 12] = 0;
    u[i + 13] = 0;
    u[i + 14] = 0;
    u[i + 15] = 0;
  }

  /** Every CQE in the ring. */
  #reap(): void {
    const ring = this.ring;
    const cq = ring.cqRing;
    let n = ring.cqReady();
    while (n > 0) {
      const cqes = ring.peekBatchCqe(this.#cqeScratch, n);
      for (let j = 0; j < cqes; j++) {
        const c = this.#cqeScratch[j]!;
        const base = c.i;
        const ud = cq[base]!; // user_data low word (the high word is 0)
        const res = cq[base + 2]! | 0;
        this.#complete(ud >>> 4, ud & 15, res);
      }
      ring.cqAdvance(cqes);
      n = ring.cqReady();
    }
  }
  readonly #cqeScratch: Cqe[] = [];

  #complete(s: number, step: number, res: number): void {
    const phase = this.#phase[s]!;
    if (step === CLEANUP) {
      if (phase === P_CLEAN && --this.#steps[s]! === 0) this.#release(s);
      return;
    }
    if (phase !== P_CHAIN) return; // nothing else is expected for this slot (see below)
    // The chain's one CQE: the rename's, or the failure of an earlier step. A step with
    // IOSQE_CQE_SKIP_SUCCESS posts only when it fails (a short read or write fails too under
    // IOSQE_IO_LINK, with res ≥ 0), and then the kernel skips the CQEs of the steps after it
    // (REQ_F_SKIP_LINK_CQES), which it cancels without running them: either way the chain is over.
    // the last step: the rename, or in a staged directory the close
    if (res < 0 || step !== (this.#batch[s]!.staged ? CLOSE_TMP : RENAME)) {
      this.#failStep[s] = step;
      this.#failRes[s] = res;
    }
    this.#settle(s);
  }

  /** Slot s's chain is over: report it, clean up what it left (slots, temporary file), free the slot. */
  #settle(s: number): void {
    const host = this.#host!;
    const b = this.#batch[s]!;
    const step = this.#failStep[s]!;
    const res = this.#failRes[s]!;
    let k = this.#index[s]!;
    const retry = k < 0;
    if (retry) k = ~k;
    if (retry) host.retry(b, k, 0);
    else if (step < 0) host.copied(b, k, this.#size[s]!);
    else if (step === RENAME && res === -EEXIST && host.noClobber) host.skipped(b, k, this.#size[s]!);
    else if ((step === READ || step === WRITE) && res >= 0) host.retry(b, k, this.#size[s]!); // changed size, or a short write: the general path reports why
    else host.failed(b, k, res, STEP_SYSCALL[step]!, STEP_ON_DEST[step]!);
    if (step >= 0 && step !== STATX) {
      // What the failed chain leaves: the source slot open if it failed after OPEN_SRC and
      // before CLOSE_SRC; the destination slot open between OPEN_TMP and CLOSE_TMP; the
      // temporary file if it failed after OPEN_TMP. Closing an empty slot is harmless (EBADF).
      const ud = s * 16 + CLEANUP;
      if (this.ring.sqSpaceLeft() < 3) this.ring.submit();
      let n = 0;
      if (step > OPEN_SRC && step < CLOSE_SRC) (this.#put(IORING_OP_CLOSE, 0, 0, 0, 0, 0, 0, ud, s * 2 + 1), n++);
      if (step > OPEN_TMP && step < CLOSE_TMP) (this.#put(IORING_OP_CLOSE, 0, 0, 0, 0, 0, 0, ud, s * 2 + 2), n++);
      // the file written: the temporary name, or the final name inside a staged directory
      const written = b.staged ? this.#arenaAddr + s * ARENA : this.#arenaAddr + this.#tmpAt[s]!;
      if (step > OPEN_TMP) (this.#put(IORING_OP_UNLINKAT, 0, b.dstFd, 0, written, 0, 0, ud, 0), n++);
      if (n > 0) {
        this.#steps[s] = n;
        this.#phase[s] = P_CLEAN;
        return;
      }
    }
    this.#release(s);
  }

  #release(s: number): void {
    const b = this.#batch[s]!;
    this.#phase[s] = P_FREE;
    this.#batch[s] = null;
    this.#free.push(s);
    this.#inflight--;
    if (--b.left === 0) this.#resolve(b);
  }
}

function makeRing(): IoUring {
  try {
    return new IoUring(1024, { cqEntries: 4096, singleIssuer: true, deferTaskrun: true });
  } catch {
    return new IoUring(1024, { cqEntries: 4096 }); // before Linux 6.1
  }
}

// ---------------------------------------------------------------- a pool, so a copy reuses a ring

const idle: CopyEngine[] = [];

/**
 * An engine nobody is using (made on first use; later copies reuse it): the worker threads
 * (lib/copy-workers.ts) when they can be had — one copy at a time — else an in-process one.
 * `warn`: told when the workers cannot be started.
 */
export function takeEngine(slots: number, warn?: (m: string) => void): Engine {
  const pool = takeWorkerPool(() => takeLocalEngine(slots), reserveTmpSeq, warn);
  if (pool) return pool;
  return takeLocalEngine(slots);
}

/** An in-process engine nobody is using. */
export function takeLocalEngine(slots: number): CopyEngine {
  const i = idle.findIndex((e) => e.slots === Math.max(1, Math.min(MAX_SLOTS, slots)));
  if (i >= 0) return idle.splice(i, 1)[0]!;
  return new CopyEngine(slots);
}

/**
 * Hand an engine back once its copy is over (every batch settled). One idle engine is kept for
 * the next copy (a ring, a 2 × slots fixed-file table and slots × 64 KiB of buffers: 8 MiB at
 * the default 128 files in flight); any other is closed.
 */
export function giveEngine(e: Engine): void {
  if (e instanceof WorkerPool) return giveWorkerPool(e);
  if (!(e instanceof CopyEngine)) return e.close();
  if (e.busy) return; // never reuse an engine with work in flight
  if (e.reusable && idle.length < 1) idle.push(e);
  else e.close();
}
