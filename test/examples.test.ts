/**
 * Every example runs, as a user would run it, so none of them rots.
 * They are subprocesses: an example may call process.exit(), and its output is the thing under test.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { kernelTest, tempDir, runBun } from "./helpers.ts";


const run = runBun;

/** The indented lines printed under step `[n]` of 01-nop, joined. */
function stepText(out: string, n: number): string {
  const start = out.indexOf(`[${n}] `);
  expect(start).toBeGreaterThanOrEqual(0);
  const next = out.indexOf(`\n[${n + 1}] `, start);
  return out.slice(start, next < 0 ? undefined : next);
}

describe("examples/01-nop.ts", () => {
  for (const mode of ["auto", "mmap"] as const) {
    kernelTest(`walks every counter through one NOP (memory: ${mode})`, () => {
      const r = run("examples/01-nop.ts", mode);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      if (mode === "mmap") expect(r.out).toContain("memory mode: mmap");
      expect(r.out).toMatch(/memory mode: (shared|mmap)/);
      expect(r.out).toMatch(/setup flags: 0x[0-9a-f]+/);

      // [1] a fresh ring: everything is zero and there is room for 8
      const s1 = stepText(r.out, 1);
      expect(s1).toContain("sq.khead=0 sq.ktail=0 sqeTail=0 | cq.khead=0 cq.ktail=0");
      expect(s1).toContain("sqReady()=0 sqSpaceLeft()=8 cqReady()=0 enterCount=0");

      // [2] getSqe + prepNop + user_data: only the private tail moved, the kernel saw nothing
      const s2 = stepText(r.out, 2);
      expect(s2).toContain("opcode=0 (NOP)");
      expect(s2).toContain("user_data=0xaaaaaaaa");
      expect(s2).toContain("changed: sqeTail 0 → 1, sqReady() 0 → 1, sqSpaceLeft() 8 → 7");
      expect(s2).toContain("sq.ktail=0");

      // [3] submit: the tail is published, the kernel consumed the SQE, one syscall
      const s3 = stepText(r.out, 3);
      expect(s3).toContain("submit() returned 1");
      expect(s3).toContain("sq.ktail 0 → 1");
      expect(s3).toContain("sq.khead 0 → 1");
      expect(s3).toContain("sqReady() 1 → 0");
      expect(s3).toContain("sqSpaceLeft() 7 → 8");
      expect(s3).toContain("enterCount 0 → 1");

      // [4] after the wait, exactly one CQE is ready
      const s4 = stepText(r.out, 4);
      expect(s4).toContain("cq.khead=0 cq.ktail=1");
      expect(s4).toContain("cqReady()=1");

      // [5] the CQE carries the sentinel back, with res 0
      expect(stepText(r.out, 5)).toContain("user_data=0xaaaaaaaa (2863311530) res=0 flags=0x0");

      // [6] cqeSeen: the CQ head catches up
      const s6 = stepText(r.out, 6);
      expect(s6).toContain("changed: cq.khead 0 → 1, cqReady() 1 → 0");
      expect(s6).toContain("sq.khead=1 sq.ktail=1 sqeTail=1 | cq.khead=1 cq.ktail=1");
    });
  }

  // No ring is created before the argument check, so these two need no kernel.
  test("rejects an unknown memory mode with a usage line", () => {
    const r = run("examples/01-nop.ts", "bogus");
    expect(r.code).toBe(2);
    expect(r.err).toContain("usage: bun examples/01-nop.ts");
  });
});

describe("examples/02-cat.ts", () => {
  let dir: ReturnType<typeof tempDir>;
  // 1 MiB + 123 bytes: 257 blocks of 4 KiB, the last one partial — more than the 64-entry ring holds,
  // so it takes five waves, and it is not a multiple of the block size.
  const big = randomBytes(1024 * 1024 + 123);
  const small = randomBytes(5000);
  let bigPath: string;
  let smallPath: string;
  let emptyPath: string;

  beforeAll(() => {
    dir = tempDir("bun-uring-examples-");
    bigPath = join(dir.path, "big.bin");
    smallPath = join(dir.path, "small.bin");
    emptyPath = join(dir.path, "empty");
    writeFileSync(bigPath, big);
    writeFileSync(smallPath, small);
    writeFileSync(emptyPath, "");
  });
  afterAll(() => dir.cleanup());

  kernelTest("reproduces a file bigger than the ring, byte for byte", () => {
    const r = run("examples/02-cat.ts", bigPath);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(big.length);
    expect(Buffer.compare(r.stdout, big)).toBe(0);
  });

  kernelTest("an empty file gives empty output", () => {
    const r = run("examples/02-cat.ts", emptyPath);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(0);
  });

  kernelTest("several files come out concatenated, in argument order", () => {
    const r = run("examples/02-cat.ts", smallPath, emptyPath, bigPath, smallPath);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(Buffer.compare(r.stdout, Buffer.concat([small, big, small]))).toBe(0);
  });

  kernelTest("a missing file: ENOENT on stderr naming it, exit 1, the other files still written", () => {
    const missing = join(dir.path, "does-not-exist");
    const r = run("examples/02-cat.ts", smallPath, missing, smallPath);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(missing);
    expect(r.err).toContain("ENOENT");
    expect(Buffer.compare(r.stdout, Buffer.concat([small, small]))).toBe(0);
  });

  kernelTest("a directory: the read's negative res is reported as EISDIR", () => {
    const r = run("examples/02-cat.ts", dir.path);
    expect(r.code).toBe(1);
    expect(r.err).toContain(dir.path);
    expect(r.err).toContain("EISDIR");
  });

  test("no arguments: a usage line and exit 2", () => {
    const r = run("examples/02-cat.ts");
    expect(r.code).toBe(2);
    expect(r.err).toContain("usage: bun examples/02-cat.ts FILE...");
  });
});
