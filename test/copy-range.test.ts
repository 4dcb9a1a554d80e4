/**
 * copyFile/copyTree's copy_file_range path (lib/copy-range.ts): large dense files copied by the
 * kernel on a worker thread. Against the real kernel: which files take it (and which do not), the
 * bytes, progress, the fallback when the kernel refuses (another filesystem: EXDEV), a stop
 * mid-file, a full disk, and that an idle worker never keeps a process alive.
 */
import { afterAll, beforeAll, describe, expect } from "bun:test";
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Uring, copyFile, copyTree, type CopyProgress } from "../lib/index.ts";
import { rangeStats } from "../lib/copy-range.ts";
import { caught, fdsSettle, fileMaker, kernelTest as test, openFds, REPO, tempDir, unavailable, withTmpfs } from "./helpers.ts";

const MiB = 1024 * 1024;
const TMP_NAME = /\.bun-uring-\d+-\d+\.tmp$/;

let work: ReturnType<typeof tempDir>;
beforeAll(async () => {
  work = tempDir("bun-uring-range-");
  if (unavailable) return;
  // the first large copy starts a worker, whose event loop holds fds of its own for the life of
  // the process: start it now, so the fd counts below see only what a copy leaves behind
  const warm = join(work.path, "warm-up");
  writeFileSync(warm, randomBytes(5 * 1024 * 1024));
  await copyFile(warm, `${warm}.copy`);
});
afterAll(() => work?.cleanup());

const { source, out } = fileMaker(() => work.path);

