/**
 * copyFile's dense-file stream (#spliceFile in lib/copy.ts): chains of splices file → pipe and
 * pipe → file in rounds of 16 blocks, each write chain handing on to the next in the kernel.
 * Small blocks make many rounds out of a few MiB, so the round boundaries, the last short block,
 * a source that shrinks mid-copy (reads coming back short or empty), an abort, a full disk
 * (write chains broken; a queued chain woken by the poison byte) and a caller's DEFER_TASKRUN
 * ring (no stream: a pipe per block) are all exercised against the real kernel; every copy is
 * compared byte for byte.
 */
import { afterAll, beforeAll, describe, expect } from "bun:test";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Uring, type CopyOptions, type CopyProgress, copyFile as libCopyFile } from "../lib/index.ts";
import { caught, fdsSettle, fileMaker, kernelTest as test, openFds, tempDir, unavailable, withTmpfs } from "./helpers.ts";

/** copyFile on the ring's splices: large dense files would otherwise go to copy_file_range (test/copy-range.test.ts). */
const copyFile = (src: string, dst: string, options: CopyOptions = {}) => libCopyFile(src, dst, { copyFileRange: false, ...options });

const KiB = 1024;
const MiB = 1024 * KiB;
const ROUND = 16; // blocks per round (STREAM_ROUND in lib/copy.ts)
const TMP_NAME = /\.bun-uring-\d+-\d+\.tmp$/;

let work: ReturnType<typeof tempDir>;
beforeAll(async () => {
  work = tempDir("bun-uring-stream-");
  if (unavailable) return;
  // the process's copy ring (and its eventfd) is made by the first copy and kept: make it now
  const warm = join(work.path, "warm-up");
  writeFileSync(warm, randomBytes(200 * KiB));
  await copyFile(warm, `${warm}.copy`);
});
afterAll(() => work?.cleanup());

const { source, out } = fileMaker(() => work.path);
const leftovers = (dir: string) => readdirSync(dir).filter((n) => TMP_NAME.test(n));

