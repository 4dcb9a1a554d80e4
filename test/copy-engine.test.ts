/**
 * copyTree's small-file engine (lib/copy-engine.ts) against the real kernel: regular files up to
 * 64 KiB go through it by default; a caller's `uring` (and preserve ownership/timestamps) sends
 * every file down the general path instead, so the two can be compared on one tree. What the
 * engine must keep: byte-identical copies (empty files too), files it cannot take handed back
 * (bigger, sparse), a failing file's temporary removed, nothing partial under a final name on
 * error or abort, and the event loop kept running. And copyFile's block path for a dense file
 * (splice chains through pipes), with small blocks.
 */
import { afterAll, describe, expect, test as kernelFreeTest } from "bun:test";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { closeCopyWorkers, unsafeCopyWorkerHooks } from "../lib/copy-workers.ts";
import { CHUNK_FILES, WORKER_MAX_FILE } from "../lib/copy-worker-shared.ts";
import { copyFile, copyTree, Uring, type CopySummary } from "../lib/index.ts";
import { caught, describeKernel, kernelTest as test, prng, tempDir, unavailable, withTmpfs } from "./helpers.ts";

/** `.NAME.bun-uring-PID-N.tmp`, the name every file is written under before its rename. */
const TMP_NAME = /^\..+\.bun-uring-\d+-\d+\.tmp$/;

const savedUmask = process.umask(0o022);
afterAll(() => process.umask(savedUmask));

const work = tempDir("bun-uring-copy-engine-");
afterAll(() => work.cleanup());
let seq = 0;
const fresh = (name: string) => join(work.path, `${name}-${++seq}`);

/** Relative path → "dir" | "file SIZE MODE HASH" for every entry under root. */
function manifest(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = lstatSync(p);
      const rel = relative(root, p);
      if (st.isDirectory()) {
        out[rel] = "dir";
        walk(p);
      } else out[rel] = `file ${st.size} ${(st.mode & 0o7777).toString(8)} ${Bun.hash(readFileSync(p)).toString(16)}`;
    }
  };
  walk(root);
  return out;
}

function leftovers(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (TMP_NAME.test(name)) out.push(p);
      if (lstatSync(p).isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

/** Every file under dst that exists is complete: the same bytes as its source. */
function expectNothingPartial(src: string, dst: string): number {
  let n = 0;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (lstatSync(p).isDirectory()) walk(p);
      else {
        expect(readFileSync(p).equals(readFileSync(join(src, relative(dst, p))))).toBe(true);
        n++;
      }
    }
  };
  if (existsSync(dst)) walk(dst);
  return n;
}

/**
 * `dirs` directories of `perDir` files: sizes from a seeded PRNG over 0 … 70,000 bytes (so some
 * are over 64 KiB and go the general way), plus 0-, 1-, 65,536- and 65,537-byte files, in modes
 * 0o600/0o644/0o755. Returns the total bytes.
 */
function makeTree(root: string, dirs: number, perDir: number, seed = 7): { files: number; bytes: number } {
  const rand = prng(seed);
  let files = 0;
  let bytes = 0;
  const modes = [0o600, 0o644, 0o755];
  for (let d = 0; d < dirs; d++) {
    const dir = join(root, `d${d}`);
    mkdirSync(dir, { recursive: true });
    const fixed = [0, 1, 65536, 65537];
    for (let k = 0; k < perDir; k++) {
      const size = k < fixed.length ? fixed[k]! : Math.floor(rand() * 70_000);
      const data = new Uint8Array(size);
      for (let i = 0; i < size; i += 997) data[i] = (rand() * 256) | 0;
      const p = join(dir, `f${k}`);
      writeFileSync(p, data);
      chmodSync(p, modes[k % modes.length]!);
      files++;
      bytes += size;
    }
  }
  return { files, bytes };
}


