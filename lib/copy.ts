/**
 * copyFile / copyTree: file copies through io_uring that never leave a torn file.
 *
 * - No final path ever shows a partial file. A file copied into a directory that
 *   exists is written under a temporary name beside it (`.NAME.bun-uring-PID-N.tmp`,
 *   created O_EXCL) and renamed into place only when complete (after fsync with
 *   `fsync: true`). A directory copyTree creates is staged (see dir()): the top-most
 *   one is made under such a temporary name, its files are written under their final
 *   names inside it, and it is renamed into place once everything in it has settled.
 *   A crash or SIGKILL can leave temporary files and a staged tree behind, never a
 *   partial file under a final path. On error a partly written file is removed.
 * - In a tree, each directory's regular files up to 64 KiB go to the small-file
 *   engine (lib/copy-engine.ts: worker threads copying with plain syscalls,
 *   lib/copy-workers.ts; else its own raw ring, a synchronous statx then one
 *   linked chain per file), which hands back what it cannot take as it is.
 *   Everything else — and every file when the options need metadata a chain
 *   cannot set, or the caller gave a `uring` — takes the general path here: data
 *   in `blockSize` blocks, up to `queueDepth` blocks in flight over all files;
 *   many files are in flight at once, and the walk's statx, the
 *   openat/mkdirat/renameat/close and the data go through one ring, batched
 *   into few io_uring_enter calls. Directory listing (getdents) has no io_uring
 *   operation and is synchronous, as is the engine's statx; so are the walk's
 *   directory-level steps (a subdirectory's statx, mkdir, the engine's O_PATH
 *   opens, the final fchmod, a staged tree's rename) unless the caller gave a
 *   `uring`: microseconds each as syscalls, where a ring round trip through the
 *   event loop costs more and the first file waits for a chain of them.
 * - What `cp -r` / `cp -a` users rely on: directories, symlinks as symlinks
 *   (followed with `dereference`), modes (umask applies unless `preserve`),
 *   timestamps and ownership (`preserve`), sparse files stay sparse
 *   (SEEK_DATA/SEEK_HOLE), hard links kept as links (`preserve: ["links"]`),
 *   empty files and directories; FIFOs, sockets and devices are skipped with a
 *   warning; a directory is never copied into itself.
 */
import { type Dirent, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, readlinkSync, realpathSync, statfsSync, writeSync } from "node:fs";
import { cpus } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import type { z } from "zod";
import { closeFd, fchmod, fchown, fchownat, fcntl, futimens, lseek, pipe2, renameat2Sync, statxSync, utimensat } from "../ffi/syscalls.ts";
import {
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  IORING_OP_READ,
  IORING_OP_WRITE,
  IORING_SETUP_DEFER_TASKRUN,
  IOSQE_FIXED_FILE,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  O_RDONLY,
  O_WRONLY,
  STATX_BASIC_STATS,
  STATX_BTIME,
} from "./constants.ts";
import { copyRange } from "./copy-range.ts";
import { writeSideErrno } from "./copy-worker-shared.ts";
import { type Engine, type EngineBatch, type EngineHost, giveEngine, nextTmpSeq, takeEngine } from "./copy-engine.ts";
import { abortError, ERRNO, invalidArgument, UringError, withPath, withPathAsync } from "./errors.ts";
import { addressOf, addressOfOwned } from "./memory.ts";
import { lazySchema, parseOptions, trusted } from "./options.ts";
import { prepCloseDirect, prepFsync, prepOpenatDirect, prepRenameat, prepRw, prepSplice } from "./prep.ts";
import type { Sqe } from "./sqe.ts";
import { setU64 } from "./sqe.ts";
import { parseStatx, type UringStats } from "./stats.ts";
import { Uring } from "./uring.ts";

const SEEK_DATA = 3;
/** open(2): a handle for *at() calls only (the same on x86_64 and aarch64). */
const O_PATH = 0o10000000;
const SEEK_HOLE = 4;
const { ENXIO, EEXIST, EINVAL, ECANCELED, EIO } = ERRNO;
const COPY_ABORTED = "The copy was aborted";
/** Files up to this size are copied by one linked chain (one buffer, no JS between steps). */
const SMALL_FILE = 64 * 1024;
/**
 * Dense files from this size on go to copy_file_range on a worker thread (lib/copy-range.ts):
 * every file the one-chain path does not take. Measured on the bench's mixed tree (tmpfs, 6
 * rounds): 228–252 ms from 64 KiB on against 255–274 ms from 4 MiB on.
 */
const RANGE_MIN = SMALL_FILE + 1;

/** Defaults chosen by measurement (test/bench/copy.bench.ts): 1 MiB blocks, 8 in flight, ~128 files at once. */
export const COPY_DEFAULTS = { blockSize: 1 << 20, queueDepth: 8, filesInFlight: 128 } as const;

const PRESERVE_ITEMS = ["mode", "timestamps", "ownership", "links"] as const;
export type PreserveItem = (typeof PRESERVE_ITEMS)[number];

/** Options of copyFile/copyTree (zod-validated; a bad one throws a TypeError/RangeError naming it). */
export const CopyOptionsSchema = lazySchema((z) =>
  z
  .object({
    /** Follow symlinks in the source (copy what they point to). Default false: copy links as links. */
    dereference: z.boolean().optional(),
    /** Keep metadata: true for all of mode, timestamps, ownership (when root) and links, or a list. */
    preserve: z.union([z.boolean(), z.array(z.enum(PRESERVE_ITEMS))]).optional(),
    /** Never replace an existing destination file (it is skipped). */
    noClobber: z.boolean().optional(),
    /**
     * cp's --force. Every copy already replaces an existing destination by renaming over it —
     * whether or not you may write to that file — so this changes nothing; it is accepted for
     * cp compatibility and excludes `noClobber`.
     */
    force: z.boolean().optional(),
    /** fsync each file before renaming it into place. */
    fsync: z.boolean().optional(),
    /** Re-read source and copy afterwards and compare sha256 checksums. */
    verify: z.boolean().optional(),
    /** Copy the rest after an error and list every failure in `summary.errors` (instead of stopping). */
    continueOnError: z.boolean().optional(),
    /** Blocks in flight over all files. */
    queueDepth: z.number().int().min(1).max(4096).optional(),
    /** Bytes per read/write (a multiple of 4096). */
    blockSize: z.number().int().min(4096).max(64 << 20).multipleOf(4096).optional(),
    /** Files copied at once. */
    filesInFlight: z.number().int().min(1).max(65536).optional(),
    /** Called with progress at most every `progressInterval` ms, and once at the end. */
    onProgress: z.custom<(p: CopyProgress) => void>((v) => typeof v === "function", "Expected a function").optional(),
    progressInterval: z.number().min(0).optional(),
    /** Called for each skipped entry (FIFO, socket, device) and other non-fatal notes. */
    onWarning: z.custom<(message: string) => void>((v) => typeof v === "function", "Expected a function").optional(),
    /** Abort the copy: in-flight operations are cancelled and temporary files removed. */
    signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, "Expected an AbortSignal").optional(),
    /**
     * Copy the data of large dense files with copy_file_range(2) on a worker thread (default true):
     * the kernel's own copy, `cp`'s speed, and reflinks on btrfs/XFS. false: through the ring, as
     * splices. Never with `uring` (everything then runs on that ring).
     */
    copyFileRange: z.boolean().optional(),
    /** Run on this Uring instead of a private one. */
    uring: z.custom<Uring>((v) => v instanceof Uring, "Expected a Uring").optional(),
  })
  .strict(),
);

type CopyOptionsSchemaType = ReturnType<typeof CopyOptionsSchema>;
export type CopyOptions = z.input<CopyOptionsSchemaType>;

/** One failure, with the path and the errno, like a node:fs error. */
export interface CopyError {
  path: string;
  dest?: string;
  code: string;
  syscall: string;
  message: string;
}

/** What a copy did. */
export interface CopySummary {
  files: number;
  dirs: number;
  symlinks: number;
  /** Hard links recreated as links (preserve links). */
  hardlinks: number;
  bytes: number;
  seconds: number;
  errors: CopyError[];
  /** Entries not copied: special files, and existing destinations under noClobber. */
  skipped: { path: string; reason: string }[];
  /** With verify: files whose checksums were compared and matched. */
  verified: number;
}

/** What onProgress gets. Totals grow while the walk is still finding files (`scanning`). */
export interface CopyProgress {
  bytes: number;
  totalBytes: number;
  files: number;
  totalFiles: number;
  dirs: number;
  scanning: boolean;
  seconds: number;
}

/** A fatal copy error that has been recorded already: unwinds the other tasks quietly. */
class Stop extends Error {}