describe.skipIf(Boolean(unavailable))("copy_file_range on a worker", () => {
  test("a large dense file goes to a worker: byte-identical, progress reaches the size, counted once, no temp file, no fd left", async () => {
    const { path, data } = source(24 * MiB + 123);
    const dst = out();
    const fds = openFds();
    const before = rangeStats().jobs;
    const seen: number[] = [];
    const s = await copyFile(path, dst, { progressInterval: 0, onProgress: (p: CopyProgress) => seen.push(p.bytes) });
    expect(rangeStats().jobs).toBe(before + 1);
    expect(rangeStats().workers).toBeGreaterThanOrEqual(1);
    expect(readFileSync(dst).equals(data)).toBe(true);
    expect(s.bytes).toBe(data.length);
    expect(s.files).toBe(1);
    // 16 MiB chunks: at least one progress report before the end, and the last one at the size
    expect(seen.some((b) => b > 0 && b < data.length)).toBe(true);
    expect(seen.at(-1)).toBe(data.length);
    for (let k = 1; k < seen.length; k++) expect(seen[k]!).toBeGreaterThanOrEqual(seen[k - 1]!);
    expect(readdirSync(work.path).filter((n) => TMP_NAME.test(n))).toEqual([]);
    expect(await fdsSettle(fds)).toBeLessThanOrEqual(fds); // (Bun may close one of its own meanwhile)
  });

  test("not taken: copyFileRange false, a caller's ring, a file of 64 KiB, a sparse file — each still byte-identical", async () => {
    const big = source(6 * MiB);
    const small = source(64 * 1024);
    const sparse = `${out()}.sparse`;
    const fd = openSync(sparse, "w");
    writeSync(fd, Buffer.from("head"), 0, 4, 0);
    writeSync(fd, Buffer.from("tail"), 0, 4, 20 * MiB);
    closeSync(fd);
    const before = rangeStats().jobs;
    const a = out();
    await copyFile(big.path, a, { copyFileRange: false });
    const io = new Uring({ entries: 64 });
    const b = out();
    try {
      await copyFile(big.path, b, { uring: io });
    } finally {
      io.close();
    }
    const c = out();
    await copyFile(small.path, c);
    const d = out();
    await copyFile(sparse, d);
    expect(rangeStats().jobs).toBe(before);
    expect(readFileSync(a).equals(big.data)).toBe(true);
    expect(readFileSync(b).equals(big.data)).toBe(true);
    expect(readFileSync(c).equals(small.data)).toBe(true);
    expect(readFileSync(d).equals(readFileSync(sparse))).toBe(true);
    expect(statSync(d).blocks * 512).toBeLessThan(1 * MiB); // still sparse
  });

  test("copyTree: dense files up to 16 MiB are copied by the tree's workers, larger ones by the range pool, sparse ones keep their holes: byte-identical", async () => {
    const src = `${out()}.tree`;
    const files: [string, Buffer][] = [
      ["a.huge", randomBytes(16 * MiB + 1)], // over the tree workers' limit: the range pool
      ["b.big", randomBytes(16 * MiB)], // the tree workers' largest
      ["c.mid", randomBytes(64 * 1024 + 1)],
      ["d.small", randomBytes(64 * 1024)],
      ["e.tiny", randomBytes(100)],
    ];
    mkdirSync(src);
    for (const [n, d] of files) writeFileSync(join(src, n), d);
    const fd = openSync(join(src, "f.sparse"), "w");
    writeSync(fd, Buffer.from("head"), 0, 4, 0);
    writeSync(fd, Buffer.from("tail"), 0, 4, 10 * MiB);
    closeSync(fd);
    const before = rangeStats().jobs;
    const dst = out();
    const s = await copyTree(src, dst);
    expect(rangeStats().jobs).toBe(before + 1);
    expect(s.files).toBe(6);
    for (const [n, d] of files) expect(readFileSync(join(dst, n)).equals(d)).toBe(true);
    expect(readFileSync(join(dst, "f.sparse")).equals(readFileSync(join(src, "f.sparse")))).toBe(true);
    expect(statSync(join(dst, "f.sparse")).blocks * 512).toBeLessThan(MiB);
  });

  test("copyTree into an existing directory: a large file from a worker goes through a temporary name, and a failing one is reported and removed", async () => {
    const src = `${out()}.tree2`;
    mkdirSync(src);
    const a = randomBytes(3 * MiB);
    const b = randomBytes(2 * MiB);
    writeFileSync(join(src, "a"), a);
    writeFileSync(join(src, "b"), b);
    const dst = out();
    mkdirSync(join(dst, "b", "in-the-way"), { recursive: true }); // renameat(tmp, b) fails: EISDIR
    const s = await copyTree(src, dst, { continueOnError: true });
    expect(readFileSync(join(dst, "a")).equals(a)).toBe(true);
    expect(s.errors.length).toBe(1);
    expect(s.errors[0]!.code).toBe("EISDIR");
    expect(s.errors[0]!.message).toContain(join(dst, "b"));
    expect(readdirSync(dst).filter((n) => TMP_NAME.test(n))).toEqual([]);
  });

  test("another filesystem (EXDEV from the kernel): the copy falls back to the ring and is byte-identical", async () => {
    const { path, data } = source(8 * MiB);
    await withTmpfs("size=32m", async (mnt) => {
      const dst = join(mnt, "x");
      const before = rangeStats().jobs;
      const s = await copyFile(path, dst);
      expect(rangeStats().jobs).toBe(before + 1); // tried, refused before a byte moved
      expect(readFileSync(dst).equals(data)).toBe(true);
      expect(s.bytes).toBe(data.length);
      expect(readdirSync(mnt)).toEqual(["x"]);
    });
  });

  test("a source truncated mid-copy: the copy is the file as it is now (an exact prefix, cut at the new size)", async () => {
    const { path, data } = source(96 * MiB);
    const dst = out();
    const cut = 20 * MiB + 4096;
    let done = false;
    const s = await copyFile(path, dst, {
      progressInterval: 0,
      onProgress: (p: CopyProgress) => {
        if (!done && p.bytes > 0) {
          done = true;
          truncateSync(path, cut);
        }
      },
    });
    const got = readFileSync(dst);
    expect(done).toBe(true);
    expect(got.length).toBe(cut);
    expect(s.bytes).toBe(cut);
    expect(got.equals(data.subarray(0, cut))).toBe(true);
  });

  test("an abort mid-file stops the worker's job: AbortError, no file under the final name, no temp file, no fd left", async () => {
    const { path } = source(96 * MiB);
    const dst = out();
    const fds = openFds();
    const ac = new AbortController();
    const e = await caught(() =>
      copyFile(path, dst, {
        progressInterval: 0,
        onProgress: (p: CopyProgress) => {
          if (p.bytes > 0) ac.abort();
        },
        signal: ac.signal,
      }),
    );
    expect(e.name).toBe("AbortError");
    expect(readdirSync(work.path).filter((n) => n === dst.split("/").at(-1) || TMP_NAME.test(n))).toEqual([]);
    expect(await fdsSettle(fds)).toBeLessThanOrEqual(fds); // (Bun may close one of its own meanwhile)
  });

  test("a full disk: ENOSPC names the destination as a write's, no torn file, no temp file", async () => {
    const { path } = source(20 * MiB);
    await withTmpfs("size=8m", async (mnt) => {
      const dst = join(mnt, "big");
      const before = rangeStats().jobs;
      const e = await caught(() => copyFile(path, dst));
      expect(rangeStats().jobs).toBe(before + 1);
      expect(e.code).toBe("ENOSPC");
      expect(e.syscall).toBe("write");
      expect(e.path).toBe(dst);
      expect(e.message).toBe(`ENOSPC: no space left on device, write '${dst}'`);
      expect(readdirSync(mnt)).toEqual([]);
    });
  });

  test("the worker does not keep a process alive: a script that copies a large file exits on its own", () => {
    const { path, data } = source(8 * MiB);
    const dst = out();
    const script = `import { copyFile } from ${JSON.stringify(join(REPO, "lib/index.ts"))};
import { rangeStats } from ${JSON.stringify(join(REPO, "lib/copy-range.ts"))};
await copyFile(${JSON.stringify(path)}, ${JSON.stringify(dst)});
console.log(JSON.stringify(rangeStats()));`;
    const p = Bun.spawnSync([process.execPath, "-e", script], { timeout: 20_000, stderr: "pipe" });
    expect(p.signalCode ?? null).toBeNull(); // not killed by the timeout
    expect(p.exitCode).toBe(0);
    expect(JSON.parse(p.stdout.toString())).toEqual({ workers: 1, jobs: 1 });
    expect(readFileSync(dst).equals(data)).toBe(true);
  });
});
