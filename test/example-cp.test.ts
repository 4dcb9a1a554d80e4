/**
 * examples/04-cp.ts, run as a user runs it (a subprocess from the repo root): the copies are
 * byte-identical, errors name the path, the op and the errno, and no temporary file is ever left behind.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kernelTest, tempDir } from "./helpers.ts";

const repo = join(import.meta.dir, "..");
const EXAMPLE = "examples/04-cp.ts";
const SUMMARY = /^copied (\d+) bytes in \d+\.\d{3} s \(\d+\.\d MB\/s\)$/m;
const TEMP_NAME = /\.bun-uring-\d+\.tmp$/;

function run(args: string[], argv0: string[] = ["bun", EXAMPLE]) {
  const p = Bun.spawnSync([...argv0, ...args], { cwd: repo, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

function sha256(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

/** Names in `dir` that look like the example's temporary files. */
function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) => TEMP_NAME.test(name));
}

describe("examples/04-cp.ts", () => {
  let dir: ReturnType<typeof tempDir>;
  let srcDir: string;
  let outDir: string;
  const src = (name: string) => join(srcDir, name);

  // Sizes around the edges: empty, one byte, one short of a page, a page, not a multiple of anything.
  const SIZES = [0, 1, 4095, 4096, 1024 * 1024 + 7];
  const BIG = 20 * 1024 * 1024;

  beforeAll(() => {
    dir = tempDir("bun-uring-example-cp-");
    srcDir = join(dir.path, "src");
    outDir = join(dir.path, "out");
    mkdirSync(srcDir);
    mkdirSync(outDir);
    for (const size of SIZES) writeFileSync(src(`f${size}`), randomBytes(size));
    writeFileSync(src("big"), randomBytes(BIG));
  });
  afterAll(() => dir.cleanup());

  /** Copy `name` to out/`dstName` with `extra` flags and check everything a successful copy promises. */
  function expectCopy(name: string, dstName: string, extra: string[] = []) {
    const from = src(name);
    const to = join(outDir, dstName);
    const r = run([from, to, ...extra]);
    expect(r.err).toBe(""); // piped stderr: no progress bar, no warnings
    expect(r.code).toBe(0);
    const m = r.out.match(SUMMARY);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBe(statSync(from).size);
    expect(statSync(to).size).toBe(statSync(from).size);
    expect(sha256(to)).toBe(sha256(from));
    expect(leftovers(outDir)).toEqual([]);
    return r;
  }

  for (const size of SIZES) {
    kernelTest(`copies a ${size}-byte file byte for byte`, () => {
      expectCopy(`f${size}`, `c${size}`);
    });
  }

  kernelTest("20 MiB of random data with --qd 4 --bs 65536: 320 blocks through 4 slots", () => {
    const r = expectCopy("big", "big-qd4", ["--qd", "4", "--bs", "65536"]);
    expect(r.err).not.toContain("\r");
  });

  kernelTest("--fsync, an odd block size and a queue deeper than the file", () => {
    expectCopy(`f${1024 * 1024 + 7}`, "fsynced", ["--fsync", "--bs", "100000", "--qd", "64"]);
  });

  kernelTest("replaces an existing DST as a whole", () => {
    const to = join(outDir, "existing");
    writeFileSync(to, randomBytes(3 * 1024 * 1024)); // longer than the source: no stale tail may survive
    expectCopy("f4095", "existing");
  });

  kernelTest("a directory as DST receives DST/basename(SRC)", () => {
    const sub = join(outDir, "into");
    mkdirSync(sub);
    const r = run([src("f4096"), sub]);
    expect(r.code).toBe(0);
    expect(sha256(join(sub, "f4096"))).toBe(sha256(src("f4096")));
    expect(leftovers(sub)).toEqual([]);
  });

  kernelTest("a missing source: ENOENT naming it, exit 1, no destination created", () => {
    const missing = join(srcDir, "does-not-exist");
    const to = join(outDir, "never");
    const before = readdirSync(outDir).sort();
    const r = run([missing, to]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(missing);
    expect(r.err).toContain("ENOENT");
    expect(r.err).toContain("open");
    expect(r.out).toBe("");
    expect(existsSync(to)).toBe(false);
    expect(readdirSync(outDir).sort()).toEqual(before);
  });

  kernelTest("a destination in a directory that does not exist: a clear error, exit 1", () => {
    const missingDir = join(dir.path, "no-such-dir");
    const r = run([src("f1"), join(missingDir, "x")]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(join(missingDir, "x"));
    expect(r.err).toContain(`the directory ${missingDir} does not exist`);
    expect(r.err).toContain("ENOENT");
    expect(existsSync(missingDir)).toBe(false);
  });

  kernelTest("a directory as SRC is refused, and nothing is created", () => {
    const to = join(outDir, "from-dir");
    const r = run([srcDir, to]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${srcDir}: not a regular file`);
    expect(existsSync(to)).toBe(false);
    expect(leftovers(outDir)).toEqual([]);
  });

  // RLIMIT_FSIZE = 1000 KiB: the write of the block at 983040 (15 × 64 KiB) stops short at 1024000, and the
  // requeued rest of it must start exactly there — where it gets EFBIG. With --qd 1 nothing else is in flight,
  // so the offset in the message proves the short write was requeued at offset + done. SIGXFSZ is ignored
  // (inherited through exec) so the kernel returns EFBIG instead of killing the process.
  const bash = Bun.which("bash");
  (bash ? kernelTest : test.skip)("a short write is requeued from where it stopped; EFBIG names DST; the temp file is removed", () => {
    const to = join(outDir, "limited");
    const cmd = `trap '' XFSZ; ulimit -f 1000; exec bun ${EXAMPLE} "$0" "$1" --qd 1 --bs 65536`;
    const r = run([src("big"), to], [bash!, "-c", cmd]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`write ${to} at offset 1024000: EFBIG`);
    expect(existsSync(to)).toBe(false);
    expect(leftovers(outDir)).toEqual([]);
  });

  // A sysfs attribute claims st_size 4096 but holds a few bytes: the first read comes back short, the rest is
  // requeued at that offset, and its 0 (end of file before st_size) is the "file shrank" error.
  const sysfs = "/sys/devices/system/cpu/online";
  const sysfsLen = existsSync(sysfs) ? readFileSync(sysfs).length : -1;
  const sysfsOk = sysfsLen > 0 && statSync(sysfs).size > sysfsLen;
  (sysfsOk ? kernelTest : test.skip)("a short read is requeued; end of file before st_size is an error", () => {
    const to = join(outDir, "sysfs");
    const r = run([sysfs, to]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`read ${sysfs}: end of file at offset ${sysfsLen}`);
    expect(r.err).toContain("shrank");
    expect(existsSync(to)).toBe(false);
    expect(leftovers(outDir)).toEqual([]);
  });

  kernelTest("--demo 8: makes, copies and verifies 8 MiB, then removes its temp dir", () => {
    const r = run(["--demo", "8"]);
    expect(r.err).toBe("");
    expect(r.err).not.toContain("\r");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(SUMMARY);
    expect(r.out.match(SUMMARY)![1]).toBe(String(8 * 1024 * 1024));
    expect(r.out).toMatch(/^verify: OK — sha256 [0-9a-f]{64} \(source and copy\)$/m);
    const removed = r.out.match(/removed (\S+)/);
    expect(removed).not.toBeNull();
    expect(existsSync(removed![1]!)).toBe(false);
  });

  // Arguments are checked before any ring exists: these need no kernel.
  test("no arguments: a usage line and exit 2", () => {
    const r = run([]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("usage: bun examples/04-cp.ts SRC DST");
  });

  test("bad --qd / --bs values are refused with exit 2, naming the flag", () => {
    for (const [flag, value] of [["--qd", "0"], ["--qd", "x"], ["--bs", "0"], ["--bs", "12Q"]] as const) {
      const r = run([src("f1"), join(outDir, "bad"), flag, value]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(flag);
      expect(r.err).toContain("usage:");
    }
    expect(existsSync(join(outDir, "bad"))).toBe(false);
  });
});