/** The shared engine behind copyFile and copyTree. */
class Copier {
  /** The caller's ring (options.uring), else the process's copy ring, made on first use (see `io`). */
  #io: Uring | null;
  readonly o: Required<Omit<CopyOptions, "onProgress" | "onWarning" | "signal" | "uring" | "preserve">> & {
    preserve: Set<PreserveItem>;
    onProgress?: (p: CopyProgress) => void;
    onWarning?: (m: string) => void;
    signal?: AbortSignal;
  };
  readonly summary: CopySummary = {
    files: 0,
    dirs: 0,
    symlinks: 0,
    hardlinks: 0,
    bytes: 0,
    seconds: 0,
    errors: [],
    skipped: [],
    verified: 0,
  };
  readonly #t0 = performance.now();
  #totalBytes = 0;
  #totalFiles = 0;
  #scanning = true;
  /** Bytes written for files not yet renamed into place (progress counts them; the summary does not). */
  #inFlightBytes = 0;
  /** Directories not yet listed and entries not yet stat'ed: the walk is over when it reaches 0. */
  #pendingScan = 0;
  #lastProgress = 0;
  #fatal: unknown = null;
  /** Temporary files that exist right now: removed if the copy fails or is aborted. */
  readonly #tmps = new Set<string>();
  /** Buffers for blocks in flight, and who waits for one. */
  readonly #buffers: Uint8Array[] = [];
  #buffersMade = 0;
  readonly #bufferWaiters: ((b: Uint8Array) => void)[] = [];
  #filesActive = 0;
  readonly #fileWaiters: (() => void)[] = [];
  /** dev:ino → the destination of the first copy, for preserve links. */
  readonly #links = new Map<string, Promise<string | null>>();
  /** Free fixed-file slots for the small-file chains, shared by every copy on this ring (empty: no table). */
  #slots: number[] | null = null;
  /** Copied files, for verify. */
  readonly #copied: [string, string][] = [];
  /** Staged directories renamed into place: [temporary path + "/", final path + "/"], to name their files for verify. */
  readonly #unstaged: [string, string][] = [];
  /** Staged directories being filled: temporary path → final path (errors name the final one). */
  readonly #stages = new Map<string, string>();
  readonly #abortListener = () => this.#fail(abortError(this.o.signal?.reason, COPY_ABORTED));
  readonly #uid = process.getuid?.() ?? -1;
  /** Whether regular files may go through the small-file engine: not on a caller's ring, and no metadata it cannot set. */
  #engineOk: boolean;
  /**
   * Directory-level steps of the walk (statx of a subdirectory, mkdir, the O_PATH opens for the
   * engine, the final fchmod) as direct syscalls rather than ring round trips through the event
   * loop: each takes microseconds, and the first file cannot start before a chain of them is done.
   * Not on a caller's `uring`, where every step stays on that ring.
   */
  readonly #walkSync: boolean;
  readonly #host: EngineHost;
  #engine: Engine | null = null;

  /** `validated`: `options` is the output of a parse already (copyFile's), not to be parsed again. */
  constructor(options: CopyOptions | undefined, validated = false) {
    // no options: nothing to validate (zod's first parse costs ~3 ms in a cold process)
    const p: z.output<CopyOptionsSchemaType> =
      options === undefined ? {} : validated ? (options as z.output<CopyOptionsSchemaType>) : parseOptions(CopyOptionsSchema, options, "options");
    const preserve = new Set<PreserveItem>(
      p.preserve === true ? ["mode", "timestamps", "ownership", "links"] : Array.isArray(p.preserve) ? p.preserve : [],
    );
    this.o = {
      dereference: p.dereference ?? false,
      preserve,
      noClobber: p.noClobber ?? false,
      force: p.force ?? false,
      fsync: p.fsync ?? false,
      verify: p.verify ?? false,
      continueOnError: p.continueOnError ?? false,
      copyFileRange: !p.uring && p.copyFileRange !== false,
      queueDepth: p.queueDepth ?? COPY_DEFAULTS.queueDepth,
      blockSize: p.blockSize ?? COPY_DEFAULTS.blockSize,
      filesInFlight: p.filesInFlight ?? COPY_DEFAULTS.filesInFlight,
      progressInterval: p.progressInterval ?? 100,
      onProgress: p.onProgress,
      onWarning: p.onWarning,
      signal: p.signal,
    };
    if (this.o.noClobber && this.o.force) throw invalidArgument("options", "noClobber and force exclude each other.");
    this.#engineOk = !p.uring && !preserve.has("ownership") && !preserve.has("timestamps");
    this.#walkSync = !p.uring;
    this.#host = this.#makeHost();
    // the shared Promise-tier ring is made when something first needs it (see `io`): a tree of
    // small files on the engine, walked with direct syscalls, may never (~5 ms cold)
    this.#io = p.uring ?? null;
    // block buffers are made when first needed (#takeBuffer): a tree of small files never needs one
    if (this.o.signal) {
      if (this.o.signal.aborted) this.#fatal = abortError(this.o.signal.reason, COPY_ABORTED);
      else this.o.signal.addEventListener("abort", this.#abortListener, { once: true });
    }
  }

  /** The ring the general path, the walk's async steps and verify run on. */
  get io(): Uring {
    return (this.#io ??= copyRing());
  }

  /** Free fixed-file slots of `io` for small files' chains on the general path. */
  get #freeSlots(): number[] {
    return (this.#slots ??= slotPool(this.io));
  }

  // ---------------------------------------------------------------- bookkeeping

  /** Record an error: fatal unless continueOnError. Throws Stop when the copy must unwind. */
  #record(e: unknown, path: string, dest?: string): void {
    if (e instanceof Stop) throw e;
    if (this.#fatal) throw new Stop();
    if (this.#stages.size > 0) {
      // name what failed by its final path, not the staged directory's temporary one
      e = this.#finalNames(e);
      path = this.#finalPath(path);
      if (dest !== undefined) dest = this.#finalPath(dest);
    }
    const err = asCopyError(e, path, dest);
    if (this.o.continueOnError && err.code !== "ABORT_ERR") {
      this.summary.errors.push(err);
      return;
    }
    this.#fail(e instanceof Error ? e : new Error(String(e)), err);
    throw new Stop();
  }

  /** `p` with a staged directory's temporary path replaced by its final one. */
  #finalPath(p: string): string {
    for (const [stage, dst] of this.#stages) {
      if (p === stage) return dst;
      if (p.startsWith(stage) && p[stage.length] === "/") return dst + p.slice(stage.length);
    }
    return p;
  }

  /** A UringError naming a path inside a staged directory, renamed after its final path. */
  #finalNames(e: unknown): unknown {
    if (!(e instanceof UringError)) return e;
    const path = e.path === undefined ? undefined : this.#finalPath(e.path);
    const dest = e.dest === undefined ? undefined : this.#finalPath(e.dest);
    if (path === e.path && dest === e.dest) return e;
    const at = e.message.indexOf("\n  ");
    const advice = at >= 0 ? e.message.slice(at + 3) : undefined;
    return new UringError(e.errno, e.syscall, { path, dest, advice });
  }

  #fail(e: unknown, err?: CopyError): void {
    if (this.#fatal) return;
    this.#fatal = e;
    if (err) this.summary.errors.push(err);
    // wake everyone waiting for a buffer or a file slot: they will see #fatal and unwind
    for (const w of this.#fileWaiters.splice(0)) w();
  }

  #check(): void {
    if (this.#fatal) throw new Stop();
  }

  #progress(force = false): void {
    const cb = this.o.onProgress;
    if (!cb) return;
    const now = performance.now();
    if (!force && now - this.#lastProgress < this.o.progressInterval) return;
    this.#lastProgress = now;
    cb({
      bytes: this.summary.bytes + this.#inFlightBytes,
      totalBytes: this.#totalBytes,
      files: this.summary.files,
      totalFiles: this.#totalFiles,
      dirs: this.summary.dirs,
      scanning: this.#scanning,
      seconds: (now - this.#t0) / 1000,
    });
  }

  async #takeBuffer(): Promise<Uint8Array> {
    const b = this.#buffers.pop();
    if (b) return b;
    // made on first use, up to queueDepth: a copy that only splices never needs one (8 MiB of zeroing saved)
    if (this.#buffersMade < this.o.queueDepth) {
      this.#buffersMade++;
      return new Uint8Array(this.o.blockSize);
    }
    return new Promise((resolve) => this.#bufferWaiters.push(resolve));
  }

  #giveBuffer(b: Uint8Array): void {
    const w = this.#bufferWaiters.shift();
    if (w) w(b);
    else this.#buffers.push(b);
  }

  async #fileSlot(): Promise<void> {
    while (this.#filesActive >= this.o.filesInFlight) {
      this.#check();
      await new Promise<void>((r) => this.#fileWaiters.push(r));
    }
    this.#check();
    this.#filesActive++;
  }

  #fileDone(): void {
    this.#filesActive--;
    this.#fileWaiters.shift()?.();
  }

