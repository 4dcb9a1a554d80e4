/**
 * 04-cp — `cp` on the raw ring: many blocks in flight, each read and then written at its own offset.
 *
 * Usage: bun examples/04-cp.ts SRC DST [--qd N] [--bs BYTES] [--fsync]
 *        bun examples/04-cp.ts --demo [SIZE_MiB]
 *
 * The second form copies SIZE_MiB (default 256) of random data inside a fresh
 * temp dir, checks the copy with sha256 and removes everything again.
 *
 * What it teaches — liburing's examples/io_uring-cp.c, in TypeScript:
 *   - queue depth: up to N blocks (default 32 × 128 KiB) are in flight at once,
 *     each one a read or a write; one io_uring_enter(2) per loop turn publishes
 *     every SQE queued since the last turn and waits for at least one CQE;
 *   - offsets: every operation carries its own file offset, so CQEs may come
 *     back in any order and each write still lands where its bytes belong —
 *     there is no file position to keep in step;
 *   - short reads and writes: a read or write may move fewer bytes than asked
 *     for. That is not an error: queue the rest again, from `offset + done`,
 *     out of the same buffer. A read that returns 0 before its block is full
 *     means the file shrank under us, and that is an error;
 *   - buffers live until their CQE: prepRead/prepWrite hand the kernel a bare
 *     address. Each block's buffer sits in `slots` (and the array in a
 *     module-level variable) from the first read until the write's CQE, so the
 *     garbage collector can never free memory the kernel is still filling or
 *     draining; after an error we stop queueing and reap what is in flight
 *     before giving up;
 *   - read→write pairing through user_data: user_data = slot << 1 | op. A read's
 *     CQE names its slot, whose buffer now holds the bytes; the write goes out
 *     of that very buffer at the same offset, and its CQE frees the slot for
 *     the next block.
 * The copy never leaves a half-written file under DST's name: it goes to a
 * temporary file in DST's directory, which is renamed over DST when complete
 * (after fsync with --fsync) and removed on any error or Ctrl-C. DST may be a
 * directory (the copy is then DST/basename(SRC)); a symlink at DST is replaced,
 * not written through.
 *
 * Minimum kernel: Linux 5.6 (IORING_OP_READ, IORING_OP_WRITE, IORING_OP_OPENAT).
 */
