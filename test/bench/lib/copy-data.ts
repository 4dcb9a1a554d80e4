/**
 * The data of the copy bench, and what it needs around each measurement:
 *
 * - the three sources: a 1 GiB file of random bytes, a tree of 10,000 × 4 KiB
 *   files (100 directories of 100), and a mixed tree (2,000 files of 0 B …
 *   8 MiB, log-normally distributed, median 5.8 KiB, 299 MiB in all, nested
 *   directories, symlinks to files and to directories), generated from a fixed
 *   seed so every run copies the same shapes;
 * - a scratch workspace outside the repository (under `os.tmpdir()`), and a
 *   tmpfs mounted inside it when this process may mount (root), both removed
 *   by `close()`;
 * - keeping the page cache warm without dropping it: `warm()` re-reads a
 *   source, `sync()` flushes earlier dirty data so it is not written back
 *   during the next measurement;
 * - a manifest of a source (type, size and sha256 of every file, symlink
 *   targets) and `compare()`, which checks a copy against it, so a copy that
 *   is fast but wrong cannot pass;
 * - the machine's noise over a stretch of the run: CPU (and memory) pressure from PSI, and steal.
 */
import { prng } from "../../prng.ts";
import { spawnSync } from "bun";
import { randomFillSync } from "node:crypto";
import {
  closeSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  renameSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";

export const MiB = 1 << 20;
export const GiB = 1 << 30;

// ---------------------------------------------------------------- workspace

/** A directory the bench may fill: on the disk-backed tmpdir, or on a tmpfs. */
export interface Place {
  /** "disk" or "tmpfs": the key of the table column / table. */
  id: "disk" | "tmpfs";
  /** What it is, for the table header: "ext4 on /dev/vda (tmpdir)" or "tmpfs". */
  label: string;
  root: string;
  /** Where finished copies are retired to (see `discard()`); null: they are removed. */
  trash: string | null;
}

/** `findmnt`'s view of the filesystem under `path`: "ext4 on /dev/vda", or null. */
export function filesystemOf(path: string): string | null {
  const p = spawnSync(["findmnt", "-n", "-o", "FSTYPE,SOURCE", "--target", path], { stderr: "ignore" });
  const [type, source] = p.stdout.toString().trim().split(/\s+/);
  return p.exitCode === 0 && type ? `${type}${source && source !== type ? ` on ${source}` : ""}` : null;
}

/**
 * The bench's scratch space: `$TMPDIR/bun-uring-copy-bench-XXXXXX/` on disk, and `…/tmpfs/` with a
 * tmpfs mounted on it if `mount -t tmpfs` works here. `close()` unmounts and removes everything;
 * it also runs on SIGINT/SIGTERM, so an interrupted bench leaves no mount and no data behind.
 */
export class Workspace {
  readonly base: string;
  readonly places: Place[] = [];
  /** Why there is no tmpfs place, when there is none. */
  readonly tmpfsNote: string | null = null;
  #mounted: string | null = null;
  #closed = false;
  readonly #onSignal = (sig: NodeJS.Signals) => {
    this.close();
    process.exit(sig === "SIGINT" ? 130 : 143);
  };

  constructor(o: { tmpfs: boolean; tmpfsSize: string }) {
    this.base = mkdtempSync(join(tmpdir(), "bun-uring-copy-bench-"));
    process.once("SIGINT", this.#onSignal);
    process.once("SIGTERM", this.#onSignal);
    const disk = join(this.base, "disk");
    mkdirSync(disk);
    // ext4's TOPDIR flag: each directory made in `disk` (a source, a copy) goes to a fresh block group
    // (Orlov's top-level spreading), away from inodes freed recently by anyone on this filesystem;
    // see retire(). Harmless elsewhere: chattr fails and nothing changes.
    const topdir = spawnSync(["chattr", "+T", disk], { stderr: "ignore" }).exitCode === 0;
    const trash = join(disk, "trash");
    mkdirSync(trash);
    const fs = filesystemOf(disk) ?? "unknown fs";
    this.places.push({ id: "disk", label: `${fs} (${tmpdir()}${topdir ? ", chattr +T" : ""})`, root: disk, trash });
    if (!o.tmpfs) {
      this.tmpfsNote = "tmpfs column turned off";
      return;
    }
    const mnt = join(this.base, "tmpfs");
    mkdirSync(mnt);
    const p = spawnSync(["mount", "-t", "tmpfs", "-o", `size=${o.tmpfsSize},mode=0755`, "bun-uring-bench", mnt], { stderr: "pipe" });
    if (p.exitCode === 0) {
      this.#mounted = mnt;
      this.places.push({ id: "tmpfs", label: `tmpfs (size=${o.tmpfsSize})`, root: mnt, trash: null });
    } else {
      this.tmpfsNote = `mount -t tmpfs failed (${p.stderr.toString().trim() || `exit ${p.exitCode}`}): disk only`;
    }
  }

  /** Unmount the tmpfs and remove the whole workspace (retired copies included). Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    process.off("SIGINT", this.#onSignal);
    process.off("SIGTERM", this.#onSignal);
    if (this.#mounted) {
      const p = spawnSync(["umount", this.#mounted], { stderr: "pipe" });
      if (p.exitCode !== 0) {
        // busy (a child still inside?): detach it so the memory is freed when the last user goes
        spawnSync(["umount", "-l", this.#mounted], { stderr: "ignore" });
      }
      this.#mounted = null;
    }
    // GNU rm walks a big tree faster than rmSync; either way the workspace goes
    if (spawnSync(["rm", "-rf", "--one-file-system", this.base], { stderr: "ignore" }).exitCode !== 0) {
      rmSync(this.base, { recursive: true, force: true });
    }
    // Written back, the freed inodes are skipped by ext4 for 60 s instead of 360 s (see retire()):
    // whatever runs next on this filesystem, another bench included, pays for them less long.
    spawnSync(["sync"]);
  }
}

// ---------------------------------------------------------------- generating the sources

export { prng };

/** What a generated source holds. */
export interface SourceInfo {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
}

function writeRandom(path: string, size: number, chunk: Buffer): void {
  const fd = openSync(path, "w", 0o644);
  try {
    for (let done = 0; done < size; ) {
      const n = Math.min(chunk.length, size - done);
      randomFillSync(chunk, 0, n);
      writeSync(fd, chunk, 0, n);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** `size` random bytes at `path` (written in 4 MiB chunks; every page differs). */
export function makeBigFile(path: string, size = GiB): SourceInfo {
  writeRandom(path, size, Buffer.allocUnsafe(4 * MiB));
  return { files: 1, dirs: 0, symlinks: 0, bytes: size };
}

/** `dirs` directories of `perDir` files of `size` random bytes each, under `root`. */
export function makeSmallTree(root: string, dirs = 100, perDir = 100, size = 4096): SourceInfo {
  mkdirSync(root);
  const chunk = Buffer.allocUnsafe(size);
  for (let d = 0; d < dirs; d++) {
    const dir = join(root, `d${String(d).padStart(3, "0")}`);
    mkdirSync(dir);
    for (let f = 0; f < perDir; f++) writeRandom(join(dir, `f${String(f).padStart(4, "0")}.bin`), size, chunk);
  }
  return { files: dirs * perDir, dirs: dirs + 1, symlinks: 0, bytes: dirs * perDir * size };
}

export interface MixedTreeShape {
  files: number;
  dirs: number;
  /** Symlinks to files (relative targets), and a few to directories. */
  fileLinks: number;
  dirLinks: number;
  /** log2(size) ~ Normal(mu, sigma), truncated to 0 … log2(maxSize); `emptyFraction` of the files are 0 B. */
  mu: number;
  sigma: number;
  maxSize: number;
  emptyFraction: number;
  seed: number;
}

/** 299 MiB: median file 5.8 KiB, 38 empty, 63 of ≥ 1 MiB, 10 of 8 MiB — a source tree with some assets. */
export const MIXED_SHAPE: MixedTreeShape = {
  files: 2000,
  dirs: 60,
  fileLinks: 48,
  dirLinks: 2,
  mu: 12.7,
  sigma: 4,
  maxSize: 8 * MiB,
  emptyFraction: 0.02,
  seed: 0xc0ffee,
};

/** The file sizes of a mixed tree, in creation order (deterministic for a shape). */
export function mixedSizes(shape: MixedTreeShape = MIXED_SHAPE): number[] {
  const rand = prng(shape.seed);
  const maxLog = Math.log2(shape.maxSize);
  const sizes: number[] = [];
  for (let k = 0; k < shape.files; k++) {
    if (rand() < shape.emptyFraction) {
      sizes.push(0);
      continue;
    }
    // Box–Muller: one normal sample from two uniforms
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    const lg = Math.min(maxLog, Math.max(0, shape.mu + shape.sigma * z));
    sizes.push(Math.round(2 ** lg));
  }
  return sizes;
}

/** The mixed tree under `root`: nested directories, files of `mixedSizes()`, symlinks. */
export function makeMixedTree(root: string, shape: MixedTreeShape = MIXED_SHAPE): SourceInfo {
  const rand = prng(shape.seed ^ 0x5bd1e995);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  mkdirSync(root);
  const dirs = [root];
  for (let d = 0; d < shape.dirs; d++) {
    // a random existing parent: the tree grows both wide and deep (depth ~4–6)
    const dir = join(pick(dirs), `dir${String(d).padStart(2, "0")}`);
    mkdirSync(dir);
    dirs.push(dir);
  }
  const chunk = Buffer.allocUnsafe(4 * MiB);
  const files: string[] = [];
  let bytes = 0;
  mixedSizes(shape).forEach((size, k) => {
    const file = join(pick(dirs), `file${String(k).padStart(4, "0")}.dat`);
    writeRandom(file, size, chunk);
    files.push(file);
    bytes += size;
  });
  for (let k = 0; k < shape.fileLinks; k++) {
    const from = pick(dirs);
    symlinkSync(relative(from, pick(files)), join(from, `link${String(k).padStart(2, "0")}`));
  }
  for (let k = 0; k < shape.dirLinks; k++) {
    // never to the link's own directory or an ancestor: no cycles, even for a tool that follows links
    const from = pick(dirs);
    const targets = dirs.filter((d) => d !== from && !`${from}/`.startsWith(`${d}/`));
    symlinkSync(relative(from, pick(targets)), join(from, `dirlink${k}`));
  }
  return { files: shape.files, dirs: dirs.length, symlinks: shape.fileLinks + shape.dirLinks, bytes };
}

// ---------------------------------------------------------------- page cache and writeback

/** `sync(1)`: flush every filesystem's dirty data, so none of it is written back during the next measurement. */
export function sync(): void {
  const p = spawnSync(["sync"], { stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`sync failed: ${p.stderr.toString().trim()}`);
}

const readBuf = Buffer.allocUnsafe(4 * MiB);

function readWhole(path: string): number {
  const fd = openSync(path, "r");
  let total = 0;
  try {
    for (let n; (n = readSync(fd, readBuf, 0, readBuf.length, null)) > 0; ) total += n;
  } finally {
    closeSync(fd);
  }
  return total;
}

/**
 * Read `path` (a file, or every file of a tree, following no symlinks) once, so its pages, inodes and
 * dentries are in the cache: the page cache stays warm without `drop_caches`. Returns the bytes read.
 */
export function warm(path: string): number {
  const st = lstatSync(path);
  if (st.isFile()) return readWhole(path);
  if (!st.isDirectory()) return 0;
  let total = 0;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    if (e.isDirectory()) total += warm(p);
    else if (e.isFile()) total += readWhole(p);
    else if (e.isSymbolicLink()) lstatSync(p);
  }
  return total;
}

/** Remove a copy (file or tree). */
export function remove(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

let retired = 0;

/**
 * Get a finished copy out of the way without freeing its inodes: rename it into `trash` and truncate
 * every file in it to 0 (its data blocks and dirty pages go; the inodes stay until the workspace is
 * removed at the end).
 *
 * Why not unlink it: on ext4 without a journal (this VM's /tmp), the inode allocator skips every inode
 * freed in the last 60 s (360 s while its inode-table block is dirty) — `recently_deleted()` in
 * fs/ext4/ialloc.c, one buffer-cache lookup per skipped inode — and Orlov steers new directories
 * back into the group with the most free inodes, i.e. the one just freed. After `rm -rf` of a
 * 10,000-file copy, each of the next 10,000 creates walks past those inodes: `cp -r` of the 10k tree
 * went from 0.12 s to 1.5–2.9 s of system time, growing round after round (perf:
 * find_get_block_common 37%, recently_deleted 16%, __brelse 12%). The same happens next to any
 * directory where someone else deleted many files lately, hence the TOPDIR flag on the workspace.
 * Unlinking would be the harness measuring itself; retiring keeps every sample as cold as the first.
 */
export function retire(path: string, trash: string): void {
  try {
    lstatSync(path);
  } catch {
    return;
  }
  const to = join(trash, `${process.pid}-${++retired}`);
  renameSync(path, to);
  truncateAll(to);
}

function truncateAll(path: string): void {
  const st = lstatSync(path);
  if (st.isFile()) {
    if (st.size > 0) truncateSync(path, 0);
  } else if (st.isDirectory()) {
    for (const name of readdirSync(path)) truncateAll(join(path, name));
  }
}

/** Retire a copy on `trash`, or remove it when there is none (tmpfs: nothing to skip, memory to free). */
export function discard(path: string, trash: string | null): void {
  if (trash) retire(path, trash);
  else remove(path);
}

// ---------------------------------------------------------------- verification

/** One entry of a manifest: "d", "l" with its target, "f" with size and sha256, or "o" (anything else). */
export type Entry = { t: "d" } | { t: "o" } | { t: "l"; target: string } | { t: "f"; size: number; sha: string };
/** Relative path ("" for the root) → entry. */
export type Manifest = Map<string, Entry>;

function sha256File(path: string): string {
  const h = new Bun.CryptoHasher("sha256");
  const fd = openSync(path, "r");
  try {
    for (let n; (n = readSync(fd, readBuf, 0, readBuf.length, null)) > 0; ) h.update(readBuf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

/**
 * What `root` holds, by lstat (symlinks are not followed). `hash: "full"` hashes every file;
 * `"sample"` hashes 32 spread 64 KiB slices of each file bigger than 2 MiB (a cheap check for
 * the reference rows of the 1 GiB file) and the rest whole.
 */
export function manifestOf(root: string, hash: "full" | "sample" = "full"): Manifest {
  const out: Manifest = new Map();
  const visit = (abs: string, rel: string) => {
    const st = lstatSync(abs);
    if (st.isDirectory()) {
      out.set(rel, { t: "d" });
      for (const name of readdirSync(abs).sort()) visit(join(abs, name), rel ? `${rel}/${name}` : name);
    } else if (st.isSymbolicLink()) {
      out.set(rel, { t: "l", target: readlinkSync(abs) });
    } else if (st.isFile()) {
      out.set(rel, { t: "f", size: st.size, sha: hash === "sample" && st.size > 2 * MiB ? sampleSha(abs, st.size) : sha256File(abs) });
    } else {
      out.set(rel, { t: "o" });
    }
  };
  visit(root, "");
  return out;
}

function sampleSha(path: string, size: number): string {
  const h = new Bun.CryptoHasher("sha256");
  const slice = 64 * 1024;
  const fd = openSync(path, "r");
  try {
    for (let k = 0; k < 32; k++) {
      const off = Math.floor(((size - slice) * k) / 31);
      const n = readSync(fd, readBuf, 0, slice, off);
      h.update(readBuf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return `sample:${h.digest("hex")}`;
}

/** A source's manifest in both hashings, made once per source. */
export interface SourceManifest {
  full: Manifest;
  sample: Manifest;
}

export function sourceManifest(root: string, withSample: boolean): SourceManifest {
  const full = manifestOf(root, "full");
  return { full, sample: withSample ? manifestOf(root, "sample") : full };
}

/**
 * Differences between a copy at `dst` and the source's manifest (at most `max`, as text); empty
 * when the copy is exact. A symlink may also hold its target resolved against the source's
 * directory (what `fs.cp` writes without `verbatimSymlinks`). Leftover entries (a temporary file
 * a copier forgot) count as differences.
 */
export function compare(src: string, want: Manifest, dst: string, hash: "full" | "sample", max = 5): string[] {
  let got: Manifest;
  try {
    got = manifestOf(dst, hash);
  } catch (e) {
    return [`cannot read the copy: ${(e as Error).message}`];
  }
  const diffs: string[] = [];
  const name = (rel: string) => (rel === "" ? "(root)" : rel);
  for (const [rel, w] of want) {
    const g = got.get(rel);
    if (!g) diffs.push(`${name(rel)}: missing`);
    else if (g.t !== w.t) diffs.push(`${name(rel)}: is ${g.t}, want ${w.t}`);
    else if (w.t === "l" && g.t === "l" && g.target !== w.target && g.target !== resolve(dirname(join(src, rel)), w.target)) {
      diffs.push(`${name(rel)}: symlink to ${g.target}, want ${w.target}`);
    } else if (w.t === "f" && g.t === "f" && (g.size !== w.size || g.sha !== w.sha)) {
      diffs.push(`${name(rel)}: ${g.size !== w.size ? `size ${g.size}, want ${w.size}` : "contents differ (sha256)"}`);
    }
    if (diffs.length >= max) return diffs;
  }
  for (const rel of got.keys()) {
    if (!want.has(rel)) diffs.push(`${name(rel)}: not in the source`);
    if (diffs.length >= max) break;
  }
  return diffs;
}

// ---------------------------------------------------------------- noise

/** Counters to subtract: PSI cpu and memory "some" stall time, and steal ticks over all ticks (/proc/stat). */
export interface NoiseMark {
  at: number;
  psiSomeUs: number | null;
  psiMemoryUs: number | null;
  steal: number;
  ticks: number;
}

function psiSomeTotal(resource: "cpu" | "memory"): number | null {
  try {
    const m = readFileSync(`/proc/pressure/${resource}`, "utf8").match(/^some .*total=(\d+)/m);
    return m ? Number(m[1]) : null;
  } catch {
    return null; // no PSI in this kernel
  }
}

export function noiseMark(): NoiseMark {
  const psiSomeUs = psiSomeTotal("cpu");
  const psiMemoryUs = psiSomeTotal("memory");
  let steal = 0;
  let ticks = 0;
  try {
    const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    steal = cpu[7] ?? 0;
    ticks = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  } catch {
    // not Linux
  }
  return { at: performance.now(), psiSomeUs, psiMemoryUs, steal, ticks };
}

/** "cpu pressure 12%, steal 0.4%" between two marks: how much of the time other work held the CPUs. */
export function describeNoise(a: NoiseMark, b: NoiseMark): string {
  const parts: string[] = [];
  const ms = b.at - a.at;
  if (a.psiSomeUs !== null && b.psiSomeUs !== null && ms > 0) {
    parts.push(`cpu pressure ${(((b.psiSomeUs - a.psiSomeUs) / 1000 / ms) * 100).toFixed(0)}% (PSI some)`);
  }
  if (a.psiMemoryUs !== null && b.psiMemoryUs !== null && ms > 0 && b.psiMemoryUs > a.psiMemoryUs) {
    // reclaim or compaction stalls: the page cache the bench keeps warm is under attack
    parts.push(`memory pressure ${(((b.psiMemoryUs - a.psiMemoryUs) / 1000 / ms) * 100).toFixed(1)}%`);
  }
  if (b.ticks > a.ticks) parts.push(`steal ${(((b.steal - a.steal) / (b.ticks - a.ticks)) * 100).toFixed(1)}%`);
  return parts.join(", ") || "no noise counters";
}