const canMount = (() => {
  if (unavailable || process.getuid?.() !== 0) return false;
  const d = tempDir("bun-uring-copy-engine-probe-");
  try {
    const ok = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", d.path]).exitCode === 0;
    if (ok) Bun.spawnSync(["umount", d.path]);
    return ok;
  } finally {
    d.cleanup();
  }
})();
const mountTest = canMount ? test : test.skip;

describeKernel("copyTree's small-file engine", () => {
  test("many files (empty, 1 B, 64 KiB, 64 KiB + 1, random) in several directories: same bytes and modes, exact counts, no temp files", async () => {
    const src = fresh("many");
    const { files, bytes } = makeTree(src, 6, 150);
    const dst = fresh("many-copy");
    const s = await copyTree(src, dst);
    const want = manifest(src);
    // without preserve: mode = source mode & ~umask (022 here: the modes used are unchanged)
    expect(manifest(dst)).toEqual(want);
    expect(s.files).toBe(files);
    expect(s.dirs).toBe(7);
    expect(s.bytes).toBe(bytes);
    expect(s.errors).toEqual([]);
    expect(leftovers(dst)).toEqual([]);
  });

  test("the engine and the general path (a caller's ring) make identical copies with identical summaries", async () => {
    const src = fresh("both");
    makeTree(src, 3, 60, 11);
    const viaEngine = await copyTree(src, fresh("both-engine"));
    await using io = new Uring({ entries: 256, cqEntries: 1024 });
    const dstGeneral = fresh("both-general");
    const viaGeneral = await copyTree(src, dstGeneral, { uring: io });
    expect(manifest(dstGeneral)).toEqual(manifest(src));
    const pick = (x: CopySummary) => [x.files, x.dirs, x.bytes, x.errors.length, x.skipped.length];
    expect(pick(viaEngine)).toEqual(pick(viaGeneral));
  });

  test("a small file with a hole and an exactly 64 KiB file: same bytes (files ≤ 64 KiB are copied whole, as the general path's chain does)", async () => {
    const src = fresh("sparse");
    mkdirSync(src);
    const p = join(src, "holey");
    writeFileSync(p, "x");
    truncateSync(p, 60_000); // one data page, then a hole
    writeFileSync(join(src, "dense"), new Uint8Array(65536).fill(7));
    const dst = fresh("sparse-copy");
    const s = await copyTree(src, dst);
    expect(s.files).toBe(2);
    expect(s.bytes).toBe(60_000 + 65536);
    expect(readFileSync(join(dst, "holey")).equals(readFileSync(p))).toBe(true);
    expect(readFileSync(join(dst, "dense")).equals(readFileSync(join(src, "dense")))).toBe(true);
  });

  test("a file failing mid-tree at its rename (a directory in the way): EISDIR naming the destination, its temp file removed, the rest copied (continueOnError)", async () => {
    const src = fresh("mid");
    makeTree(src, 2, 40, 3);
    const dst = fresh("mid-copy");
    // the destination of d1/f5 is a non-empty directory: renameat(tmp, it) fails with EISDIR
    mkdirSync(join(dst, "d1", "f5", "inside"), { recursive: true });
    const s = await copyTree(src, dst, { continueOnError: true });
    expect(s.errors.length).toBe(1);
    const e = s.errors[0]!;
    expect(e.code).toBe("EISDIR");
    expect(e.syscall).toBe("rename");
    expect(e.message).toContain(join(dst, "d1", "f5"));
    expect(s.files).toBe(79);
    expect(leftovers(dst)).toEqual([]);
    const want = manifest(src);
    delete want["d1/f5"];
    const got = manifest(dst);
    delete got["d1/f5"];
    delete got["d1/f5/inside"];
    expect(got).toEqual(want);
  });

  test("the same failure without continueOnError rejects with it; nothing partial under a final name, no temp files", async () => {
    const src = fresh("midfatal");
    makeTree(src, 2, 40, 5);
    const dst = fresh("midfatal-copy");
    mkdirSync(join(dst, "d0", "f7", "inside"), { recursive: true });
    const e = await caught(() => copyTree(src, dst));
    expect(e.code).toBe("EISDIR");
    expect(e.syscall).toBe("rename");
    expect(e.path).toBe(join(dst, "d0", "f7"));
    expect(leftovers(dst)).toEqual([]);
    // every regular file present is complete (the directory in the way is not a copy)
    const walkSrc = src;
    const check = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (lstatSync(p).isDirectory()) {
          if (relative(dst, p) !== join("d0", "f7") && relative(dst, p) !== join("d0", "f7", "inside")) check(p);
        } else expect(readFileSync(p).equals(readFileSync(join(walkSrc, relative(dst, p))))).toBe(true);
      }
    };
    check(dst);
  });

  mountTest("small files into a full tmpfs: ENOSPC naming a destination, no temp file left, every file present is whole", async () => {
    const src = fresh("full");
    mkdirSync(src);
    for (let k = 0; k < 400; k++) writeFileSync(join(src, `f${k}`), new Uint8Array(8192).fill(k & 255));
    await withTmpfs("size=1m", async (mnt) => {
      const dst = join(mnt, "t");
      const e = await caught(() => copyTree(src, dst));
      expect(e.code).toBe("ENOSPC");
      expect(String(e.path).startsWith(`${dst}/`)).toBe(true);
      expect(leftovers(mnt)).toEqual([]);
      expect(expectNothingPartial(src, dst)).toBeGreaterThan(0);
    });
  });

  mountTest("small files into a full tmpfs with continueOnError: the staged tree is renamed into place holding whole files only, each failure listed by its final path", async () => {
    const src = fresh("fullcont");
    mkdirSync(src);
    for (let k = 0; k < 400; k++) writeFileSync(join(src, `f${k}`), new Uint8Array(8192).fill(k & 255));
    await withTmpfs("size=1m", async (mnt) => {
      const dst = join(mnt, "t");
      const s = await copyTree(src, dst, { continueOnError: true });
      expect(s.errors.length).toBeGreaterThan(0);
      for (const e of s.errors) {
        expect(e.code).toBe("ENOSPC");
        expect(String(e.message)).toContain(`'${dst}/f`);
      }
      expect(readdirSync(mnt)).toEqual(["t"]);
      expect(leftovers(mnt)).toEqual([]);
      const whole = expectNothingPartial(src, dst);
      expect(whole).toBe(s.files);
      expect(whole + s.errors.length).toBe(400);
    });
  });

  test("abort mid-tree: AbortError, no temp files, every file present is whole", async () => {
    const src = fresh("abort");
    makeTree(src, 10, 200, 9);
    const dst = fresh("abort-copy");
    const ac = new AbortController();
    let calls = 0;
    const e = await caught(() =>
      copyTree(src, dst, {
        signal: ac.signal,
        progressInterval: 0,
        onProgress: (p) => {
          if (++calls === 1 || p.files > 50) ac.abort();
        },
      }),
    );
    expect(e.name).toBe("AbortError");
    expect(leftovers(dst)).toEqual([]);
    const n = expectNothingPartial(src, dst);
    expect(n).toBeLessThan(2000);
  });

  test("the event loop keeps running during a copy of 3,000 files (timers fire before it ends)", async () => {
    const src = fresh("loop");
    mkdirSync(src);
    for (let d = 0; d < 3; d++) {
      mkdirSync(join(src, `d${d}`));
      for (let k = 0; k < 1000; k++) writeFileSync(join(src, `d${d}`, `f${k}`), `${d}/${k}`);
    }
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    let ticksAtEnd = -1;
    try {
      const s = await copyTree(src, fresh("loop-copy")).then((x) => ((ticksAtEnd = ticks), x));
      expect(s.files).toBe(3000);
    } finally {
      clearInterval(timer);
    }
    expect(ticksAtEnd).toBeGreaterThan(0);
  });

  test("a new destination is staged: filled under `.NAME.bun-uring-PID-N.tmp` beside it (files under final names inside), renamed into place at the end", async () => {
    const src = fresh("staged");
    makeTree(src, 4, 120, 13);
    const parent = fresh("staged-out");
    mkdirSync(parent);
    const dst = join(parent, "copy");
    const seen: { dstExists: boolean; stage: string[]; finalNamesInside: boolean }[] = [];
    const s = await copyTree(src, dst, {
      progressInterval: 0,
      onProgress: (p) => {
        if (p.files === 0 || p.files >= 480) return;
        const stage = readdirSync(parent).filter((n) => TMP_NAME.test(n));
        const inside = stage[0] ? readdirSync(join(parent, stage[0])) : [];
        const files = inside[0] ? readdirSync(join(parent, stage[0]!, inside[0])) : [];
        seen.push({ dstExists: existsSync(dst), stage, finalNamesInside: files.some((n) => /^f\d+$/.test(n)) });
      },
    });
    expect(s.errors).toEqual([]);
    expect(seen.length).toBeGreaterThan(0);
    // mid-copy: no final path, one staged directory named after it, files inside under their own names
    for (const x of seen) {
      expect(x.dstExists).toBe(false);
      expect(x.stage.length).toBe(1);
      expect(x.stage[0]).toStartWith(".copy.bun-uring-");
    }
    expect(seen.some((x) => x.finalNamesInside)).toBe(true);
    // after: in place, exact, nothing temporary left
    expect(readdirSync(parent)).toEqual(["copy"]);
    expect(manifest(dst)).toEqual(manifest(src));
    expect(leftovers(dst)).toEqual([]);
  });

  test("the destination appears during a staged copy: EEXIST naming it, the copy left whole under its temporary name, the newcomer untouched", async () => {
    const src = fresh("race");
    makeTree(src, 2, 60, 17);
    const parent = fresh("race-out");
    mkdirSync(parent);
    const dst = join(parent, "copy");
    const e = await caught(() =>
      copyTree(src, dst, {
        progressInterval: 0,
        onProgress: () => {
          if (!existsSync(dst)) {
            mkdirSync(dst);
            writeFileSync(join(dst, "mine"), "someone else's");
          }
        },
      }),
    );
    expect(e.code).toBe("EEXIST");
    expect(e.syscall).toBe("rename");
    expect(e.dest).toBe(dst);
    expect(String(e.message)).toContain("appeared during the copy");
    expect(manifest(dst)).toEqual({ mine: `file 14 644 ${Bun.hash(readFileSync(join(dst, "mine"))).toString(16)}` });
    const stage = readdirSync(parent).filter((n) => TMP_NAME.test(n));
    expect(stage.length).toBe(1);
    expect(e.path).toBe(join(parent, stage[0]!));
    expect(manifest(join(parent, stage[0]!))).toEqual(manifest(src));
  });

  test("a destination whose temporary name would pass NAME_MAX (255 bytes) is made in place, unstaged, and copied whole", async () => {
    const src = fresh("longname");
    makeTree(src, 1, 20, 23);
    const parent = fresh("longname-out");
    mkdirSync(parent);
    const dst = join(parent, "n".repeat(240));
    const s = await copyTree(src, dst);
    expect(s.errors).toEqual([]);
    expect(manifest(dst)).toEqual(manifest(src));
    expect(leftovers(parent)).toEqual([]);
  });

  test("verify on a staged copy checks the files at their final paths", async () => {
    const src = fresh("verify-staged");
    makeTree(src, 2, 30, 19);
    const dst = fresh("verify-staged-copy");
    const s = await copyTree(src, dst, { verify: true });
    expect(s.errors).toEqual([]);
    expect(s.verified).toBe(60);
  });

  test("a directory of 1,500 long names, dot-names (.a, ..b, ..., ....) and UTF-8 names: every entry copied once, under its own name", async () => {
    const src = fresh("listing");
    const sub = join(src, "sub");
    mkdirSync(sub, { recursive: true });
    const names: string[] = [];
    // (about 130 KiB of directory entries, over 128 files per chunk: the directory is split between threads)
    for (let k = 0; k < 1500; k++) names.push(`file-with-a-rather-long-name-to-fill-the-listing-buffer-${String(k).padStart(5, "0")}`);
    names.push(".a", "..b", "...", "....", "é—名前 ☃", "x");
    for (const name of names) writeFileSync(join(sub, name), name);
    mkdirSync(join(src, ".hidden-dir"));
    writeFileSync(join(src, ".hidden-dir", "y"), "y");
    const dst = fresh("listing-copy");
    const s = await copyTree(src, dst);
    expect(s.errors).toEqual([]);
    expect(s.files).toBe(names.length + 1);
    expect(s.dirs).toBe(3);
    expect(readdirSync(join(dst, "sub")).sort()).toEqual([...names].sort());
    for (const name of names) expect(readFileSync(join(dst, "sub", name), "utf8")).toBe(name);
    expect(readFileSync(join(dst, ".hidden-dir", "y"), "utf8")).toBe("y");
    expect(manifest(dst)).toEqual(manifest(src));
  });

  test("two copies at once each get their own engine and both complete", async () => {
    const a = fresh("twoA");
    const b = fresh("twoB");
    makeTree(a, 2, 100, 21);
    makeTree(b, 2, 100, 22);
    const [da, db] = [fresh("twoA-copy"), fresh("twoB-copy")];
    const [sa, sb] = await Promise.all([copyTree(a, da), copyTree(b, db)]);
    expect(sa.files).toBe(200);
    expect(sb.files).toBe(200);
    expect(manifest(da)).toEqual(manifest(a));
    expect(manifest(db)).toEqual(manifest(b));
  });
});

