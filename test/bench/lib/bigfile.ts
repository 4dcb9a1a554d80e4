/**
 * The data file of the read bench: 1 GiB of random bytes at a fixed path
 * outside the repository (`$TMPDIR/bun-uring-bench/random-1GiB.bin`), written
 * once and reused by later runs (a run that is interrupted while writing leaves
 * only a `.partial` file, never a short one under the real name), and the
 * page-cache warming every read cell relies on.
 *
 * `BUN_URING_BENCH_CLEAN=1 bun run bench read` removes the file after the run.
 */
import { spawnSync } from "bun";
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { randomFillSync } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const BIG_FILE_DIR = join(tmpdir(), "bun-uring-bench");
export const BIG_FILE_SIZE = 1 << 30;
export const BIG_FILE = join(BIG_FILE_DIR, "random-1GiB.bin");

/** Make sure the file exists with the right size; returns whether it had to be written now. */
export function ensureBigFile(path = BIG_FILE, size = BIG_FILE_SIZE): { path: string; created: boolean } {
  if (existsSync(path) && statSync(path).size === size) return { path, created: false };
  mkdirSync(BIG_FILE_DIR, { recursive: true });
  const partial = `${path}.partial`;
  const chunk = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(partial, "w", 0o644);
  try {
    for (let done = 0; done < size; done += chunk.length) {
      randomFillSync(chunk); // ~1 ms per MiB: every page of the file differs
      writeSync(fd, chunk, 0, Math.min(chunk.length, size - done));
    }
  } finally {
    closeSync(fd);
  }
  renameSync(partial, path);
  return { path, created: true };
}

/** `cat file > /dev/null`, then how much of the file is resident (from `fincore`, if util-linux has it). */
export function warmPageCache(path = BIG_FILE): { residentFraction: number | null } {
  const cat = spawnSync(["cat", path], { stdout: "ignore", stderr: "pipe" });
  if (cat.exitCode !== 0) throw new Error(`cat ${path} failed: ${cat.stderr.toString().trim()}`);
  return { residentFraction: residentFraction(path) };
}

/** The fraction of `path`'s pages in the page cache, or null without `fincore`. */
export function residentFraction(path: string): number | null {
  const fincore = Bun.which("fincore");
  if (!fincore) return null;
  const p = spawnSync([fincore, "--bytes", "--noheadings", "--raw", "--output", "RES,SIZE", path], { stderr: "pipe" });
  const [res, size] = p.stdout.toString().trim().split(/\s+/).map(Number);
  return p.exitCode === 0 && res !== undefined && size ? res / size : null;
}

/** Remove the file (and its directory when empty) if BUN_URING_BENCH_CLEAN is set. */
export function maybeRemoveBigFile(path = BIG_FILE): boolean {
  if (!process.env.BUN_URING_BENCH_CLEAN) return false;
  rmSync(path, { force: true });
  rmSync(`${path}.partial`, { force: true });
  try {
    rmSync(BIG_FILE_DIR, { recursive: false });
  } catch {
    // not empty: something else lives there
  }
  return true;
}