describe.skipIf(Boolean(unavailable))("copyFile: the splice stream", () => {
  const bs = 64 * KiB;
  const sizes: [string, number][] = [
    ["one block and a bit (one round, one pipe set)", bs + 1],
    ["exactly two rounds", 2 * ROUND * bs],
    ["two rounds and one byte (a third round of one short block)", 2 * ROUND * bs + 1],
    ["five rounds and a half, ending mid-block", 5 * ROUND * bs + 7 * bs + 4095],
  ];
  for (const [label, size] of sizes) {
    test(`${label}: byte-identical, counted once, no temp file, no fd left open`, async () => {
      const { path, data } = source(size);
      const dst = out();
      const fds = openFds();
      const s = await copyFile(path, dst, { blockSize: bs });
      expect(s.files).toBe(1);
      expect(s.bytes).toBe(size);
      expect(readFileSync(dst).equals(data)).toBe(true);
      expect(leftovers(work.path)).toEqual([]);
      expect(await fdsSettle(fds)).toBe(fds);
    });
  }

  test("progress grows round by round and ends at the size", async () => {
    const size = 6 * ROUND * bs;
    const { path, data } = source(size);
    const dst = out();
    const seen: number[] = [];
    await copyFile(path, dst, { blockSize: bs, progressInterval: 0, onProgress: (p: CopyProgress) => seen.push(p.bytes) });
    expect(readFileSync(dst).equals(data)).toBe(true);
    expect(seen.length).toBeGreaterThan(2);
    for (let k = 1; k < seen.length; k++) expect(seen[k]!).toBeGreaterThanOrEqual(seen[k - 1]!);
    expect(seen.at(-1)).toBe(size);
  });

  // The source is cut while the copy runs (at a round boundary, so the next write chain may be
  // waiting for a hand-on that reads nothing): what was read is written, the rest follows the file
  // to its new end, and the copy is a prefix of the original with the size its summary says.
  for (const cutRounds of [1, 3]) {
    test(`a source truncated mid-copy to ${cutRounds} round(s): the copy is an exact prefix, its size the summary's`, async () => {
      const size = 12 * ROUND * bs;
      const { path, data } = source(size);
      const dst = out();
      const cut = cutRounds * ROUND * bs;
      let done = false;
      const s = await copyFile(path, dst, {
        blockSize: bs,
        progressInterval: 0,
        onProgress: (p) => {
          if (!done && p.bytes > 0) {
            done = true;
            truncateSync(path, cut);
          }
        },
      });
      const got = readFileSync(dst);
      expect(done).toBe(true);
      expect(got.length).toBe(s.bytes);
      expect(got.length).toBeGreaterThanOrEqual(cut);
      expect(got.length).toBeLessThanOrEqual(size);
      expect(got.equals(data.subarray(0, got.length))).toBe(true);
      expect(leftovers(work.path)).toEqual([]);
    });
  }

  // Off tmpfs a block is written in pieces of at most 256 KiB (writePiece in lib/copy.ts): 512 KiB
  // blocks on the work directory's disk filesystem are two splices each from one pipe.
  test("blocks written in pieces (512 KiB blocks, off tmpfs): exact, and exact again when the source is cut mid-copy", async () => {
    const big = 512 * KiB;
    const size = 4 * ROUND * big + 3 * big + 1000;
    const { path, data } = source(size);
    const dst = out();
    const s = await copyFile(path, dst, { blockSize: big });
    expect(s.bytes).toBe(size);
    expect(readFileSync(dst).equals(data)).toBe(true);
    const dst2 = out();
    let cut = false;
    const s2 = await copyFile(path, dst2, {
      blockSize: big,
      progressInterval: 0,
      onProgress: (p) => {
        if (!cut && p.bytes > 0) {
          cut = true;
          truncateSync(path, ROUND * big + big / 2);
        }
      },
    });
    const got = readFileSync(dst2);
    expect(got.length).toBe(s2.bytes);
    expect(got.length).toBeGreaterThanOrEqual(ROUND * big + big / 2);
    expect(got.equals(data.subarray(0, got.length))).toBe(true);
    expect(leftovers(work.path)).toEqual([]);
  });

  // A write chain must fit the SQ: a caller's small COOP ring (16 SQEs) with 512 KiB blocks written
  // in two pieces each gets rounds of 5 blocks (3 SQEs a block and the hand-on), not 16.
  test("a caller's small COOP_TASKRUN ring: rounds shrink to fit its SQ, the copy is exact", async () => {
    const io = new Uring({ entries: 16, coopTaskrun: true, taskrunFlag: true });
    try {
      const big = 512 * KiB;
      const size = 40 * big + 77;
      const { path, data } = source(size);
      const dst = out();
      const s = await copyFile(path, dst, { blockSize: big, uring: io });
      expect(s.bytes).toBe(size);
      expect(readFileSync(dst).equals(data)).toBe(true);
    } finally {
      await io.close();
    }
  });

  test("an abort mid-stream rejects with AbortError, leaves no file and no fd", async () => {
    const { path } = source(16 * ROUND * bs);
    const dst = out();
    const fds = openFds();
    const ac = new AbortController();
    const e = await caught(() =>
      copyFile(path, dst, {
        blockSize: bs,
        progressInterval: 0,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.bytes > 0) ac.abort(new Error("enough"));
        },
      }),
    );
    expect(e.name).toBe("AbortError");
    expect(() => statSync(dst)).toThrow();
    expect(leftovers(work.path)).toEqual([]);
    expect(await fdsSettle(fds)).toBe(fds);
  });

  test("a full disk mid-stream: ENOSPC naming the destination, no torn file, no temp file, no fd", async () => {
    await withTmpfs("size=3m", async (mnt) => {
      const { path } = source(8 * MiB);
      const dst = join(mnt, "big");
      const fds = openFds();
      const e = await caught(() => copyFile(path, dst, { blockSize: bs }));
      expect(e.code).toBe("ENOSPC");
      expect(e.message).toContain(dst);
      expect(readdirSync(mnt)).toEqual([]);
      expect(await fdsSettle(fds)).toBe(fds);
    });
  });

  // With 1 MiB blocks the next write chain is usually queued, waiting in its pipe for the hand-on,
  // when a write chain fails: the hand-on is cancelled, and the poison byte must wake that chain
  // (else the copy would hang here), whose one-byte write is then discarded with the temp file.
  for (const tmpfsSize of ["24m", "28m"]) {
    test(`a full disk while the next write chain waits (64 MiB into a ${tmpfsSize} tmpfs): ENOSPC, no hang, nothing left`, async () => {
      await withTmpfs(`size=${tmpfsSize}`, async (mnt) => {
        const { path } = source(64 * MiB);
        const dst = join(mnt, "big");
        const fds = openFds();
        const e = await caught(() => copyFile(path, dst));
        expect(e.code).toBe("ENOSPC");
        expect(e.message).toContain(dst);
        expect(readdirSync(mnt)).toEqual([]);
        expect(await fdsSettle(fds)).toBe(fds);
      });
    });
  }

  test("a caller's DEFER_TASKRUN ring takes a pipe per block instead (no stream): same bytes, ring still usable", async () => {
    const io = new Uring({ entries: 64 });
    try {
      const size = 3 * ROUND * bs + 123;
      const { path, data } = source(size);
      const dst = out();
      const s = await copyFile(path, dst, { blockSize: bs, uring: io });
      expect(s.bytes).toBe(size);
      expect(readFileSync(dst).equals(data)).toBe(true);
      expect(await io.nop()).toBe(0);
    } finally {
      await io.close();
    }
  });

  test("the default 1 MiB blocks: 40 MiB and 3 bytes through the stream, exact, every pipe closed", async () => {
    const { path, data } = source(40 * MiB + 3);
    const dst = out();
    const fds = openFds();
    await copyFile(path, dst);
    expect(readFileSync(dst).equals(data)).toBe(true);
    expect(await fdsSettle(fds)).toBe(fds);
  });
});