describeKernel("copyTree's worker threads", () => {
  afterAll(() => unsafeCopyWorkerHooks.reset());

  test("a tree goes through the worker pool: same bytes and modes, exact counts, progress reaches the totals", async () => {
    unsafeCopyWorkerHooks.reset();
    const src = fresh("w-progress");
    const { files, bytes } = makeTree(src, 5, 120, 21);
    const dst = fresh("w-progress-copy");
    const seen: { files: number; totalFiles: number; bytes: number; totalBytes: number }[] = [];
    const s = await copyTree(src, dst, { progressInterval: 0, onProgress: (p) => seen.push({ ...p }) });
    expect(unsafeCopyWorkerHooks.pool).not.toBeNull(); // the copy took the pool
    expect(manifest(dst)).toEqual(manifest(src));
    expect(s.files).toBe(files);
    expect(s.bytes).toBe(bytes);
    expect(leftovers(dst)).toEqual([]);
    const last = seen.at(-1)!;
    expect(last.files).toBe(files);
    expect(last.totalFiles).toBe(files);
    expect(last.bytes).toBe(bytes);
    expect(last.totalBytes).toBe(bytes);
    // it grows: some report before the end saw fewer files
    expect(seen.some((p) => p.files > 0 && p.files < files)).toBe(true);
  });

  test("an error in a worker names the path and errno (EISDIR at the rename of a merged directory's file), continueOnError copies the rest", async () => {
    const src = fresh("w-err");
    makeTree(src, 3, 50, 23);
    const dst = fresh("w-err-copy");
    mkdirSync(join(dst, "d2", "f9", "inside"), { recursive: true });
    const s = await copyTree(src, dst, { continueOnError: true });
    expect(s.errors.length).toBe(1);
    const e = s.errors[0]!;
    expect(e.code).toBe("EISDIR");
    expect(e.syscall).toBe("rename");
    expect(e.path).toBe(join(src, "d2", "f9"));
    expect(e.message).toContain(join(dst, "d2", "f9"));
    expect(s.files).toBe(149);
    expect(leftovers(dst)).toEqual([]);
    // without continueOnError: the UringError itself, errno and path
    const dst2 = fresh("w-err-fatal");
    mkdirSync(join(dst2, "d0", "f3", "inside"), { recursive: true });
    const err = await caught(() => copyTree(src, dst2));
    expect(err.code).toBe("EISDIR");
    expect(err.errno).toBe(-21);
    expect(err.syscall).toBe("rename");
    expect(err.path).toBe(join(dst2, "d0", "f3"));
    expect(leftovers(dst2)).toEqual([]);
  });

  test("abort mid-tree (from onProgress): AbortError, the workers stop, no temp files, every file present is whole; the pool copies again afterwards", async () => {
    const src = fresh("w-abort");
    makeTree(src, 12, 150, 25);
    const dst = fresh("w-abort-copy");
    const ac = new AbortController();
    const e = await caught(() =>
      copyTree(src, dst, {
        signal: ac.signal,
        progressInterval: 0,
        onProgress: (p) => {
          if (p.files > 100) ac.abort();
        },
      }),
    );
    expect(e.name).toBe("AbortError");
    expect(leftovers(dst)).toEqual([]);
    expect(expectNothingPartial(src, dst)).toBeLessThan(1800);
    // the pool is reusable: the next copy goes through it and completes
    const pool = unsafeCopyWorkerHooks.pool;
    const again = fresh("w-abort-again");
    const s = await copyTree(src, again);
    expect(unsafeCopyWorkerHooks.pool).toBe(pool);
    expect(s.files).toBe(1800);
    expect(manifest(again)).toEqual(manifest(src));
  });

  test("a worker that dies mid-copy: a warning, its started file removed and copied again, every file copied; later copies use the in-process engine", async () => {
    unsafeCopyWorkerHooks.reset();
    unsafeCopyWorkerHooks.configure(1, false); // one worker, the main thread only walks: the worker holds every chunk
    unsafeCopyWorkerHooks.fault(40);
    try {
      const src = fresh("w-crash");
      const { files } = makeTree(src, 4, 100, 27);
      const dst = fresh("w-crash-copy");
      const warnings: string[] = [];
      const s = await copyTree(src, dst, { onWarning: (m) => warnings.push(m) });
      expect(warnings.some((m) => /copy worker failed/.test(m))).toBe(true);
      expect(s.errors).toEqual([]);
      expect(s.files).toBe(files);
      expect(manifest(dst)).toEqual(manifest(src));
      expect(leftovers(dst)).toEqual([]);
      // the next copy does not use the broken pool
      const s2 = await copyTree(src, fresh("w-crash-after"));
      expect(s2.files).toBe(files);
      expect(unsafeCopyWorkerHooks.pool).toBeNull();
    } finally {
      unsafeCopyWorkerHooks.configure(Math.max(1, Math.min(4, require("node:os").availableParallelism() - 1)), true);
      unsafeCopyWorkerHooks.reset();
    }
  });

  test("a worker that fails to start: a warning, and the copy completes", async () => {
    unsafeCopyWorkerHooks.reset();
    unsafeCopyWorkerHooks.configure(1, false);
    unsafeCopyWorkerHooks.script(join(work.path, "no-such-worker.ts"));
    try {
      const src = fresh("w-nostart");
      const { files } = makeTree(src, 3, 60, 29);
      const dst = fresh("w-nostart-copy");
      const warnings: string[] = [];
      const s = await copyTree(src, dst, { onWarning: (m) => warnings.push(m) });
      expect(warnings.some((m) => /copy worker failed/.test(m))).toBe(true);
      expect(s.errors).toEqual([]);
      expect(s.files).toBe(files);
      expect(manifest(dst)).toEqual(manifest(src));
      expect(leftovers(dst)).toEqual([]);
    } finally {
      unsafeCopyWorkerHooks.configure(Math.max(1, Math.min(4, require("node:os").availableParallelism() - 1)), true);
      unsafeCopyWorkerHooks.reset();
    }
  });

  test("closeCopyWorkers() ends the pool; the next copy starts a new one", async () => {
    const src = fresh("w-close");
    makeTree(src, 2, 20, 33);
    await copyTree(src, fresh("w-close-1"));
    const before = unsafeCopyWorkerHooks.pool;
    expect(before).not.toBeNull();
    closeCopyWorkers();
    expect(unsafeCopyWorkerHooks.pool).toBeNull();
    const dst = fresh("w-close-2");
    const s = await copyTree(src, dst);
    expect(s.files).toBe(40);
    expect(manifest(dst)).toEqual(manifest(src));
    expect(unsafeCopyWorkerHooks.pool).not.toBeNull();
    expect(unsafeCopyWorkerHooks.pool).not.toBe(before);
  });

  test("the process exits when the copy is done: idle workers do not keep it alive", async () => {
    const src = fresh("w-exit");
    makeTree(src, 2, 30, 31);
    const dst = fresh("w-exit-copy");
    const lib = join(import.meta.dir, "..", "lib", "index.ts");
    const script = `const { copyTree } = await import(${JSON.stringify(lib)}); const s = await copyTree(${JSON.stringify(src)}, ${JSON.stringify(dst)}); console.log("files", s.files);`;
    const p = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => p.kill("SIGKILL"), 20_000);
    const code = await p.exited;
    clearTimeout(timer);
    expect(p.signalCode).toBeNull(); // not killed by the timer: it exited by itself
    expect(code).toBe(0);
    expect(await new Response(p.stdout).text()).toBe("files 60\n");
  });
});