import { randomFillSync } from "node:crypto";
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readSync, renameSync, rmSync, statfsSync, statSync, unlinkSync, writeSync } from "node:fs";
import { release, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import {
  AT_FDCWD,
  type Cqe,
  errnoMessage,
  errnoName,
  IoUring,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_RDONLY,
  O_WRONLY,
  prepFsync,
  prepOpenat,
  prepRead,
  prepWrite,
  type Sqe,
} from "../lib/index.ts";

const USAGE = "usage: bun examples/04-cp.ts SRC DST [--qd N] [--bs BYTES] [--fsync]\n       bun examples/04-cp.ts --demo [SIZE_MiB]";
const KiB = 1024;
const MiB = 1024 * KiB;
const EINTR = 4;
const EAGAIN = 11;
/** user_data of the one-off operations (openat, fsync): no slot has it, since slot ids are < 4096. */
const ONE_OFF = 0xaaaaaaaa;
/** The two operations a slot alternates between; the low bit of user_data. */
const READ = 0;
const WRITE = 1;

// ---------------------------------------------------------------------------- arguments (parsed once, at the edge)

/** "131072", "128K", "128KiB", "1M": a byte count. */
const byteCount = z
  .string()
  .regex(/^\d+\s*([kKmMgG](i?B)?)?$/, "expected a byte count such as 131072, 128K or 1M")
  .transform((s) => {
    const unit = s.replace(/^\d+\s*/, "").charAt(0).toUpperCase();
    return Number.parseInt(s, 10) * (unit === "K" ? KiB : unit === "M" ? MiB : unit === "G" ? 1024 * MiB : 1);
  });
const wholeNumber = z.string().regex(/^\d+$/, "expected a whole number").transform(Number);

const CopyArgs = z
  .object({
    src: z.string().min(1, "SRC is empty"),
    dst: z.string().min(1, "DST is empty"),
    qd: wholeNumber.pipe(z.number().int().min(1, "--qd must be ≥ 1").max(4096, "--qd must be ≤ 4096")),
    bs: byteCount.pipe(z.number().int().min(1, "--bs must be ≥ 1").max(256 * MiB, "--bs must be ≤ 256 MiB")),
    fsync: z.boolean(),
  })
  .refine((a) => a.qd * a.bs <= 1024 * MiB, "--qd × --bs must stay ≤ 1 GiB of buffers");
type CopyOptions = z.infer<typeof CopyArgs>;

const DemoArgs = z.object({
  sizeMiB: wholeNumber.pipe(z.number().int().max(1024 * 1024, "SIZE_MiB must be ≤ 1048576")),
  qd: CopyArgs.shape.qd,
  bs: CopyArgs.shape.bs,
  fsync: z.boolean(),
});

function usage(message?: string): never {
  if (message) console.error(`04-cp: ${message}`);
  console.error(USAGE);
  process.exit(2);
}

/** A failure we explain ourselves: printed as `04-cp: message`, exit `code`. */
class CpError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

/** `read /a/b at offset 4096: EIO (input/output error)` — the op, the path and the errno name. */
function kernelError(op: string, path: string, res: number, extra = ""): CpError {
  return new CpError(`${op} ${path}${extra}: ${errnoName(res)} (${errnoMessage(res)})`);
}

// ---------------------------------------------------------------------------- signals

/** Set by Ctrl-C / SIGTERM. The copy loop checks it ~10×/s: stop queueing, drain, remove the temp file. */
let stopSignal: "SIGINT" | "SIGTERM" | null = null;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (stopSignal) process.exit(sig === "SIGINT" ? 130 : 143); // a second one: give up at once
    stopSignal = sig;
  });
}
/** The error a stop signal becomes: exit 128 + the signal number, as a shell reports it. */
function interrupted(sig: "SIGINT" | "SIGTERM"): CpError {
  return new CpError(`interrupted by ${sig}`, sig === "SIGINT" ? 130 : 143);
}
function checkStop(): void {
  if (stopSignal) throw interrupted(stopSignal);
}
/** Let the event loop run (signal handlers live there). The copy itself is synchronous ring work. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

// ---------------------------------------------------------------------------- progress

function formatBytes(n: number): string {
  if (n < KiB) return `${n} B`;
  if (n < MiB) return `${(n / KiB).toFixed(1)} KiB`;
  if (n < 1024 * MiB) return `${(n / MiB).toFixed(1)} MiB`;
  return `${(n / (1024 * MiB)).toFixed(2)} GiB`;
}

function formatEta(s: number): string {
  if (!Number.isFinite(s)) return "--";
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
}

/** One updating line on stderr when it is a terminal (`\r`, at most ~10 redraws a second); nothing otherwise. */
class Progress {
  readonly #enabled = process.stderr.isTTY === true;
  readonly #start = performance.now();
  #drawn = false;
  constructor(readonly total: number) {}