  #tmpName(dst: string): string {
    return join(dirname(dst), `.${basename(dst)}.bun-uring-${process.pid}-${nextTmpSeq()}.tmp`);
  }

  // ---------------------------------------------------------------- entries

  /**
   * Copy whatever `src` is to `dst`. `st` is its (l)stat if known. `staged`: `dst` lies inside a
   * directory this copy created under a temporary name (see dir()).
   */
  async entry(src: string, dst: string, st?: UringStats, staged = false): Promise<void> {
    // The walk is over when every entry has been stat'ed and every directory listed.
    this.#pendingScan++;
    let scanned = false;
    const doneScanning = () => {
      if (scanned) return;
      scanned = true;
      if (--this.#pendingScan === 0) this.#scanning = false;
    };
    try {
      this.#check();
      st ??= this.o.dereference ? await this.io.stat(src) : this.#walkSync ? lstatNow(src, false) : await this.io.lstat(src);
      if (st.isDirectory()) return await this.dir(src, dst, st, doneScanning, staged);
      doneScanning();
      if (st.isFile()) {
        this.#totalFiles++;
        this.#totalBytes += st.size;
        return await this.file(src, dst, st);
      }
      if (st.isSymbolicLink()) return await this.symlink(src, dst, st);
      const kind = st.isFIFO() ? "FIFO" : st.isSocket() ? "socket" : st.isCharacterDevice() ? "character device" : "block device";
      this.summary.skipped.push({ path: src, reason: `${kind} not copied` });
      this.o.onWarning?.(`skipping ${kind} '${src}'`);
    } catch (e) {
      this.#record(e, src, dst);
    } finally {
      doneScanning();
    }
  }

  /**
   * Copy a directory. A directory this copy creates outside any staged one is staged: made as
   * `.NAME.bun-uring-PID-N.tmp` beside its final name, filled — its files written under their
   * final names, since no final path reaches them yet — and renamed into place (RENAME_NOREPLACE)
   * once everything in it is settled. A directory that exists already is merged into, each file
   * through a temporary name of its own. Either way no final path ever shows a partial file.
   */
  async dir(src: string, dst: string, st: UringStats, listed: () => void, staged = false): Promise<void> {
    let created = true;
    /** The temporary name this directory is being filled under, if it is the top of a staged tree. */
    let stage: string | null = null;
    // (a name so long that its temporary name would pass NAME_MAX is made in place, unstaged)
    const tmp = staged ? "" : this.#tmpName(dst);
    if (!staged && Buffer.byteLength(basename(tmp)) <= 255 && !(this.#walkSync ? lstatNow(dst, true) : await this.#exists(dst))) {
      stage = tmp;
      this.#stages.set(stage, dst);
      // rwx for us while filling it; the final mode is applied after its contents
      await this.#mkdir(stage);
    } else {
      try {
        await this.#mkdir(dst);
      } catch (e) {
        if ((e as UringError).code !== "EEXIST" || !(await this.io.stat(dst)).isDirectory()) throw e;
        created = false; // merging into a directory that exists: like cp, leave its mode alone unless preserving
      }
    }
    try {
      await this.#fillDir(src, stage ?? dst, st, listed, created, stage !== null || staged);
    } finally {
      // Renamed into place even after an error: it holds complete files only (a failed file's
      // partial data is unlinked before it settles), as a merged directory would.
      if (stage !== null) await this.#unstage(stage, dst);
    }
  }

  /** lstat of the root, or null if it cannot be stat'ed (entry() reports why). */
  async lstatOrNull(path: string): Promise<UringStats | null> {
    try {
      return this.#walkSync ? lstatNow(path, false) : await this.io.lstat(path);
    } catch {
      return null;
    }
  }

  /** mkdir(path, 0o700): rwx for us while filling it (the final mode is applied after its contents). */
  async #mkdir(path: string): Promise<void> {
    if (this.#walkSync) mkdirNow(path, 0o700);
    else await this.io.mkdir(path, { mode: 0o700 });
  }

  /** Rename a staged directory into place; if `dst` appeared meanwhile, leave it and say where the copy is. */
  async #unstage(stage: string, dst: string): Promise<void> {
    this.#stages.delete(stage);
    try {
      if (this.#walkSync) renameNow(stage, dst, 1 /* RENAME_NOREPLACE */);
      else await this.io.rename(stage, dst, { noReplace: true });
    } catch (e) {
      const err = e as UringError;
      throw new UringError(err.errno ?? -EIO, "rename", {
        path: stage,
        dest: dst,
        advice: err.code === "EEXIST" ? `'${dst}' appeared during the copy; the copied tree is left at '${stage}'` : undefined,
      });
    }
    this.#unstaged.push([`${stage}/`, `${dst}/`]);
  }

  async #fillDir(src: string, dst: string, st: UringStats, listed: () => void, created: boolean, staged: boolean): Promise<void> {
    this.summary.dirs++;
    let entries: Dirent[];
    try {
      entries = readdirSync(src, { withFileTypes: true });
    } catch (e) {
      throw toUringError(e, "scandir", src);
    }
    // Regular files (by d_type) go to the small-file engine when the options allow it; it hands
    // back whatever it cannot take (big, sparse, changed…). Everything else takes entry().
    const children: Promise<void>[] = [];
    let regular: string[] | null = null;
    for (const d of entries) {
      if (this.#engineOk && d.isFile()) (regular ??= []).push(d.name);
      else if (this.#walkSync && d.isDirectory()) children.push(this.#subdir(join(src, d.name), join(dst, d.name), staged));
      else children.push(this.entry(join(src, d.name), join(dst, d.name), undefined, staged));
    }
    if (regular) children.push(this.#engineBatch(src, dst, regular, staged));
    listed(); // every child is counted by now
    // wait for every child, failed or not, before anything else happens to this directory
    const settled = await Promise.allSettled(children);
    for (const r of settled) if (r.status === "rejected") throw r.reason;
    this.#check();
    if (created || this.o.preserve.size > 0) await this.#applyDirMeta(dst, st);
  }

  /** A subdirectory found by the listing: its statx now, synchronously (no hop through the ring per directory). */
  #subdir(src: string, dst: string, staged: boolean): Promise<void> {
    let st: UringStats | undefined;
    try {
      st = this.o.dereference ? undefined : (lstatNow(src, false) as UringStats);
    } catch {
      st = undefined; // entry() stats it again and reports the error its own way
    }
    return this.entry(src, dst, st, staged);
  }

  /** Take the small-file engine (lib/copy-engine.ts takeEngine) if this copy may use it and has none yet. */
  takeEngine(): void {
    if (!this.#engineOk || this.#engine) return;
    try {
      this.#engine = takeEngine(this.o.filesInFlight, this.o.onWarning);
    } catch (e) {
      // no ring for the engine (RLIMIT_MEMLOCK, io_uring limits): the general path does it all
      this.#engineOk = false;
      this.o.onWarning?.(`small-file engine unavailable (${(e as Error).message}); copying the general way`);
    }
  }

  /** One directory's regular files through the engine (lib/copy-engine.ts); what it hands back, through entry(). */
  async #engineBatch(src: string, dst: string, names: string[], staged: boolean): Promise<void> {
    this.#totalFiles += names.length;
    const retry: number[] = [];
    this.#check();
    // O_PATH: a handle for the *at() calls only, which needs no read permission on the directory
    let sfd: number;
    let dfd: number;
    if (this.#walkSync) {
      // a directory that cannot be held open sends its files the general way, which reports why
      sfd = openOr(src, O_PATH | O_DIRECTORY);
      dfd = openOr(dst, O_PATH | O_DIRECTORY);
    } else {
      const opened = await Promise.allSettled([this.io.openFd(src, O_PATH | O_DIRECTORY), this.io.openFd(dst, O_PATH | O_DIRECTORY)]);
      [sfd, dfd] = opened.map((r) => (r.status === "fulfilled" ? r.value : -1)) as [number, number];
    }
    if (sfd >= 0 && dfd >= 0) this.takeEngine();
    if (sfd < 0 || dfd < 0 || !this.#engine) {
      // cannot hold the directories open (or no engine): every file goes the general way, which reports its own error
      await this.#closeDirFds(sfd, dfd);
      this.#totalFiles -= names.length;
      this.#check();
      await settleAll(names.map((name) => this.entry(join(src, name), join(dst, name), undefined, staged)));
      return;
    }
    const engine = this.#engine;
    try {
      try {
        const batch: EngineBatch & { retry: number[] } = {
          srcDir: src,
          dstDir: dst,
          srcFd: sfd,
          dstFd: dfd,
          staged,
          names,
          left: 0,
          next: 0,
          resolve: () => {},
          reject: () => {},
          retry,
        };
        await engine.copy(this.#host, batch);
      } finally {
        await this.#closeDirFds(sfd, dfd);
      }
    } catch (e) {
      // the engine's ring failed (io_uring_enter refused): fatal, like a failure of the shared ring
      this.#record(e, src, dst);
      return;
    }
    this.#check();
    await settleAll(retry.map((k) => this.entry(join(src, names[k]!), join(dst, names[k]!), undefined, staged)));
  }

  async #closeDirFds(sfd: number, dfd: number): Promise<void> {
    if (this.#walkSync) {
      if (sfd >= 0) closeFd(sfd);
      if (dfd >= 0) closeFd(dfd);
    } else await Promise.allSettled([sfd, dfd].filter((fd) => fd >= 0).map((fd) => this.io.closeFd(fd)));
  }

  /** The engine's view of this copy (see EngineHost). */
  #makeHost(): EngineHost {
    return {
      stopped: () => this.#fatal !== null,
      fsync: this.o.fsync,
      noClobber: this.o.noClobber,
      preserveMode: this.o.preserve.has("mode"),
      preserveLinks: this.o.preserve.has("links"),
      umask: umask(),
      sized: (bytes) => void (this.#totalBytes += bytes),
      copied: (b, k, bytes) => {
        this.summary.files++;
        this.summary.bytes += bytes;
        if (this.o.verify) this.#copied.push([join(b.srcDir, b.names[k]!), join(b.dstDir, b.names[k]!)]);
        this.#progress();
      },
      copiedRun: (b, k0, n, bytes) => {
        this.summary.files += n;
        this.summary.bytes += bytes;
        if (this.o.verify) for (let k = k0; k < k0 + n; k++) this.#copied.push([join(b.srcDir, b.names[k]!), join(b.dstDir, b.names[k]!)]);
        this.#progress();
      },
      skipped: (b, k, bytes) => {
        this.summary.skipped.push({ path: join(b.dstDir, b.names[k]!), reason: "exists (no-clobber)" });
        this.#totalFiles--;
        this.#totalBytes -= bytes;
      },
      retry: (b, k, bytes) => {
        this.#totalFiles--; // entry() counts it again
        this.#totalBytes -= bytes;
        (b as EngineBatch & { retry: number[] }).retry.push(k);
      },
      failed: (b, k, errno, syscall, onDest) => {
        const src = join(b.srcDir, b.names[k]!);
        const dst = join(b.dstDir, b.names[k]!);
        try {
          this.#record(new UringError(errno, syscall, { path: onDest ? dst : src }), src, dst);
        } catch {
          // fatal: recorded; the engine sees stopped() and drains
        }
      },
      warn: (m) => this.o.onWarning?.(m),
    };
  }

  async #applyDirMeta(dst: string, st: UringStats): Promise<void> {
    const p = this.o.preserve;
    const fd = this.#walkSync ? openNow(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : await this.io.openFd(dst, O_RDONLY | O_DIRECTORY);
    try {
      if (p.has("ownership") && this.#uid === 0) checkSync(fchown(fd, st.uid, st.gid), "fchown", dst);
      // like cp: the source's mode, less the umask unless preserve mode
      const mode = p.has("mode") ? st.mode & 0o7777 : st.mode & 0o777 & ~umask();
      checkSync(fchmod(fd, mode), "fchmod", dst);
      if (p.has("timestamps")) checkSync(futimens(fd, timesOf(st)), "futimens", dst);
    } finally {
      if (this.#walkSync) closeFd(fd);
      else await this.io.closeFd(fd);
    }
  }

  async symlink(src: string, dst: string, st: UringStats): Promise<void> {
    let target: string;
    try {
      target = readlinkSync(src);
    } catch (e) {
      throw toUringError(e, "readlink", src);
    }
    if (this.o.noClobber && (await this.#exists(dst))) {
      this.summary.skipped.push({ path: dst, reason: "exists (no-clobber)" });
      return;
    }
    const tmp = this.#tmpName(dst);
    await this.io.symlink(target, tmp);
    this.#tmps.add(tmp);
    try {
      if (this.o.preserve.has("ownership") && this.#uid === 0) {
        const path = Buffer.from(`${tmp}\0`);
        checkSync(fchownat(-100, addressOf(path), st.uid, st.gid, 0x100 /* AT_SYMLINK_NOFOLLOW */), "lchown", tmp);
      }
      if (this.o.preserve.has("timestamps")) {
        const path = Buffer.from(`${tmp}\0`);
        checkSync(utimensat(AT_FDCWD, addressOf(path), timesOf(st), 0x100 /* AT_SYMLINK_NOFOLLOW */), "utimensat", dst);
      }
      await this.io.rename(tmp, dst);
      this.#tmps.delete(tmp);
    } catch (e) {
      await this.#removeTmp(tmp);
      throw e;
    }
    this.summary.symlinks++;
  }

  async #exists(path: string): Promise<boolean> {
    try {
      await this.io.lstat(path);
      return true;
    } catch (e) {
      if ((e as UringError).code === "ENOENT") return false;
      throw e;
    }
  }

  async file(src: string, dst: string, st: UringStats): Promise<void> {
    await this.#fileSlot();
    try {
      if (this.o.noClobber && (await this.#exists(dst))) {
        this.summary.skipped.push({ path: dst, reason: "exists (no-clobber)" });
        this.#totalBytes -= st.size;
        this.#totalFiles--;
        return;
      }
      // preserve links: the second name of an inode becomes a hard link to the first copy
      if (this.o.preserve.has("links") && st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = this.#links.get(key);
        if (first) {
          const firstDst = await first;
          if (firstDst) {
            await this.#hardlink(firstDst, dst);
            this.#totalBytes -= st.size;
            return;
          }
        } else {
          let settle!: (v: string | null) => void;
          this.#links.set(key, new Promise((r) => (settle = r)));
          try {
            await this.#copyRegular(src, dst, st);
            settle(dst);
          } catch (e) {
            settle(null);
            throw e;
          }
          return;
        }
      }
      await this.#copyRegular(src, dst, st);
    } finally {
      this.#fileDone();
    }
  }

  async #hardlink(existing: string, dst: string): Promise<void> {
    const tmp = this.#tmpName(dst);
    await this.io.link(existing, tmp);
    this.#tmps.add(tmp);
    try {
      await this.#rename(tmp, dst);
    } catch (e) {
      await this.#removeTmp(tmp);
      throw e;
    }
    this.summary.hardlinks++;
    this.summary.files++;
  }

  /** Rename `tmp` into place (`now`: as a direct syscall); false when noClobber found `dst` there. */
  async #rename(tmp: string, dst: string, now = false): Promise<boolean> {
    try {
      if (now) renameNow(tmp, dst, this.o.noClobber ? 1 : 0);
      else await this.io.rename(tmp, dst, { noReplace: this.o.noClobber });
      this.#tmps.delete(tmp);
      return true;
    } catch (e) {
      if (this.o.noClobber && (e as UringError).errno === -EEXIST) {
        await this.#removeTmp(tmp);
        this.summary.skipped.push({ path: dst, reason: "exists (no-clobber)" });
        return false;
      }
      throw e;
    }
  }

  async #removeTmp(tmp: string): Promise<void> {
    try {
      await this.io.unlink(tmp);
    } catch {
      // already gone
    }
    this.#tmps.delete(tmp);
  }

  /** The copy proper: open both, move the data, apply metadata, rename into place. */
  async #copyRegular(src: string, dst: string, st: UringStats): Promise<void> {
    const p = this.o.preserve;
    // The chain's files get their mode from openat, which the umask trims: an exact mode, owner or
    // times need a real fd (fchmod/fchown/futimens), so such files take the general path.
    const mode = st.mode & 0o7777;
    const needsFd = p.has("ownership") || p.has("timestamps") || (p.has("mode") && (mode & ~umask()) !== mode);
    if (st.size <= SMALL_FILE && this.#freeSlots.length >= 2 && !needsFd) {
      const r = await this.#copySmall(src, dst, st);
      if (r !== "retry") return;
      // the source changed size under us: take the general path, which follows the file to EOF
    }
    return this.#copyGeneral(src, dst, st);
  }

  /**
   * A small file in one submission: a chain of linked SQEs on direct descriptors,
   * openat(src) → read → close → openat(tmp, O_EXCL) → write → [fsync] → close → renameat(tmp, dst),
   * with no JS between the steps. Every step posts a CQE (the ones after a failure −ECANCELED);
   * when all are in, the first real failure is reported and whatever was left open or created is
   * closed or removed. A short read (the file changed size) answers "retry".
   */
  #copySmall(src: string, dst: string, st: UringStats): Promise<"ok" | "retry" | "skipped"> {
    const a = this.#freeSlots.pop()!;
    const b = this.#freeSlots.pop()!;
    const tmp = this.#tmpName(dst);
    const size = st.size;
    const mode = this.o.preserve.has("mode") ? st.mode & 0o7777 : st.mode & 0o777;
    // ours alone: its address needs no .buffer touch (addressOfOwned); held by every step's `keep`
    const buf = new Uint8Array(size);
    const bufAddr = addressOfOwned(buf);
    const io = this.io;
    const srcFlags = O_RDONLY | (this.o.dereference ? 0 : O_NOFOLLOW);
    type Step = { name: string; path: string; dest?: string; prep: (sqe: Sqe) => void };
    const steps: Step[] = [{ name: "open", path: src, prep: (q) => prepOpenatDirect(q, AT_FDCWD, src, srcFlags, 0, a) }];
    if (size > 0) steps.push({ name: "read", path: src, prep: (q) => ((prepRw(IORING_OP_READ, q, a, bufAddr, size, 0), (q.flags = IOSQE_FIXED_FILE))) });
    steps.push({ name: "close", path: src, prep: (q) => prepCloseDirect(q, a) });
    steps.push({ name: "open", path: dst, prep: (q) => prepOpenatDirect(q, AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_EXCL, mode, b) });
    if (size > 0) steps.push({ name: "write", path: dst, prep: (q) => ((prepRw(IORING_OP_WRITE, q, b, bufAddr, size, 0), (q.flags = IOSQE_FIXED_FILE))) });
    if (this.o.fsync) steps.push({ name: "fsync", path: dst, prep: (q) => ((prepFsync(q, b), (q.flags = IOSQE_FIXED_FILE))) });
    steps.push({ name: "close", path: dst, prep: (q) => prepCloseDirect(q, b) });
    const noReplace = this.o.noClobber ? 1 : 0;
    steps.push({ name: "rename", path: dst, prep: (q) => prepRenameat(q, AT_FDCWD, tmp, AT_FDCWD, dst, noReplace) });
    const iRead = size > 0 ? 1 : -1;
    const iCloseA = size > 0 ? 2 : 1;
    const iOpenB = iCloseA + 1;
    const iCloseB = steps.length - 2;
    const res: number[] = new Array(steps.length).fill(-ECANCELED);
    this.#tmps.add(tmp);
    return new Promise((resolve, reject) => {
      let left = steps.length;
      const finish = () => {
        // slots the chain opened but did not get to close: close them now, then free them
        const release = (slot: number, opened: boolean, closed: boolean) => {
          if (opened && !closed) io.enqueue((q) => prepCloseDirect(q, slot), () => this.#freeSlots.push(slot));
          else this.#freeSlots.push(slot);
        };
        release(a, res[0] === 0, res[iCloseA] === 0);
        release(b, res[iOpenB]! >= 0, res[iCloseB] === 0);
        const renamed = res[steps.length - 1] === 0;
        if (renamed) {
          this.#tmps.delete(tmp);
          this.summary.files++;
          this.summary.bytes += size;
          this.#copied.push([src, dst]);
          this.#progress();
          return resolve("ok");
        }
        const cleanup = res[iOpenB]! >= 0 ? this.#removeTmp(tmp) : Promise.resolve(this.#tmps.delete(tmp));
        // A short read (the file changed size) or a short write (the disk is full, RLIMIT_FSIZE)
        // broke the chain: copy it again the general way, which follows the file to EOF and
        // reports the write's real error.
        const iWrite = size > 0 ? iOpenB + 1 : -1;
        const short = (i: number) => i >= 0 && res[i]! >= 0 && res[i]! < size;
        if (short(iRead) || short(iWrite)) return void cleanup.then(() => resolve("retry"));
        const k = res.findIndex((r) => r < 0 && r !== -ECANCELED);
        if (k < 0) {
          // every step cancelled: the ring is closing under us
          return void cleanup.then(() => reject(new UringError(-ECANCELED, "copy", { path: dst })));
        }
        const bad = steps[k]!;
        if (this.o.noClobber && bad.name === "rename" && res[k] === -EEXIST) {
          this.summary.skipped.push({ path: dst, reason: "exists (no-clobber)" });
          return void cleanup.then(() => resolve("skipped"));
        }
        const err = new UringError(res[k]!, bad.name, bad.dest ? { path: bad.path, dest: bad.dest } : { path: bad.path });
        void cleanup.then(() => reject(err));
      };
      io.enqueueLinked(
        steps.map((step, k) => ({
          prep: step.prep,
          done: (r: number) => {
            res[k] = r;
            if (--left === 0) finish();
          },
          keep: buf,
        })),
      );
    });
  }

  /** Any file: open both with real fds, move the data in blocks, apply metadata, rename into place. */
  async #copyGeneral(src: string, dst: string, st: UringStats): Promise<void> {
    const tmp = this.#tmpName(dst);
    const mode = this.o.preserve.has("mode") ? st.mode & 0o7777 : st.mode & 0o777;
    const srcFlags = O_RDONLY | (this.o.dereference ? 0 : O_NOFOLLOW);
    // A file for copy_file_range on a worker (#copyRange): its opens, closes and rename are direct
    // syscalls (microseconds on a local filesystem, next to milliseconds of copy), so copyFile of
    // a large file never makes a ring (~10 ms of a cold call). Never with a caller's ring, which
    // turns copyFileRange off.
    const direct = this.#rangeFile(st);
    const opened = direct
      ? [settleNow(() => openNow(src, srcFlags)), settleNow(() => openNow(tmp, O_WRONLY | O_CREAT | O_EXCL, mode))]
      : await Promise.allSettled([this.io.openFd(src, srcFlags), this.io.openFd(tmp, O_WRONLY | O_CREAT | O_EXCL, mode)]);
    const sfd = opened[0].status === "fulfilled" ? opened[0].value : -1;
    const dfd = opened[1].status === "fulfilled" ? opened[1].value : -1;
    if (dfd >= 0) this.#tmps.add(tmp);
    // Bytes of this file already written: progress shows them at once (#inFlightBytes), the
    // summary only once the file is in place under its name.
    const moved = { n: 0 };
    let ok = false;
    try {
      try {
        if (opened[0].status === "rejected") throw opened[0].reason;
        if (opened[1].status === "rejected") throw destError(opened[1].reason, dst);
        await this.#copyData(sfd, dfd, st, src, dst, moved);
        this.#cutToSource(sfd, dfd, dst, moved);
        const p = this.o.preserve;
        if (p.has("ownership") && this.#uid === 0) checkSync(fchown(dfd, st.uid, st.gid), "fchown", dst);
        // exactly the source's mode (openat's was trimmed by the umask); after fchown, which clears set-id bits
        if (p.has("mode")) checkSync(fchmod(dfd, mode), "fchmod", dst);
        if (p.has("timestamps")) checkSync(futimens(dfd, timesOf(st)), "futimens", dst);
        if (this.o.fsync) await withPathAsync(this.io.fsync(dfd), dst);
        ok = true;
      } finally {
        if (direct) {
          if (sfd >= 0) closeFd(sfd);
          if (dfd >= 0) closeFd(dfd);
        } else {
          const closes: Promise<void>[] = [];
          if (sfd >= 0) closes.push(this.io.closeFd(sfd));
          if (dfd >= 0) closes.push(this.io.closeFd(dfd));
          await Promise.allSettled(closes);
        }
        if (!ok && dfd >= 0) await this.#removeTmp(tmp);
      }
      try {
        if (await this.#rename(tmp, dst, direct)) {
          this.summary.files++;
          this.summary.bytes += moved.n;
          this.#copied.push([src, dst]);
        }
      } catch (e) {
        await this.#removeTmp(tmp);
        throw destError(e, dst);
      }
    } finally {
      this.#inFlightBytes -= moved.n;
    }
  }

  /** Move `st.size` bytes from sfd to dfd; sparse sources stay sparse. Returns the bytes copied. */
  async #copyData(sfd: number, dfd: number, st: UringStats, src: string, dst: string, moved: { n: number }): Promise<number> {
    const size = st.size;
    if (size === 0) return 0;
    // A file with fewer allocated blocks than its size has holes: copy only its data extents.
    const sparse = st.blocks * 512 < size;
    const bs = this.o.blockSize;
    let copied = 0;
    if (this.#rangeFile(st)) {
      const r = await this.#copyRange(sfd, dfd, size, dst, moved);
      if (r === size) return r;
      if (r !== null) copied = r; // the source ended first: the buffered path below finds its EOF
    }
    // Dense files move through pipes with IORING_OP_SPLICE: the kernel copies each byte once,
    // page cache to page cache, as copy_file_range does for cp — instead of twice through a
    // user buffer. As one stream (#spliceFile) where the ring allows it; what is left after a
    // short read goes on below, the buffered way.
    const stream = copied === 0 && !sparse && !(this.io.ring.flags & IORING_SETUP_DEFER_TASKRUN);
    if (stream) {
      const n = await this.#spliceFile(sfd, dfd, size, src, dst, moved);
      if (n === size) return n;
      if (n !== null) copied = n;
    }
    const extents: [number, number][] = sparse ? dataExtents(sfd, size) : [[copied, size]];
    const jobs: Promise<void>[] = [];
    let eof = size;
    let failed: { error: unknown } | null = null;
    // On a DEFER_TASKRUN ring (a caller's Uring), a pipe per block in flight instead: each block's
    // splice(src → pipe) linked to splice(pipe → dst). A buffer from the pool is still taken per
    // block, as the token of the global queueDepth.
    const pipes: [number, number][] = [];
    const freePipes: [number, number][] = [];
    const usePipes = !sparse && !stream && pipeCapacity(bs) >= bs;
    // Measured and left out (test/bench/copy.bench.ts, see the README's copy numbers):
    // fallocate of the destination first (Bun.write's way) gained ~7 % on tmpfs but made ext4
    // copies swing 0.33–1.6 s.
    try {
      outer: for (const [start, end] of extents) {
        for (let off = start; off < end; off += bs) {
          this.#check();
          if (failed) break outer; // a block failed: issue no more
          const len = Math.min(bs, end - off);
          const buf = await this.#takeBuffer();
          if (failed) {
            this.#giveBuffer(buf);
            break outer;
          }
          let pipe: [number, number] | undefined;
          if (usePipes) {
            pipe = freePipes.pop() ?? makePipe(bs) ?? undefined;
            if (pipe && !pipes.includes(pipe)) pipes.push(pipe);
          }
          const block = pipe
            ? // only a block that succeeded hands its pipe on: a failed one may have left bytes in it
              this.#spliceBlock(sfd, dfd, pipe, off, len, src, dst, moved).then((n) => (freePipes.push(pipe!), n))
            : this.#copyBlock(sfd, dfd, buf, off, len, src, dst, moved);
          jobs.push(
            block
              .then(
                (n) => {
                  copied += n;
                  if (n < len) eof = Math.min(eof, off + n);
                },
                (error: unknown) => void (failed ??= { error }),
              )
              .finally(() => this.#giveBuffer(buf)),
          );
        }
      }
    } finally {
      // Never leave a block in flight: the caller closes both fds as soon as this returns or throws.
      await Promise.all(jobs);
      for (const [r, w] of pipes) {
        closeFd(r);
        closeFd(w);
      }
    }
    if (failed) throw (failed as { error: unknown }).error;
    if (sparse) {
      // the holes are copied too, by the final size: progress and the summary count them
      const holes = Math.max(0, Math.min(size, eof) - copied);
      moved.n += holes;
      this.#inFlightBytes += holes;
    }
    // holes at the end (and a file that shrank) are set by the size
    if (sparse || eof < size) await withPathAsync(this.io.ftruncate(dfd, sparse ? Math.min(size, eof) : eof), dst);
    return copied;
  }

  /**
   * A source that shrank while it was copied: cut the copy at the size the source has now.
   * Splice and copy_file_range move page references, and a truncate zeroes the part of a (large)
   * folio past the new end even while a pipe holds it, so bytes past the new size can arrive as
   * zeros that the file never held (seen on ext4, whose page cache uses large folios). Cut there,
   * the copy is the file as it is now.
   */
  #cutToSource(sfd: number, dfd: number, dst: string, moved: { n: number }): void {
    let now: number;
    let have: number;
    try {
      now = fstatSync(sfd).size;
      have = fstatSync(dfd).size;
    } catch (e) {
      throw toUringError(e, "fstat", dst);
    }
    if (now >= have) return;
    try {
      ftruncateSync(dfd, now);
    } catch (e) {
      throw toUringError(e, "ftruncate", dst);
    }
    const cut = Math.min(have - now, moved.n);
    moved.n -= cut;
    this.#inFlightBytes -= cut;
  }

  /** Whether `st`'s data goes to copy_file_range on a worker (#copyRange): large, dense, allowed. */
  #rangeFile(st: UringStats): boolean {
    return this.o.copyFileRange && st.size >= RANGE_MIN && st.blocks * 512 >= st.size;
  }

  /** stat of copyFile's source (symlinks followed): a direct syscall unless on a caller's ring. */
  async statFollow(path: string): Promise<UringStats> {
    if (this.#walkSync) return statNow(path);
    return this.io.stat(path);
  }

  /**
   * A dense file by copy_file_range on a worker thread (lib/copy-range.ts): the bytes copied from
   * the start (< size: the source ended first), or null when the kernel or the pool cannot do it
   * for this pair (another filesystem on an old kernel, no worker): then nothing was copied, or
   * what was is counted and the rest goes the ring's way.
   */
  async #copyRange(sfd: number, dfd: number, size: number, dst: string, moved: { n: number }): Promise<number | null> {
    const r = await copyRange(
      sfd,
      dfd,
      0,
      size,
      (n) => {
        moved.n += n;
        this.#inFlightBytes += n;
        this.#progress();
      },
      () => this.#fatal !== null,
      // Off tmpfs the destination is fallocate'd first, as Bun.write does: on ext4 the 1 GiB copy
      // took 267–282 ms so against 283–292 ms without (cp: 285–299 ms; 6 rounds each, bench
      // protocol). On tmpfs it measured slower (390 against 383 ms: it zeroes every page first).
      // A source that ends early leaves the file longer: #cutToSource cuts it.
      !onTmpfs(dst),
    );
    this.#check();
    if (r.end === "error") {
      // the write side's errors as a write's, like every other path (ENOSPC: no space left on device, write 'dst')
      throw new UringError(r.errno, writeSideErrno(r.errno) ? "write" : "copy_file_range", { path: dst });
    }
    if (r.end === "unsupported") return r.copied > 0 ? r.copied : null;
    return r.copied;
  }

  /**
   * A dense file through pipes as two streams: chains of splices file → pipe (the reads: page
   * references, cheap) ahead of chains of splices pipe → file (the writes: the copy itself,
   * under the destination's inode lock), each chain in one io-wq worker. Returns the bytes
   * copied from the start (< size: a read came back short — the caller copies the rest the
   * buffered way, which follows the file to its real EOF), or null without pipes.
   *
   * Why chains: io_uring always punts a splice to io-wq unhashed (REQ_F_FORCE_ASYNC: the file is
   * not known yet when the work is queued), so independent splices into one file run on several
   * workers at once and fight over its inode lock (perf of the 1 GiB copy, a pipe per block:
   * four workers writing, rwsem_spin_on_owner 17 % of all samples). In one linked chain they run
   * back to back in one worker, like cp's single loop — on a ring without DEFER_TASKRUN only:
   * there the next link is queued by this thread's task work after every step (and a chain
   * waiting in a pipe could stall the Uring's reaping), so #copyData does not stream on such a
   * ring (the copy ring is COOP_TASKRUN; see copyRing()).
   *
   * Round c moves blocks [c·per, (c+1)·per), block j through pipe j of set c mod 2. Round c's
   * reads (all but its first block) go in once the writes of round c − 2 (the same pipes) are
   * over, so a read never waits for room (round 0 reads each block in its write chain, right
   * before writing it, so that writing starts at once). Round c's writes go in once its reads are all in, and
   * end with the read of round c + 1's first block: the next write chain, queued meanwhile,
   * waits in that pipe and starts the moment this one is done — no round trip through JS in
   * between (that gap cost ~0.4 ms a round). So a write only ever waits for the chain before it,
   * never for a worker-less read (no deadlock however few io-wq workers there are); and when
   * that hand-on fails, one byte written into the pipe wakes it (the block is redone below).
   * Anything irregular — a short or failed read or write, an abort — stops new submissions; once
   * everything in flight is over, the blocks are checked in order, short writes finished from
   * their pipes, and the copy stops at the first block not read whole.
   */
  async #spliceFile(sfd: number, dfd: number, size: number, src: string, dst: string, moved: { n: number }): Promise<number | null> {
    const bs = this.o.blockSize;
    if (pipeCapacity(bs) < bs) return null;
    const blocks = Math.ceil(size / bs);
    const piece = writePiece(bs, dst);
    // a write chain (round 0's: a read and the pieces per block, then the hand-on) must fit the SQ
    const fit = Math.floor((this.io.ring.sqEntries - 1) / (Math.ceil(bs / piece) + 1));
    if (fit < 1) return null;
    const want = Math.min(STREAM_ROUND, Math.ceil(blocks / 2), fit);
    const sets: [number, number][][] = [[], []];
    for (let k = 0; k < (blocks > want ? 2 : 1) * want; k++) {
      const p = makePipe(bs);
      if (!p) break;
      sets[k % 2]!.push(p);
    }
    const closeAll = () => {
      for (const set of sets) for (const [r, w] of set) (closeFd(r), closeFd(w));
    };
    // one set is enough when everything fits one round
    const per = blocks <= sets[0]!.length ? sets[0]!.length : Math.min(sets[0]!.length, sets[1]!.length);
    if (per === 0) {
      closeAll();
      return null;
    }
    const rounds = Math.ceil(blocks / per);
    const first = (c: number) => c * per;
    const count = (c: number) => Math.min(per, blocks - c * per);
    const lenOf = (k: number) => Math.min(bs, size - k * bs);
    const pipeOf = (c: number, j: number) => sets[c % 2]![j]!;
    /** Per round: each block's read and write result (−ECANCELED: never done), and what is still out. */
    type Round = { got: number[]; put: number[]; readsLeft: number; writesLeft: number; writing: boolean; written: boolean };
    const R: Round[] = [];
    const round = (c: number): Round => {
      const n = count(c);
      return (R[c] ??= {
        got: new Array<number>(n).fill(-ECANCELED),
        put: new Array<number>(n).fill(-ECANCELED),
        readsLeft: c === 0 ? n : n - 1,
        writesLeft: 0,
        writing: false,
        written: false,
      });
    };
    const io = this.io;
    let stop = false;
    let opsOut = 0;
    let nextRead = 0;
    let nextWrite = 0;
    /** Rounds [0, counted) are written whole and counted in the progress. */
    let counted = 0;
    let settle!: () => void;
    const allOver = new Promise<void>((r) => (settle = r));
    const checkOver = () => {
      if (opsOut === 0 && (stop || nextWrite === rounds)) settle();
    };
    type Step = { prep: (sqe: Sqe) => void; done: (res: number) => void };
    const step = (prep: (sqe: Sqe) => void, done: (res: number) => void): Step => {
      opsOut++;
      return {
        prep,
        done: (res) => {
          opsOut--;
          done(res);
          pump();
          checkOver();
        },
      };
    };
    const enqueue = (steps: Step[]) => {
      try {
        io.enqueueLinked(steps);
      } catch (e) {
        // the ring is closing: nothing of this went in
        opsOut -= steps.length;
        stop = true;
        this.#fail(e);
      }
    };
    const readStep = (c: number, j: number, afterTail?: () => void): Step => {
      const k = first(c) + j;
      const pipe = pipeOf(c, j);
      const r = round(c);
      return step(
        (q) => prepSplice(q, sfd, k * bs, pipe[1], -1, lenOf(k)),
        (n) => {
          r.got[j] = n;
          if (n !== lenOf(k)) stop = true;
          if (afterTail) {
            // the hand-on failed: wake the write chain waiting in this pipe, if it is queued
            if (n <= 0 && r.writing) {
              try {
                writeSync(pipe[1], POISON);
              } catch {
                // cannot happen (the pipe is empty and open at both ends); the write would then wait
              }
            }
            afterTail();
          } else r.readsLeft--;
        },
      );
    };
    /** Round c's reads but its first block's (c ≥ 1: the previous write chain reads that one). */
    const submitReads = (c: number) => {
      const r = round(c);
      const steps: Step[] = [];
      for (let j = 1; j < r.got.length; j++) steps.push(readStep(c, j));
      if (steps.length) enqueue(steps);
    };
    const submitWrites = (c: number) => {
      const r = round(c);
      r.writing = true;
      const steps: Step[] = [];
      for (let j = 0; j < r.got.length; j++) {
        const k = first(c) + j;
        const pipe = pipeOf(c, j);
        const len = lenOf(k);
        // round 0 reads each block right before writing it: the copy starts writing after one
        // read instead of sixteen (~1.5 ms of a cold call)
        if (c === 0) steps.push(readStep(0, j));
        // a block's write in pieces of `piece` bytes, in order from its pipe; put[j] = what they
        // wrote up to the first that fell short (or that one's error, when it was the first)
        let put = 0;
        let short = false;
        r.put[j] = 0;
        for (let at = 0; at < len; at += piece) {
          const n = Math.min(piece, len - at);
          steps.push(
            step(
              (q) => prepSplice(q, pipe[0], -1, dfd, k * bs + at, n),
              (res) => {
                if (!short) {
                  if (res === n) put += n;
                  else {
                    short = true;
                    stop = true;
                    if (res > 0) put += res;
                    else if (put === 0 && res !== -ECANCELED) put = res;
                  }
                  r.put[j] = put;
                }
                if (--r.writesLeft === 0) r.written = true;
              },
            ),
          );
          r.writesLeft++;
        }
      }
      if (c + 1 < rounds && !stop) {
        r.writesLeft++;
        steps.push(readStep(c + 1, 0, () => void (--r.writesLeft === 0 && (r.written = true))));
      }
      enqueue(steps);
    };
    /** Queue whatever may go now. */
    const pump = () => {
      if (this.#fatal) stop = true;
      for (; counted < nextWrite && R[counted]!.written && R[counted]!.put.every((x, j) => x === lenOf(first(counted) + j)); counted++) {
        let n = 0;
        for (const x of R[counted]!.put) n += x;
        moved.n += n;
        this.#inFlightBytes += n;
        this.#progress();
      }
      if (stop) return;
      // a set of pipes is refilled once the write chain that drained it is over
      while (nextRead < rounds && (nextRead < 2 || R[nextRead - 2]!.written)) {
        if (nextRead === 0) round(nextRead++); // round 0 reads in its write chain
        else submitReads(nextRead++);
      }
      // a round's writes, once its own reads are in and the round two back (the same pipes) is written
      while (nextWrite < rounds && !stop) {
        const c = nextWrite;
        if (c >= nextRead || (c > 0 && R[c]!.readsLeft > 0) || (c >= 2 && !R[c - 2]!.written)) break;
        nextWrite++;
        submitWrites(c);
      }
    };
    try {
      pump();
      checkOver();
      await allOver;
      // every block in order: finish short writes from the pipe, stop at the first not read whole
      let copied = 0;
      for (let c = 0; c < rounds; c++) {
        const r = R[c];
        if (!r) return copied;
        for (let j = 0; j < r.got.length; j++) {
          const k = first(c) + j;
          const got = r.got[j]!;
          if (got < 0 && got !== -ECANCELED) throw new UringError(got, "read", { path: src });
          let out = r.put[j]!;
          if (out < 0 && out !== -ECANCELED) throw new UringError(out, "write", { path: dst });
          const have = Math.max(got, 0);
          out = Math.min(Math.max(out, 0), have); // (a woken write may have written the one poison byte: redone by the caller)
          while (out < have) {
            this.#check();
            const from = k * bs + out;
            const left = have - out;
            const pr = pipeOf(c, j)[0];
            const n = await new Promise<number>((resolve) => io.enqueue((q) => prepSplice(q, pr, -1, dfd, from, left), resolve));
            if (n <= 0) throw new UringError(n < 0 ? n : -EIO, "write", { path: dst });
            out += n;
            r.put[j] = out;
          }
          if (c >= counted) {
            moved.n += have;
            this.#inFlightBytes += have;
          }
          copied += have;
          if (got !== lenOf(k)) return copied;
        }
      }
      this.#check();
      return copied;
    } finally {
      // never leave a splice in flight (a throw above comes after allOver, or from this.#check())
      await allOver;
      closeAll();
    }
  }

  /** One block: read it (requeueing short reads), write what was read (requeueing short writes). */
  async #copyBlock(
    sfd: number,
    dfd: number,
    buf: Uint8Array,
    off: number,
    len: number,
    src: string,
    dst: string,
    moved: { n: number },
  ): Promise<number> {
    let got = 0;
    while (got < len) {
      this.#check(); // no new I/O once the copy has failed
      const n = await withPathAsync(this.io.read(sfd, buf.subarray(got, len), off + got), src);
      if (n === 0) break; // the source shrank while we copied
      let put = 0;
      while (put < n) {
        put += await withPathAsync(this.io.write(dfd, buf.subarray(got + put, got + n), off + got + put), dst);
      }
      got += n;
      moved.n += n;
      this.#inFlightBytes += n;
      this.#progress();
    }
    return got;
  }

  /**
   * One block through a pipe: splice(src → pipe) linked to splice(pipe → dst). A short first
   * splice (EOF, the file shrank) cancels the second: what did reach the pipe is then moved on
   * by itself; a short second splice (a full disk) is continued until it fails with the error.
   */
  async #spliceBlock(
    sfd: number,
    dfd: number,
    pipe: [number, number],
    off: number,
    len: number,
    src: string,
    dst: string,
    moved: { n: number },
  ): Promise<number> {
    const [pr, pw] = pipe;
    let got = 0;
    while (got < len) {
      this.#check(); // no new I/O once the copy has failed
      const at = off + got;
      const want = len - got;
      const [rin, rout] = await new Promise<[number, number]>((resolve) => {
        const res: [number, number] = [0, 0];
        this.io.enqueueLinked([
          { prep: (q) => prepSplice(q, sfd, at, pw, -1, want), done: (r) => void (res[0] = r) },
          { prep: (q) => prepSplice(q, pr, -1, dfd, at, want), done: (r) => ((res[1] = r), resolve(res)) },
        ]);
      });
      if (rin < 0) throw new UringError(rin, "read", { path: src });
      if (rin === 0) break; // the source shrank while we copied
      if (rout < 0 && rout !== -ECANCELED) throw new UringError(rout, "write", { path: dst });
      let out = Math.max(rout, 0);
      while (out < rin) {
        this.#check();
        const from = at + out;
        const n = await new Promise<number>((resolve) => this.io.enqueue((q) => prepSplice(q, pr, -1, dfd, from, rin - out), resolve));
        if (n <= 0) throw new UringError(n < 0 ? n : -EIO, "write", { path: dst });
        out += n;
      }
      got += rin;
      moved.n += rin;
      this.#inFlightBytes += rin;
      this.#progress();
    }
    return got;
  }

  // ---------------------------------------------------------------- verify and finish

  async verify(): Promise<void> {
    for (const [src, copied] of this.#copied) {
      // a file copied into a staged directory is named here by the directory's temporary path
      const moved = this.#unstaged.find(([from]) => copied.startsWith(from));
      const dst = moved ? moved[1] + copied.slice(moved[0].length) : copied;
      this.#check();
      const [a, b] = await Promise.all([this.#hash(src), this.#hash(dst)]);
      if (a !== b) {
        this.#record(
          Object.assign(new Error(`verify failed: '${dst}' differs from '${src}' (sha256 ${b.slice(0, 12)}… ≠ ${a.slice(0, 12)}…)`), {
            code: "EVERIFY",
            syscall: "verify",
          }),
          src,
          dst,
        );
      } else this.summary.verified++;
    }
  }

  async #hash(path: string): Promise<string> {
    const h = new Bun.CryptoHasher("sha256");
    const fd = await this.io.openFd(path, O_RDONLY);
    const buf = await this.#takeBuffer();
    try {
      for (let off = 0; ; ) {
        const n = await withPathAsync(this.io.read(fd, buf, off), path);
        if (n === 0) break;
        h.update(buf.subarray(0, n));
        off += n;
      }
    } finally {
      this.#giveBuffer(buf);
      await this.io.closeFd(fd);
    }
    return h.digest("hex");
  }

  /** Run `work`; then clean up, close a private ring, and return the summary or throw the first fatal error. */
  async run(work: () => Promise<void>): Promise<CopySummary> {
    try {
      if (this.#fatal) throw this.#fatal;
      try {
        await work();
      } catch (e) {
        if (!(e instanceof Stop)) this.#record(e, "");
      }
      this.#scanning = false;
      if (!this.#fatal && this.o.verify) {
        try {
          await this.verify();
        } catch (e) {
          if (!(e instanceof Stop)) throw e;
        }
      }
    } catch (e) {
      if (!(e instanceof Stop)) this.#fail(e);
    } finally {
      this.o.signal?.removeEventListener("abort", this.#abortListener);
      if (this.#engine) {
        await this.#engine.idle();
        giveEngine(this.#engine);
        this.#engine = null;
      }
      for (const tmp of [...this.#tmps]) {
        // one left inside a staged directory that was renamed into place since: it is there now
        const moved = this.#unstaged.find(([from]) => tmp.startsWith(from));
        this.#tmps.delete(tmp);
        await this.#removeTmp(moved ? moved[1] + tmp.slice(moved[0].length) : tmp);
      }
      this.summary.seconds = (performance.now() - this.#t0) / 1000;
      this.#scanning = false;
      this.#progress(true);
    }
    if (this.#fatal) throw this.#fatal instanceof Stop ? new Error("copy failed") : this.#fatal;
    return this.summary;
  }
}

// ---------------------------------------------------------------- the ring copies run on

/** Fixed-file slots registered on a copy ring: two per small file in flight, shared by all copies. */
const COPY_SLOTS = 4096;
const slotPools = new WeakMap<Uring, number[]>();
let sharedCopyRing: Uring | null = null;

/**
 * The process's copy ring, made on first use and kept: a copy is often a short job, and a ring
 * per call would cost a setup and a teardown each time. It keeps nothing alive (a Uring with
 * nothing in flight holds no handle).
 */
function copyRing(): Uring {
  if (sharedCopyRing && !sharedCopyRing.closed) return sharedCopyRing;
  // COOP_TASKRUN, not the Uring default DEFER_TASKRUN: io-wq posts completions itself, so a chain
  // of linked splices runs on in its worker instead of coming back to this thread after every step
  // (which #spliceFile's write chains depend on; see there).
  let io: Uring;
  try {
    io = new Uring(trusted({ entries: 256, cqEntries: 1024, coopTaskrun: true, taskrunFlag: true }));
  } catch (e) {
    if ((e as UringError).code !== "EINVAL") throw e;
    io = new Uring(trusted({ entries: 256, cqEntries: 1024, flags: 0 })); // before Linux 5.19: no COOP_TASKRUN
  }
  // Creates and renames in one directory contend on its lock: a few io-wq workers do them
  // faster than dozens (measured: test/bench/copy.bench.ts).
  const n = Math.max(4, 2 * cpus().length);
  io.ring.registerIowqMaxWorkers(n, n);
  sharedCopyRing = io;
  return io;
}

/** The free fixed-file slots of `io`, registering a sparse table on first use (none if it has its own table). */
function slotPool(io: Uring): number[] {
  let pool = slotPools.get(io);
  if (pool) return pool;
  pool = [];
  try {
    io.ring.registerFilesSparse(COPY_SLOTS);
    for (let k = COPY_SLOTS - 1; k >= 0; k--) pool.push(k);
  } catch {
    // the caller's ring has a file table already: every file takes the general path
  }
  slotPools.set(io, pool);
  return pool;
}

// ---------------------------------------------------------------- public API

/**
 * Copy one file. `dst` is the new file's path (an existing file is replaced atomically unless
 * `noClobber`). Symlinks in `src` are followed. Resolves a summary; rejects with a UringError
 * naming the path and errno (`ENOSPC: no space left on device, write 'dst/a.bin'`).
 */
export async function copyFile(src: string, dst: string, options?: CopyOptions): Promise<CopySummary> {
  checkPathArg(src, "src");
  checkPathArg(dst, "dst");
  // validated once, as given (before dereference is forced on); no options, nothing to validate
  // (a first zod parse costs ~3 ms of a cold call)
  const p = options === undefined ? {} : parseOptions(CopyOptionsSchema, options, "options");
  const c = new Copier({ ...p, dereference: true }, true);
  return c.run(async () => {
    const st = await c.statFollow(src).catch((e) => {
      throw withPath(e, src);
    });
    if (st.isDirectory()) throw new UringError(-21, "copyFile", { path: src, advice: "the source is a directory: use copyTree()" });
    await c.entry(src, dst, st);
  });
}

/**
 * Copy a directory tree (or a single file or symlink) from `src` to `dst`. `dst` becomes the copy's
 * root; if it is an existing directory, the trees are merged. Refuses to copy a directory into itself.
 */
export async function copyTree(src: string, dst: string, options?: CopyOptions): Promise<CopySummary> {
  checkPathArg(src, "src");
  checkPathArg(dst, "dst");
  const c = new Copier(options);
  return c.run(async () => {
    // a symlink copied as a link creates only a link: no recursion into itself is possible
    const st = c.o.dereference ? null : await c.lstatOrNull(src);
    if (st?.isSymbolicLink()) return c.entry(src, dst, st);
    // the small-file engine now: its worker threads start (~5 ms) while the first directories are listed
    if (st?.isDirectory()) c.takeEngine();
    const srcReal = realpathOr(src);
    const dstReal = join(realpathOr(dirname(resolve(dst))), basename(resolve(dst)));
    if (dstReal === srcReal || dstReal.startsWith(`${srcReal}/`)) {
      throw new UringError(-EINVAL, "copyTree", { path: src, dest: dst, advice: "cannot copy a directory into itself" });
    }
    await c.entry(src, dst, st ?? undefined);
  });
}

// ---------------------------------------------------------------- helpers

/** Wait for every promise, then throw the first rejection (no work left running behind a failure). */
async function settleAll(ps: Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(ps);
  for (const r of settled) if (r.status === "rejected") throw r.reason;
}

function checkPathArg(p: unknown, name: string): void {
  if (typeof p !== "string" || p.length === 0) throw invalidArgument(name, `Expected a non-empty path string; got ${typeof p}.`, "type");
  if (p.includes("\0")) throw invalidArgument(name, "Paths must not contain NUL bytes.");
}

function realpathOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

let cachedUmask = -1;
function umask(): number {
  if (cachedUmask < 0) cachedUmask = process.umask();
  return cachedUmask;
}

/** struct timespec[2] { atime, mtime } for futimens, from a stat's nanosecond times. */
function timesOf(st: UringStats): number {
  const t = new Uint32Array(8); // struct timespec { s64 tv_sec; long tv_nsec; } × 2, as u32 halves
  setU64(t, 0, st.atimeSec);
  setU64(t, 2, st.atimeNsec);
  setU64(t, 4, st.mtimeSec);
  setU64(t, 6, st.mtimeNsec);
  keepAlive = t;
  return addressOf(t);
}
/** The last timespec pair handed to futimens: referenced until the synchronous call returns. */
let keepAlive: unknown = null;

const F_SETPIPE_SZ = 1031;
/** Blocks per round of #spliceFile (16 MiB at the default 1 MiB blocks; 32 measured the same). */
const STREAM_ROUND = 16;
/** What wakes a write waiting in a pipe whose read will never come (see #spliceFile). */
const POISON = new Uint8Array(1);
let pipeSize = -1;

/** statfs(2) f_type of tmpfs. */
const TMPFS_MAGIC = 0x01021994;
/** The most #spliceFile writes in one splice, except on tmpfs (see writePiece). */
const WRITE_PIECE = 256 * 1024;

/**
 * How many bytes #spliceFile writes per splice into `dst`'s filesystem: the whole block on tmpfs,
 * at most WRITE_PIECE elsewhere. A write allocates page-cache folios as large as itself where the
 * filesystem has large folios (ext4, xfs). On this VM (a balloon with free-page reporting) a
 * 1 GiB copy now and then spends 1–2 s of sys time in the memcpy into fresh page-cache pages —
 * cp too — and in 1 MiB writes (order-8 folios) it did so in 16 of 28 runs, in
 * 256 KiB writes in 7 of 31 (cp writes 64 KiB at a time); the fast runs take the same time
 * either way. On tmpfs (order-0 pages) 1 MiB writes are 13 % faster than 256 KiB blocks.
 */
function writePiece(bs: number, dst: string): number {
  return onTmpfs(dst) ? bs : Math.min(bs, WRITE_PIECE);
}

/** Whether `dst` goes into a tmpfs (false when that cannot be told). */
function onTmpfs(dst: string): boolean {
  try {
    return statfsSync(dirname(dst)).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
}

/** The capacity pipes get for `want`-byte blocks here (F_SETPIPE_SZ; capped by fs.pipe-max-size for non-root), measured once. */
function pipeCapacity(want: number): number {
  if (pipeSize < 0) {
    const p = makePipe(want);
    if (!p) return (pipeSize = 0);
    closeFd(p[0]);
    closeFd(p[1]);
  }
  return pipeSize;
}

/** A pipe sized for `want`-byte blocks, or null (no fds, or it cannot grow that big). */
function makePipe(want: number): [number, number] | null {
  const fds = new Int32Array(2);
  if (pipe2(addressOfOwned(fds)) < 0) return null;
  const size = fcntl(fds[1]!, F_SETPIPE_SZ, want);
  pipeSize = size < 0 ? 0 : size;
  if (size < want) {
    closeFd(fds[0]!);
    closeFd(fds[1]!);
    return null;
  }
  return [fds[0]!, fds[1]!];
}

/** The data extents of a sparse file, through SEEK_DATA/SEEK_HOLE. */
function dataExtents(fd: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  let off = 0;
  while (off < size) {
    const data = lseek(fd, off, SEEK_DATA);
    if (data === -ENXIO || data >= size) break; // only a hole left
    if (data < 0) return [[0, size]]; // the filesystem cannot tell: copy everything
    const hole = lseek(fd, data, SEEK_HOLE);
    const end = hole < 0 ? size : Math.min(hole, size);
    out.push([data, end]);
    off = end;
  }
  return out;
}

function checkSync(r: number, syscall: string, path: string): void {
  if (r < 0) throw new UringError(r, syscall, { path });
}

/** An error about the temporary file, told about the destination the user named. */
function destError(e: unknown, dst: string): unknown {
  return e instanceof UringError ? new UringError(e.errno, e.syscall, { path: dst }) : e;
}

/** mkdir(2) now; a UringError naming the path on failure. */
function mkdirNow(path: string, mode: number): void {
  try {
    mkdirSync(path, { mode });
  } catch (e) {
    throw toUringError(e, "mkdir", path);
  }
}

/** open(2) now; a UringError naming the path on failure. */
function openNow(path: string, flags: number, mode?: number): number {
  try {
    return openSync(path, flags | O_CLOEXEC, mode);
  } catch (e) {
    throw toUringError(e, "open", path);
  }
}

/** renameat2(2) now; a UringError naming both paths on failure. */
function renameNow(from: string, to: string, flags: number): void {
  const a = Buffer.from(`${from}\0`);
  const b = Buffer.from(`${to}\0`);
  const r = renameat2Sync(AT_FDCWD, addressOf(a), AT_FDCWD, addressOf(b), flags);
  if (r < 0) throw new UringError(r, "rename", { path: from, dest: to });
}

/** open(2) now, or -1. */
function openOr(path: string, flags: number): number {
  try {
    return openSync(path, flags | O_CLOEXEC);
  } catch {
    return -1;
  }
}

// in a SharedArrayBuffer, whose storage never moves: a module-level scratch array handed to
// statx(2) crashed Bun now and then while a Worker was starting (seen with the copy workers' read
// and statx scratch, lib/copy-workers.ts)
const statxBuf = new Uint8Array(new SharedArrayBuffer(256));
const statxAddr = addressOf(statxBuf);

/**
 * lstat now (statx(2), the same fields as Uring's lstat()). `existence`: answer whether `path`
 * exists (false for ENOENT) instead of returning its stats.
 */
function lstatNow(path: string, existence: true): boolean;
function lstatNow(path: string, existence: false): UringStats;
function lstatNow(path: string, existence: boolean): UringStats | boolean {
  const bytes = Buffer.from(`${path}\0`);
  const r = statxSync(AT_FDCWD, addressOf(bytes), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, statxAddr);
  if (existence && r === -ERRNO.ENOENT) return false;
  if (r < 0) throw new UringError(r, "lstat", { path });
  return existence ? true : parseStatx(statxBuf);
}

/** stat now (statx(2), symlinks followed; the same fields as Uring's stat()). */
function statNow(path: string): UringStats {
  const bytes = Buffer.from(`${path}\0`);
  const r = statxSync(AT_FDCWD, addressOf(bytes), 0, STATX_BASIC_STATS | STATX_BTIME, statxAddr);
  if (r < 0) throw new UringError(r, "stat", { path });
  return parseStatx(statxBuf);
}

/** `f()`'s value or throw as a settled result, like Promise.allSettled's. */
function settleNow<T>(f: () => T): PromiseSettledResult<T> {
  try {
    return { status: "fulfilled", value: f() };
  } catch (reason) {
    return { status: "rejected", reason };
  }
}

function toUringError(e: unknown, syscall: string, path: string): unknown {
  const errno = (e as { errno?: number }).errno;
  return typeof errno === "number" ? new UringError(errno, syscall, { path }) : e;
}

function asCopyError(e: unknown, path: string, dest?: string): CopyError {
  const x = e as { code?: string; syscall?: string; message?: string; path?: string; dest?: string };
  return {
    // the entry: its source, and where it was going; the message names the path that failed
    path: path || (x.path ?? ""),
    ...(dest ? { dest } : x.dest ? { dest: x.dest } : {}),
    code: x.code ?? "EUNKNOWN",
    syscall: x.syscall ?? "copy",
    message: x.message ?? String(e),
  };
}