describeKernel("copyFile's splice path", () => {
  test("an odd size in small blocks (5 MiB + 123 B, 64 KiB × 3 in flight): same bytes, progress grows to the size", async () => {
    const dir = fresh("splice");
    mkdirSync(dir);
    const src = join(dir, "odd");
    const data = new Uint8Array(5 * 1024 * 1024 + 123);
    const rand = prng(5);
    for (let i = 0; i < data.length; i += 61) data[i] = (rand() * 256) | 0;
    writeFileSync(src, data);
    const seen: number[] = [];
    const s = await copyFile(src, join(dir, "copy"), {
      blockSize: 65536,
      queueDepth: 3,
      progressInterval: 0,
      onProgress: (p) => void seen.push(p.bytes),
    });
    expect(s.bytes).toBe(data.length);
    expect(readFileSync(join(dir, "copy")).equals(Buffer.from(data))).toBe(true);
    expect(seen.length).toBeGreaterThan(1);
    for (let k = 1; k < seen.length; k++) expect(seen[k]!).toBeGreaterThanOrEqual(seen[k - 1]!);
    expect(seen.at(-1)).toBe(data.length);
    expect(leftovers(dir)).toEqual([]);
  });

  test("the event loop keeps running while a 64 MiB file is copied in 64 KiB blocks", async () => {
    const dir = fresh("splice-loop");
    mkdirSync(dir);
    writeFileSync(join(dir, "big"), new Uint8Array(64 * 1024 * 1024).fill(3));
    let ticks = 0;
    let ticksAtEnd = -1;
    const timer = setInterval(() => ticks++, 1);
    try {
      await copyFile(join(dir, "big"), join(dir, "copy"), { blockSize: 65536 }).then(() => (ticksAtEnd = ticks));
    } finally {
      clearInterval(timer);
    }
    expect(ticksAtEnd).toBeGreaterThan(0);
    expect(readFileSync(join(dir, "copy")).equals(readFileSync(join(dir, "big")))).toBe(true);
  });
});

describe("copy workers' shared words (kernel-free)", () => {
  kernelFreeTest("a chunk's byte count fits its word read unsigned, even when every file is as large as a worker takes", () => {
    const most = CHUNK_FILES * WORKER_MAX_FILE;
    expect(most).toBeLessThan(2 ** 32);
    expect(WORKER_MAX_FILE).toBeLessThan(2 ** 31); // a file's size word is an Int32
    const word = new Int32Array(1);
    word[0] = most; // what copyChunk stores
    expect(word[0]! >>> 0).toBe(most); // what the main thread reads back
  });
});
