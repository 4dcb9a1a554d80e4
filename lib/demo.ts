/**
 * `bun-uring demo`: the main job on a fresh machine, in one command. It makes a sample tree
 * (small files in nested directories, a few large ones, symlinks, an empty file and an empty
 * directory) in a temporary directory, copies it with `bun-uring cp -r --verify` and the
 * progress bar, checks the copy, and removes everything again.
 */
import { mkdirSync, mkdtempSync, rmSync, statfsSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";

export const DemoArgs = z
  .object({
    /** MiB of data in the sample tree (about half in large files). */
    size: z.coerce.number().int().min(1).max(16384).default(256),
    /** Files in the sample tree. */
    files: z.coerce.number().int().min(1).max(200000).default(2000),
    /** Where to make the temporary directory (default: the OS temp dir). */
    dir: z.string().min(1).refine((s) => !s.includes("\0"), "a path must not contain NUL bytes").optional(),
  })
  .strict();

export type DemoOptions = z.output<typeof DemoArgs>;

/** Fill `bytes` with fast pseudo-random data (xorshift32), so sample files do not compress or dedupe. */
function fill(bytes: Uint8Array, seed: number): void {
  const w = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
  let x = seed | 1;
  for (let i = 0; i < w.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    w[i] = x;
  }
}

/** Make the sample tree under `root`; returns the bytes and files written. */
export function makeSampleTree(root: string, o: DemoOptions): { bytes: number; files: number } {
  const big = Math.min(8, Math.max(1, Math.floor(o.size / 32)));
  const bigSize = Math.floor((o.size * 1024 * 1024) / 2 / big);
  const smallCount = Math.max(0, o.files - big - 1);
  const smallBudget = (o.size * 1024 * 1024) / 2;
  const avg = smallCount ? Math.max(1, Math.floor(smallBudget / smallCount)) : 0;
  let bytes = 0;
  let files = 0;
  const scratch = new Uint8Array(Math.max(bigSize, 4 * avg, 4096) + 4);
  fill(scratch, 0x9e3779b9);
  mkdirSync(join(root, "big"), { recursive: true });
  for (let k = 0; k < big; k++) {
    writeFileSync(join(root, "big", `blob-${k}.bin`), scratch.subarray(k, k + bigSize));
    bytes += bigSize;
    files++;
  }
  for (let k = 0; k < smallCount; k++) {
    const dir = join(root, "small", `d${k % 50}`, `e${k % 7}`);
    if (k < 350) mkdirSync(dir, { recursive: true });
    // sizes spread from a few bytes to 4× the average
    const size = Math.floor(((k * 2654435761) % 1000) / 1000 * 2 * avg) + 1;
    writeFileSync(join(dir, `f${k}.dat`), scratch.subarray(k % 4096, (k % 4096) + size));
    bytes += size;
    files++;
  }
  writeFileSync(join(root, "empty.txt"), "");
  files++;
  mkdirSync(join(root, "empty-dir"));
  symlinkSync("big/blob-0.bin", join(root, "link-to-blob"));
  symlinkSync("small", join(root, "link-to-dir"));
  return { bytes, files };
}

/**
 * Run the demo: make the tree, then `cp` (the CLI's own function, passed in to keep this module
 * free of the CLI) copies it with the progress bar and --verify. Returns the exit code.
 */
export async function demo(o: DemoOptions, cp: (argv: string[]) => Promise<number>): Promise<number> {
  const base = o.dir ?? tmpdir();
  const need = o.size * 1024 * 1024 * 2.2;
  const free = statfsSync(base).bavail * statfsSync(base).bsize;
  if (free < need) {
    console.error(`bun-uring demo: ${base} has ${(free / 2 ** 20).toFixed(0)} MiB free; the demo needs ${(need / 2 ** 20).toFixed(0)} MiB (try --size 32)`);
    return 1;
  }
  const root = mkdtempSync(join(base, "bun-uring-demo-"));
  try {
    const src = join(root, "sample");
    const t0 = performance.now();
    const made = makeSampleTree(src, o);
    console.log(
      `made a sample tree: ${made.files} files, ${(made.bytes / 2 ** 20).toFixed(1)} MiB, symlinks and an empty directory in ${root} (${((performance.now() - t0) / 1000).toFixed(2)} s)`,
    );
    console.log(`$ bun-uring cp -r --verify --progress ${src} ${join(root, "copy")}`);
    const code = await cp(["-r", "--verify", "--progress", src, join(root, "copy")]);
    console.log(code === 0 ? "demo: copy complete and verified (sha256 of every file)" : `demo: cp exited with ${code}`);
    return code;
  } finally {
    rmSync(root, { recursive: true, force: true });
    console.log(`removed ${root}`);
  }
}