  draw(done: number, now: number): void {
    if (!this.#enabled || this.total === 0) return;
    const seconds = (now - this.#start) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const text = ` ${formatBytes(done)} / ${formatBytes(this.total)}  ${(rate / 1e6).toFixed(1)} MB/s  ETA ${formatEta(rate > 0 ? (this.total - done) / rate : Infinity)}`;
    const width = Math.max(10, Math.min(40, (process.stderr.columns || 80) - text.length - 3));
    const filled = Math.round((done / this.total) * width);
    writeSync(2, `\r[${"█".repeat(filled)}${"░".repeat(width - filled)}]${text}\x1b[K`);
    this.#drawn = true;
  }

  /** Erase the bar, so the summary or an error starts on a clean line. */
  clear(): void {
    if (this.#drawn) writeSync(2, "\r\x1b[K");
    this.#drawn = false;
  }
}

// ---------------------------------------------------------------------------- the ring, one op at a time

/** Queue one SQE, submit it, wait for its CQE and return res. For the few ops outside the copy loop. */
function runOne(ring: IoUring, prep: (sqe: Sqe) => void): number {
  const sqe = ring.getSqeOrThrow();
  prep(sqe);
  sqe.userData = ONE_OFF;
  ring.submitAndWait(1);
  const cqe = ring.waitCqe();
  const res = cqe.res; // read the CQE before cqeSeen() gives its slot back
  ring.cqeSeen(cqe);
  return res;
}

// ---------------------------------------------------------------------------- the copy loop

/** One block of the file on its way through: read into `buf`, then written out of it, at `offset`. */
interface Slot {
  /** The block's bytes, allocated once and reused for block after block. The kernel writes into it
   *  (read) and reads from it (write) after submit() returns: it must stay referenced until each CQE. */
  readonly buf: Uint8Array;
  /** File offset of the block's first byte, in SRC and DST alike. */
  offset: number;
  /** Bytes in this block: the block size, or less for the last one. */
  len: number;
  /** Bytes of the current op (read or write) done so far: > 0 only after a short read/write. */
  done: number;
  /** READ or WRITE: which op this slot has in flight. */
  op: number;
}

/** Every slot of the copy in progress. A module-level reference: whatever happens to the copy's stack frame,
 *  the buffers outlive any operation still in flight, until the process exits. */
let liveSlots: readonly Slot[] = [];

interface CopyStats {
  shortReads: number;
  shortWrites: number;
}

/**
 * Copy `size` bytes from `inFd` to `outFd`, `qd` blocks of `bs` bytes in flight.
 * Throws CpError after every operation in flight has completed.
 */
async function copyBlocks(ring: IoUring, inFd: number, outFd: number, size: number, src: string, dst: string, o: CopyOptions): Promise<CopyStats> {
  const nSlots = Math.min(o.qd, Math.ceil(size / o.bs));
  const slots: Slot[] = [];
  for (let i = 0; i < nSlots; i++) slots.push({ buf: new Uint8Array(Math.min(o.bs, size)), offset: 0, len: 0, done: 0, op: READ });
  liveSlots = slots;
  const free: number[] = slots.map((_, i) => nSlots - 1 - i); // a stack of idle slot ids
  const stats: CopyStats = { shortReads: 0, shortWrites: 0 };
  const progress = new Progress(size);
  let nextOffset = 0; // the first byte no read has been queued for yet
  let written = 0; // bytes the kernel has written to DST
  let failure: CpError | null = null; // the first error; once set, nothing new is queued

  /** Queue slot `id`'s current op for what is left of it: all of the block, or the rest after a short one. */
  const queue = (id: number, s: Slot): void => {
    // Never full: the ring has ≥ qd entries and each slot has at most one op in flight.
    const sqe = ring.getSqeOrThrow();
    // A view of the part still to do; it shares s.buf's memory, which `slots` keeps alive.
    const view = s.done === 0 && s.len === s.buf.length ? s.buf : s.buf.subarray(s.done, s.len);
    if (s.op === READ) prepRead(sqe, inFd, view, s.offset + s.done);
    else prepWrite(sqe, outFd, view, s.offset + s.done);
    sqe.userData = (id << 1) | s.op; // which slot, and which of its two ops
  };

  /** One CQE: advance its slot — a read becomes a write, a finished write frees the slot. */
  const onCqe = (cqe: Cqe): void => {
    const ud = cqe.userData;
    const res = cqe.res;
    const id = ud >>> 1;
    const s = slots[id]!;
    if ((ud & 1) !== s.op) throw new Error(`04-cp: CQE for op ${ud & 1} on slot ${id}, which has op ${s.op} in flight`);
    if (failure === null) {
      if (res === -EAGAIN || res === -EINTR) return queue(id, s); // transient: ask again, unchanged
      if (res < 0) {
        failure = kernelError(s.op === READ ? "read" : "write", s.op === READ ? src : dst, res, ` at offset ${s.offset + s.done}`);
      } else if (s.op === READ) {
        if (res === 0) {
          const at = s.offset + s.done;
          failure = new CpError(`read ${src}: end of file at offset ${at}, but it had ${size} bytes when the copy began: it shrank while it was copied (or, as in /sys, its size is not its length)`);
        } else {
          s.done += res;
          if (s.done < s.len) {
            stats.shortReads++; // short read: the rest of the block, from where this one stopped
            return queue(id, s);
          }
          s.op = WRITE; // the block is in s.buf: write exactly those bytes, at the same offset
          s.done = 0;
          return queue(id, s);
        }
      } else if (res === 0) {
        failure = new CpError(`write ${dst}: the kernel wrote 0 bytes at offset ${s.offset + s.done}`);
      } else {
        s.done += res;
        written += res;
        if (s.done < s.len) {
          stats.shortWrites++; // short write: the rest of what was read, from where this one stopped
          return queue(id, s);
        }
      }
    }
    free.push(id); // the block is done (or abandoned after an error): its buffer is ours again
  };

  let nextDraw = performance.now() + 100; // a copy shorter than that draws nothing
  try {
    for (;;) {
      // Start a block in every idle slot: a read at the next offset.
      while (failure === null && free.length > 0 && nextOffset < size) {
        const id = free.pop()!;
        const s = slots[id]!;
        s.op = READ;
        s.offset = nextOffset;
        s.len = Math.min(o.bs, size - nextOffset);
        s.done = 0;
        nextOffset += s.len;
        queue(id, s);
      }
      if (free.length === nSlots) break; // nothing in flight: done, or drained after an error
      ring.submitAndWait(1); // one syscall: publish every SQE queued above and in onCqe, wait for ≥ 1 CQE
      ring.forEachCqe(onCqe); // every ready CQE, then one store of the CQ head
      const now = performance.now();
      if (now >= nextDraw) {
        nextDraw = now + 100;
        progress.draw(written, now);
        await yieldToEventLoop();
        if (stopSignal && failure === null) failure = interrupted(stopSignal); // stop queueing, drain, clean up
      }
    }
  } finally {
    progress.clear(); // an error message must start on a clean line
  }
  liveSlots = []; // drained: nothing in flight any more
  if (failure) throw failure;
  return stats;
}

// ---------------------------------------------------------------------------- one file

interface CopyResult extends CopyStats {
  bytes: number;
  seconds: number;
  dst: string;
}

/** Copy SRC to DST through a temporary file next to DST. Throws CpError; never leaves the temp file behind. */
async function copyFile(ring: IoUring, o: CopyOptions): Promise<CopyResult> {
  const t0 = performance.now();
  const { src } = o;
  const inFd = runOne(ring, (sqe) => prepOpenat(sqe, AT_FDCWD, src, O_RDONLY | O_CLOEXEC));
  if (inFd < 0) throw kernelError("open", src, inFd);
  try {
    const st = fstatSync(inFd);
    if (!st.isFile()) throw new CpError(`${src}: not a regular file (this example copies exactly st_size bytes)`);
    let dst = o.dst;
    if (isDirectory(dst)) dst = join(dst, basename(src)); // cp SRC DIR → DIR/basename(SRC)
    const dir = dirname(dst);
    const tmp = join(dir, `.${basename(dst)}.bun-uring-${process.pid}.tmp`);
    // O_EXCL: never reuse (or follow a symlink planted at) the temp name. Mode: SRC's permission bits, less the umask.
    const outFd = runOne(ring, (sqe) => prepOpenat(sqe, AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.mode & 0o777));
    if (outFd < 0) {
      const hint = !existsSync(dir) ? ` (the directory ${dir} does not exist)` : "";
      throw kernelError("create", dst, outFd, hint);
    }
    let outOpen = true;
    try {
      const stats = await copyBlocks(ring, inFd, outFd, st.size, src, dst, o);
      if (o.fsync) {
        const r = runOne(ring, (sqe) => prepFsync(sqe, outFd));
        if (r < 0) throw kernelError("fsync", dst, r);
      }
      closeSync(outFd);
      outOpen = false;
      checkStop();
      try {
        renameSync(tmp, dst); // atomic: DST is the old file or the whole new one, never half of it
      } catch (err) {
        const code = (err as { code?: string }).code ?? "";
        throw new CpError(`rename ${tmp} → ${dst}: ${code || (err as Error).message}${code === "EISDIR" ? " (DST is a directory)" : ""}`);
      }
      if (o.fsync) fsyncDir(ring, dir); // make the rename itself durable
      return { ...stats, bytes: st.size, seconds: (performance.now() - t0) / 1000, dst };
    } catch (err) {
      if (outOpen) closeSync(outFd);
      try {
        unlinkSync(tmp);
      } catch {
        // already renamed, or never created: nothing to remove
      }
      throw err;
    }
  } finally {
    closeSync(inFd);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function fsyncDir(ring: IoUring, dir: string): void {
  const fd = runOne(ring, (sqe) => prepOpenat(sqe, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd < 0) throw kernelError("open", dir, fd);
  const r = runOne(ring, (sqe) => prepFsync(sqe, fd));
  closeSync(fd);
  if (r < 0) throw kernelError("fsync", dir, r);
}

function summary(r: CopyResult): string {
  const mbps = r.seconds > 0 ? r.bytes / r.seconds / 1e6 : 0;
  let line = `copied ${r.bytes} bytes in ${r.seconds.toFixed(3)} s (${mbps.toFixed(1)} MB/s)`;
  if (r.shortReads || r.shortWrites) line += `\n  requeued ${r.shortReads} short read(s) and ${r.shortWrites} short write(s)`;
  return line;
}

// ---------------------------------------------------------------------------- the demo

const CHUNK = 8 * MiB;

/** `bytes` of random data into `path`, chunk by chunk (no two chunks alike, so a misplaced block shows). */
async function writeRandomFile(path: string, bytes: number): Promise<void> {
  const fd = openSync(path, "wx", 0o644);
  try {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(bytes, 1)));
    for (let off = 0; off < bytes; off += chunk.length) {
      const part = chunk.subarray(0, Math.min(chunk.length, bytes - off));
      randomFillSync(part);
      for (let n = 0; n < part.length; ) n += writeSync(fd, part, n, part.length - n, off + n);
      await yieldToEventLoop();
      checkStop();
    }
  } finally {
    closeSync(fd);
  }
}

async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  const fd = openSync(path, "r");
  try {
    const chunk = Buffer.allocUnsafe(CHUNK);
    for (let n; (n = readSync(fd, chunk, 0, CHUNK, null)) > 0; ) {
      hasher.update(chunk.subarray(0, n));
      await yieldToEventLoop();
      checkStop();
    }
  } finally {
    closeSync(fd);
  }
  return hasher.digest("hex");
}

async function demo(ring: IoUring, a: z.infer<typeof DemoArgs>): Promise<void> {
  const bytes = a.sizeMiB * MiB;
  const base = tmpdir();
  const space = statfsSync(base);
  const need = 2 * bytes + 64 * MiB;
  if (space.bavail * space.bsize < need) {
    throw new CpError(
      `the demo needs ${formatBytes(need)} free in ${base}, which has ${formatBytes(space.bavail * space.bsize)}: ` +
        `try a smaller size (bun examples/04-cp.ts --demo 64) or another place (TMPDIR=/somewhere/else)`,
    );
  }
  const dir = mkdtempSync(join(base, "bun-uring-04-cp-"));
  try {
    const src = join(dir, "source.bin");
    const dst = join(dir, "copy.bin");
    console.log(`04-cp demo on Linux ${release()}: copy ${a.sizeMiB} MiB of random data through io_uring`);
    const t0 = performance.now();
    await writeRandomFile(src, bytes);
    console.log(`  made   ${src} (${formatBytes(bytes)}, ${((performance.now() - t0) / 1000).toFixed(2)} s)`);
    console.log(`  ring   ${ring.sqEntries} SQ entries (${ring.memory.mode} memory); ${a.qd} blocks of ${formatBytes(a.bs)} in flight`);
    const r = await copyFile(ring, { src, dst, qd: a.qd, bs: a.bs, fsync: a.fsync });
    console.log(summary(r));
    const [h1, h2] = [await sha256File(src), await sha256File(r.dst)];
    if (h1 !== h2) throw new CpError(`verify: MISMATCH — sha256 of the source ${h1}, of the copy ${h2}`);
    console.log(`verify: OK — sha256 ${h1} (source and copy)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    console.log(`  removed ${dir}`);
  }
}

// ---------------------------------------------------------------------------- main

function parse(): { mode: "copy"; args: CopyOptions } | { mode: "demo"; args: z.infer<typeof DemoArgs> } {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      options: {
        qd: { type: "string", default: "32" },
        bs: { type: "string", default: String(128 * KiB) },
        fsync: { type: "boolean", default: false },
        demo: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: true,
    });
  } catch (err) {
    usage((err as Error).message);
  }
  const { values: v, positionals: p } = parsed;
  if (v.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const pick = <T>(r: z.ZodSafeParseResult<T>): T => {
    if (r.success) return r.data;
    const issue = r.error.issues[0]!;
    const name = { qd: "--qd", bs: "--bs", sizeMiB: "SIZE_MiB", src: "SRC", dst: "DST" }[String(issue.path[0])];
    return usage(name && !issue.message.includes(name) ? `${name}: ${issue.message}` : issue.message);
  };
  if (v.demo) {
    if (p.length > 1) usage("--demo takes at most one argument, SIZE_MiB");
    return { mode: "demo", args: pick(DemoArgs.safeParse({ sizeMiB: p[0] ?? "256", qd: v.qd, bs: v.bs, fsync: v.fsync })) };
  }
  if (p.length !== 2) usage(p.length < 2 ? "missing SRC or DST" : "too many arguments: one SRC, one DST");
  return { mode: "copy", args: pick(CopyArgs.safeParse({ src: p[0], dst: p[1], qd: v.qd, bs: v.bs, fsync: v.fsync })) };
}

function setup(qd: number): IoUring {
  try {
    return new IoUring(qd);
  } catch (err) {
    console.error(`04-cp: ${(err as Error).message}`);
    process.exit(1);
  }
}

const cmd = parse();
using ring = setup(cmd.args.qd);
try {
  if (cmd.mode === "demo") await demo(ring, cmd.args);
  else console.log(summary(await copyFile(ring, cmd.args)));
} catch (err) {
  if (!(err instanceof CpError)) ring.close(); // an unexpected throw may leave ops in flight: cancel them; liveSlots keeps their buffers
  // Ours and node:fs's errors (`code` set: "EACCES: permission denied, mkdtemp '…'") say it all; anything else gets its stack.
  const e = err as Error & { code?: unknown };
  console.error(`04-cp: ${err instanceof CpError || typeof e?.code === "string" ? e.message : String(e?.stack ?? err)}`);
  process.exitCode = err instanceof CpError ? err.code : 1;
}
