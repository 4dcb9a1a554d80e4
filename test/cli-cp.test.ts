/**
 * `bun-uring cp`: the argument parser and the progress line without a kernel, then the command
 * itself as a subprocess (`bun lib/cli.ts cp …` from the repo root) on real files.
 */
import { describe, expect, test } from "bun:test";
import {
  chmodSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join, relative } from "node:path";
import { CliError, parseArgv, parseCpArgs, parseFlags, parseSize, type OptionSpec } from "../lib/cli.ts";
import type { CopyProgress } from "../lib/copy.ts";
import { formatBytes, formatEta, formatRate, ProgressLine, renderProgress } from "../lib/progress.ts";
import { kernelTest, tempDir } from "./helpers.ts";

const root = `${import.meta.dir}/..`;

/** Run `bun lib/cli.ts cp …` with stdout and stderr piped (so neither is a terminal). */
function cp(...args: string[]) {
  const r = Bun.spawnSync(["bun", "lib/cli.ts", "cp", ...args], { cwd: root, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

function sha256(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

/** Every entry under `dir`, relative, sorted: a file's sha256, a link's target, or "dir". */
function describeTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const key = relative(dir, p);
      if (st.isSymbolicLink()) out[key] = `-> ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[key] = "dir";
        walk(p);
      } else out[key] = sha256(p);
    }
  };
  walk(dir);
  return out;
}

/** A small tree: text, a multi-block binary, an empty file, an empty dir, a symlink to a file. */
function makeTree(dir: string): void {
  mkdirSync(join(dir, "sub/deeper"), { recursive: true });
  mkdirSync(join(dir, "empty"));
  writeFileSync(join(dir, "a.txt"), "hello\n");
  writeFileSync(join(dir, "sub/b.bin"), crypto.getRandomValues(new Uint8Array(200_000)));
  writeFileSync(join(dir, "sub/deeper/big.bin"), Buffer.concat([0, 1, 2].map(() => Buffer.from(crypto.getRandomValues(new Uint8Array(65536))))).subarray(0, 3 * 65536 - 7));
  writeFileSync(join(dir, "sub/deeper/zero"), "");
  symlinkSync("a.txt", join(dir, "link"));
}

const P = (over: Partial<CopyProgress> = {}): CopyProgress => ({
  bytes: 0,
  totalBytes: 0,
  files: 0,
  totalFiles: 0,
  dirs: 0,
  scanning: false,
  seconds: 0,
  ...over,
});

// ------------------------------------------------------------------ parser (no kernel)

describe("argument parser", () => {
  test("short flags combine; -a is -r --preserve=all --no-dereference", () => {
    const a = parseCpArgs(["-an", "src", "dst"]);
    expect(a.recursive).toBe(true);
    expect(a.dereference).toBe(false);
    expect(a.copy.preserve).toEqual(["mode", "timestamps", "ownership", "links"]);
    expect(a.copy.noClobber).toBe(true);
    expect(a.sources).toEqual(["src"]);
    expect(a.dest).toBe("dst");
    const rf = parseCpArgs(["-rf", "a", "b", "dir"]);
    expect(rf.recursive).toBe(true);
    expect(rf.copy.force).toBe(true);
    expect(rf.sources).toEqual(["a", "b"]);
    expect(parseCpArgs(["-R", "a", "b"]).recursive).toBe(true);
    expect(parseCpArgs(["--recursive", "a", "b"]).recursive).toBe(true);
  });

  test("--preserve: bare and -p mean mode,timestamps,ownership; lists add up; all expands", () => {
    expect(parseCpArgs(["--preserve", "a", "b"]).copy.preserve).toEqual(["mode", "timestamps", "ownership"]);
    expect(parseCpArgs(["-p", "a", "b"]).copy.preserve).toEqual(["mode", "timestamps", "ownership"]);
    expect(parseCpArgs(["-p", "--preserve=links", "a", "b"]).copy.preserve).toEqual(["mode", "timestamps", "ownership", "links"]);
    expect(parseCpArgs(["--preserve=mode", "a", "b"]).copy.preserve).toEqual(["mode"]);
    expect(parseCpArgs(["--preserve=all", "a", "b"]).copy.preserve).toEqual(["mode", "timestamps", "ownership", "links"]);
    expect(parseCpArgs(["a", "b"]).copy.preserve).toBeUndefined();
    // a bare --preserve takes no separate value: the next argument is an operand
    expect(parseCpArgs(["--preserve", "mode", "b"]).sources).toEqual(["mode"]);
    expect(() => parseCpArgs(["--preserve=mode,xattr", "a", "b"])).toThrow("--preserve: unknown attribute 'xattr'");
  });

  test("-L / -P: the last one wins; -n wins over -f whatever the order (as GNU cp)", () => {
    expect(parseCpArgs(["a", "b"]).dereference).toBeUndefined();
    expect(parseCpArgs(["-a", "-L", "a", "b"]).dereference).toBe(true);
    expect(parseCpArgs(["-L", "-a", "a", "b"]).dereference).toBe(false);
    expect(parseCpArgs(["-LP", "a", "b"]).dereference).toBe(false);
    expect(parseCpArgs(["--dereference", "a", "b"]).dereference).toBe(true);
    expect(parseCpArgs(["-fn", "a", "b"]).copy).toEqual({ noClobber: true });
    expect(parseCpArgs(["-nf", "a", "b"]).copy).toEqual({ noClobber: true });
  });

  test("the other switches map onto CopyOptions", () => {
    const a = parseCpArgs(["--fsync", "--verify", "--continue", "--json", "-q", "--queue-depth", "32", "--block-size=128K", "a", "b"]);
    expect(a.copy).toEqual({ fsync: true, verify: true, continueOnError: true, queueDepth: 32, blockSize: 128 * 1024 });
    expect(parseCpArgs(["--ring-only", "a", "b"]).copy).toEqual({ copyFileRange: false });
    expect(a.json).toBe(true);
    expect(a.quiet).toBe(true);
    expect(a.continue).toBe(true);
    expect(parseCpArgs(["--progress", "a", "b"]).progress).toBe(true);
    expect(parseCpArgs(["--progress", "--no-progress", "a", "b"]).progress).toBe(false);
    expect(parseCpArgs(["a", "b"]).progress).toBeUndefined();
  });

  test("sizes: 4096, 128K, 1M (binary), KB/MB decimal", () => {
    expect(parseSize("4096")).toBe(4096);
    expect(parseSize("128K")).toBe(131072);
    expect(parseSize("128k")).toBe(131072);
    expect(parseSize("128KiB")).toBe(131072);
    expect(parseSize("1M")).toBe(1 << 20);
    expect(parseSize("2G")).toBe(2 * 2 ** 30);
    expect(parseSize("1MB")).toBe(1e6);
    expect(parseSize("512B")).toBe(512);
    for (const bad of ["x", "", "1.5M", "-4096", "1Q", "K"]) expect(parseSize(bad)).toBeNaN();
    expect(parseCpArgs(["--block-size", "1M", "a", "b"]).copy.blockSize).toBe(1 << 20);
    expect(parseCpArgs(["--block-size", "4096", "a", "b"]).copy.blockSize).toBe(4096);
  });

  test("bad values name the flag", () => {
    expect(() => parseCpArgs(["--block-size", "x", "a", "b"])).toThrow("--block-size: expected a size like 4096, 128K or 1M; got 'x'");
    expect(() => parseCpArgs(["--block-size", "1000", "a", "b"])).toThrow("--block-size: must be a multiple of 4096");
    expect(() => parseCpArgs(["--block-size", "128M", "a", "b"])).toThrow("--block-size: must be a multiple of 4096 from 4K to 64M");
    expect(() => parseCpArgs(["--queue-depth", "0", "a", "b"])).toThrow("--queue-depth: expected a whole number from 1 to 4096; got '0'");
    expect(() => parseCpArgs(["--queue-depth", "many", "a", "b"])).toThrow("--queue-depth:");
    expect(() => parseCpArgs(["--queue-depth=5000", "a", "b"])).toThrow("--queue-depth:");
    expect(() => parseCpArgs(["a", "b", "--queue-depth"])).toThrow("--queue-depth needs a value");
    expect(() => parseCpArgs(["--json=yes", "a", "b"])).toThrow("--json takes no value");
  });

  test("unknown options, missing operands; -- ends the options; --help needs no operands", () => {
    expect(() => parseCpArgs(["-x", "a", "b"])).toThrow("unknown option -x");
    expect(() => parseCpArgs(["-rx", "a", "b"])).toThrow("unknown option -x");
    expect(() => parseCpArgs(["--frobnicate", "a", "b"])).toThrow("unknown option --frobnicate");
    expect(() => parseCpArgs([])).toThrow("missing file operand");
    expect(() => parseCpArgs(["only"])).toThrow("missing destination file operand after 'only'");
    expect(() => parseCpArgs(["-r", "", "b"])).toThrow(CliError);
    const dashed = parseCpArgs(["-r", "--", "-n", "-", "dst"]);
    expect(dashed.sources).toEqual(["-n", "-"]);
    expect(dashed.copy.noClobber).toBeUndefined();
    expect(parseCpArgs(["--help"]).help).toBe(true);
    expect(parseCpArgs(["-h"]).help).toBe(true);
  });

  test("parseArgv: a value option ends a short group; parseFlags keeps its long-only behaviour and gains short letters", () => {
    const specs: OptionSpec[] = [
      { short: "v", apply: (f) => void (f.v = ((f.v as number) ?? 0) + 1) },
      { long: ["depth"], short: "d", value: "required", apply: (f, v) => void (f.depth = v) },
    ];
    expect(parseArgv(["-vvd8", "x"], specs)).toEqual({ flags: { v: 2, depth: "8" }, operands: ["x"] });
    expect(parseArgv(["-vd", "9", "--depth=10"], specs).flags).toEqual({ v: 1, depth: "10" });
    expect(() => parseArgv(["-vd"], specs)).toThrow("-d needs a value");
    expect(parseFlags(["--json", "x"], ["json"])).toEqual({ flags: { json: true }, rest: ["x"] });
    expect(parseFlags(["--queue-depth", "4"], [], ["queueDepth"]).flags).toEqual({ queueDepth: "4" });
    expect(parseFlags(["-jq", "3"], ["json"], ["queueDepth"], { j: "json", q: "queueDepth" }).flags).toEqual({ json: true, queueDepth: "3" });
    expect(() => parseFlags(["--jsn"], ["json"])).toThrow("unknown option --jsn");
    expect(() => parseFlags(["-j"], ["json"])).toThrow("unknown option -j");
  });
});

// ------------------------------------------------------------------ progress (no kernel)

describe("progress", () => {
  test("units: binary bytes, decimal MB/s, clock ETA", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(3 * 2 ** 20)).toBe("3.0 MiB");
    expect(formatBytes(12.34 * 2 ** 20)).toBe("12.3 MiB");
    expect(formatBytes(256 * 2 ** 20)).toBe("256 MiB");
    expect(formatBytes(1.25 * 2 ** 30)).toBe("1.25 GiB");
    expect(formatRate(250e6)).toBe("250.0 MB/s");
    expect(formatRate(Number.NaN)).toBe("-- MB/s");
    expect(formatEta(0)).toBe("0:00");
    expect(formatEta(4.2)).toBe("0:05");
    expect(formatEta(75)).toBe("1:15");
    expect(formatEta(3723)).toBe("1:02:03");
    expect(formatEta(Number.NaN)).toBe("--:--");
    expect(formatEta(Number.POSITIVE_INFINITY)).toBe("--:--");
  });

  test("renderProgress shows a bar, bytes / total, files / total, rate and ETA", () => {
    const line = renderProgress(P({ bytes: 128 * 2 ** 20, totalBytes: 256 * 2 ** 20, files: 3, totalFiles: 10, seconds: 2 }), 100);
    expect(line).toStartWith("[");
    expect(line).toContain(" 50%");
    expect(line).toContain("128 MiB / 256 MiB");
    expect(line).toContain("3/10 files");
    expect(line).toContain("67.1 MB/s"); // 128 MiB in 2 s
    expect(line).toContain("ETA 0:02");
    const bar = line.slice(1, line.indexOf("]"));
    expect(bar.length).toBeGreaterThanOrEqual(10);
    expect([...bar].filter((c) => c === "█").length).toBe(bar.length / 2);
  });

  test("while scanning, totals grow (+) and the ETA is unknown", () => {
    const line = renderProgress(P({ bytes: 1000, totalBytes: 5000, files: 1, totalFiles: 4, scanning: true, seconds: 1 }), 120);
    expect(line).toContain("ETA --:--");
    expect(line).toContain("1000 B / 4.88 KiB+");
    expect(line).toContain("1/4+ files");
    // nothing copied yet: no rate to extrapolate from
    expect(renderProgress(P({ totalBytes: 5000, totalFiles: 1 }), 120)).toContain("ETA --:--");
  });

  test("done: a full bar; empty files count by files", () => {
    const full = renderProgress(P({ bytes: 10, totalBytes: 10, files: 1, totalFiles: 1, seconds: 1 }), 80);
    expect(full).toContain("100%");
    expect(full).not.toContain("░");
    expect(full).toContain("1/1 file ");
    const empties = renderProgress(P({ files: 2, totalFiles: 4, seconds: 1 }), 80);
    expect(empties).toContain(" 50%");
  });

  test("never wider than asked; the bar goes first on a narrow line", () => {
    const p = P({ bytes: 123456789, totalBytes: 987654321, files: 12345, totalFiles: 99999, scanning: true, seconds: 3.3 });
    for (let w = 0; w <= 160; w++) expect(renderProgress(p, w).length).toBeLessThanOrEqual(w);
    const narrow = renderProgress(p, 50);
    expect(narrow).not.toContain("[");
    expect(narrow).toContain("118 MiB / 942 MiB+");
    expect(renderProgress(p, 20)).toBe("118 MiB / 942 MiB+");
    expect(renderProgress(p, 10)).toBe("118 MiB");
    expect(renderProgress(p, 3)).toBe("118");
  });

  test("ProgressLine redraws in place at most every intervalMs and erases itself", () => {
    let now = 0;
    const out: string[] = [];
    const line = new ProgressLine({ write: (s) => out.push(s), columns: () => 81, intervalMs: 100, now: () => now });
    line.clear(); // nothing drawn: nothing to erase
    expect(out).toEqual([]);
    for (now = 0; now < 1000; now += 10) line.update(P({ bytes: now, totalBytes: 1000, seconds: now / 1000 }));
    expect(line.draws).toBe(10);
    for (const s of out) {
      expect(s).toStartWith("\r");
      expect(s).toEndWith("\x1b[K");
      expect(s.length - 4).toBeLessThanOrEqual(80); // \r … ESC [ K, one column spare
    }
    line.update(P(), true); // forced: drawn even within the interval
    expect(line.draws).toBe(11);
    line.log("bun-uring cp: a warning");
    expect(out.slice(-2)).toEqual(["\r\x1b[K", "bun-uring cp: a warning\n"]);
    line.clear(); // already erased by log()
    expect(out.at(-1)).toBe("bun-uring cp: a warning\n");
    line.update(P(), true);
    line.clear();
    expect(out.at(-1)).toBe("\r\x1b[K");
  });
});

// ------------------------------------------------------------------ the command (subprocess)

describe("usage", () => {
  test("cp --help lists every option; bun-uring help has a cp section", () => {
    const h = cp("--help");
    expect(h.code).toBe(0);
    expect(h.out).toContain("Usage: bun-uring cp [options] SRC DST");
    for (const opt of [
      "-r, -R, --recursive",
      "-a, --archive",
      "-L, --dereference",
      "-P, --no-dereference",
      "-p ",
      "--preserve[=LIST]",
      "-n, --no-clobber",
      "-f, --force",
      "--fsync",
      "--verify",
      "--continue",
      "--queue-depth N",
      "--block-size SIZE",
      "--json",
      "--progress",
      "--no-progress",
      "-q, --quiet",
      "-h, --help",
    ])
      expect(h.out).toContain(opt);
    const main = Bun.spawnSync(["bun", "lib/cli.ts", "help"], { cwd: root }).stdout.toString();
    expect(main).toContain("bun-uring cp [options] SRC... DST");
    expect(main).toContain("--block-size SIZE");
  });

  test("bad arguments exit 2 with a message naming the flag", () => {
    const bs = cp("--block-size", "x", "a", "b");
    expect(bs.code).toBe(2);
    expect(bs.err).toContain("bun-uring cp: --block-size: expected a size like 4096, 128K or 1M; got 'x'");
    const qd = cp("--queue-depth", "0", "a", "b");
    expect(qd.code).toBe(2);
    expect(qd.err).toContain("--queue-depth:");
    const x = cp("-rx", "a", "b");
    expect(x.code).toBe(2);
    expect(x.err).toContain("unknown option -x");
    const one = cp("a");
    expect(one.code).toBe(2);
    expect(one.err).toContain("missing destination file operand after 'a'");
    expect(one.out).toBe("");
  });
});

describe("cp", () => {
  kernelTest("file → a new name", () => {
    const t = tempDir();
    try {
      const src = join(t.path, "a.bin");
      writeFileSync(src, crypto.getRandomValues(new Uint8Array(300_000)));
      const r = cp(src, join(t.path, "b.bin"));
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      expect(sha256(join(t.path, "b.bin"))).toBe(sha256(src));
      expect(r.out).toMatch(/^copied 1 file \(0 dirs, 0 symlinks\), 293 KiB in \d+\.\d\d s \(\d+\.\d MB\/s\)\n$/);
      expect(readdirSync(t.path).sort()).toEqual(["a.bin", "b.bin"]); // no temporary file left
    } finally {
      t.cleanup();
    }
  });

  kernelTest("file → an existing directory, and several files → a directory", () => {
    const t = tempDir();
    try {
      const dir = join(t.path, "dir");
      mkdirSync(dir);
      for (const n of ["x", "y", "z"]) writeFileSync(join(t.path, n), `${n}\n`.repeat(1000));
      const one = cp(join(t.path, "x"), dir);
      expect(one.code).toBe(0);
      expect(readFileSync(join(dir, "x"), "utf8")).toBe("x\n".repeat(1000));
      const many = cp(join(t.path, "x"), join(t.path, "y"), join(t.path, "z"), `${dir}/`);
      expect(many.code).toBe(0);
      expect(many.out).toStartWith("copied 3 files");
      for (const n of ["x", "y", "z"]) expect(sha256(join(dir, n))).toBe(sha256(join(t.path, n)));
    } finally {
      t.cleanup();
    }
  });

  kernelTest("-r copies a tree (every file's sha256, symlinks kept as links); -L follows them", () => {
    const t = tempDir();
    try {
      const src = join(t.path, "src");
      makeTree(src);
      const want = describeTree(src);
      expect(want.link).toBe("-> a.txt");
      const r = cp("-r", src, join(t.path, "copy"));
      expect(r.code).toBe(0);
      expect(describeTree(join(t.path, "copy"))).toEqual(want);
      expect(r.out).toStartWith("copied 4 files (4 dirs, 1 symlink)");
      // DST now exists: a second copy goes into it, as DST/basename(SRC)
      expect(cp("-R", src, join(t.path, "copy")).code).toBe(0);
      expect(describeTree(join(t.path, "copy/src"))).toEqual(want);
      // -L: the link becomes a regular file with its target's contents
      expect(cp("-rL", src, join(t.path, "deref")).code).toBe(0);
      const deref = describeTree(join(t.path, "deref"));
      expect(deref.link).toBe(want["a.txt"]);
      expect(lstatSync(join(t.path, "deref/link")).isFile()).toBe(true);
    } finally {
      t.cleanup();
    }
  });

  kernelTest("a symlink operand: followed without -r, kept with -r or -P", () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.path, "target"), "data\n");
      symlinkSync("target", join(t.path, "ln"));
      expect(cp(join(t.path, "ln"), join(t.path, "plain")).code).toBe(0);
      expect(lstatSync(join(t.path, "plain")).isFile()).toBe(true);
      expect(cp("-P", join(t.path, "ln"), join(t.path, "kept")).code).toBe(0);
      expect(readlinkSync(join(t.path, "kept"))).toBe("target");
    } finally {
      t.cleanup();
    }
  });

  kernelTest("-a preserves mode and mtime (files and directories)", () => {
    const t = tempDir();
    try {
      const src = join(t.path, "src");
      makeTree(src);
      chmodSync(join(src, "a.txt"), 0o751);
      chmodSync(join(src, "sub"), 0o710);
      const when = new Date("2001-02-03T04:05:06.789Z");
      utimesSync(join(src, "a.txt"), when, when);
      utimesSync(join(src, "sub/b.bin"), when, when);
      utimesSync(join(src, "sub"), when, when);
      const r = cp("-a", src, join(t.path, "copy"));
      expect(r.code).toBe(0);
      const a = statSync(join(t.path, "copy/a.txt"));
      expect(a.mode & 0o7777).toBe(0o751);
      expect(a.mtimeMs).toBe(when.getTime());
      expect(statSync(join(t.path, "copy/sub/b.bin")).mtimeMs).toBe(when.getTime());
      const sub = statSync(join(t.path, "copy/sub"));
      expect(sub.mode & 0o7777).toBe(0o710);
      expect(sub.mtimeMs).toBe(when.getTime());
      expect(describeTree(join(t.path, "copy"))).toEqual(describeTree(src));
      // -p on one file does the same
      expect(cp("-p", join(src, "a.txt"), join(t.path, "p.txt")).code).toBe(0);
      expect(statSync(join(t.path, "p.txt")).mtimeMs).toBe(when.getTime());
      expect(statSync(join(t.path, "p.txt")).mode & 0o7777).toBe(0o751);
    } finally {
      t.cleanup();
    }
  });

  kernelTest("-n keeps an existing file", () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.path, "new"), "new\n");
      writeFileSync(join(t.path, "old"), "old\n");
      const r = cp("-n", join(t.path, "new"), join(t.path, "old"));
      expect(r.code).toBe(0);
      expect(readFileSync(join(t.path, "old"), "utf8")).toBe("old\n");
      expect(r.err).toContain("skipped: 1 existing file (--no-clobber)");
      const j = JSON.parse(cp("-n", "--json", join(t.path, "new"), join(t.path, "old")).out);
      expect(j.files).toBe(0);
      expect(j.skipped).toEqual([{ path: join(t.path, "old"), reason: expect.stringContaining("no-clobber") }]);
      // without -n it is replaced
      expect(cp(join(t.path, "new"), join(t.path, "old")).code).toBe(0);
      expect(readFileSync(join(t.path, "old"), "utf8")).toBe("new\n");
    } finally {
      t.cleanup();
    }
  });

  kernelTest("a missing source: exit 1, the ENOENT message names it, the other sources are copied", () => {
    const t = tempDir();
    try {
      const missing = join(t.path, "nope");
      const r = cp(missing, join(t.path, "out"));
      expect(r.code).toBe(1);
      expect(r.err).toBe(`bun-uring cp: ENOENT: no such file or directory, stat '${missing}'\n`);
      expect(existsSync(join(t.path, "out"))).toBe(false);
      mkdirSync(join(t.path, "dir"));
      writeFileSync(join(t.path, "ok"), "ok");
      const two = cp(missing, join(t.path, "ok"), join(t.path, "dir"));
      expect(two.code).toBe(1);
      expect(two.err).toContain(`ENOENT: no such file or directory, stat '${missing}'`);
      expect(readFileSync(join(t.path, "dir/ok"), "utf8")).toBe("ok");
    } finally {
      t.cleanup();
    }
  });

  kernelTest("a directory without -r is omitted (exit 1), the other sources are copied", () => {
    const t = tempDir();
    try {
      mkdirSync(join(t.path, "d"));
      mkdirSync(join(t.path, "out"));
      writeFileSync(join(t.path, "f"), "f");
      const r = cp(join(t.path, "d"), join(t.path, "f"), join(t.path, "out"));
      expect(r.code).toBe(1);
      expect(r.err).toContain(`bun-uring cp: -r not specified; omitting directory '${join(t.path, "d")}'`);
      expect(readdirSync(join(t.path, "out"))).toEqual(["f"]);
    } finally {
      t.cleanup();
    }
  });

  kernelTest("several sources need an existing directory: target 'X' is not a directory", () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.path, "a"), "a");
      writeFileSync(join(t.path, "b"), "b");
      const file = cp(join(t.path, "a"), join(t.path, "b"), join(t.path, "a"));
      expect(file.code).toBe(1);
      expect(file.err).toBe(`bun-uring cp: target '${join(t.path, "a")}' is not a directory\n`);
      const none = cp(join(t.path, "a"), join(t.path, "b"), join(t.path, "nowhere"));
      expect(none.code).toBe(1);
      expect(none.err).toContain(`target '${join(t.path, "nowhere")}' is not a directory`);
      expect(existsSync(join(t.path, "nowhere"))).toBe(false);
      expect(readFileSync(join(t.path, "a"), "utf8")).toBe("a");
    } finally {
      t.cleanup();
    }
  });

  kernelTest("a directory into itself is refused with the library's message; a file onto itself too", () => {
    const t = tempDir();
    try {
      const src = join(t.path, "src");
      makeTree(src);
      const r = cp("-r", src, join(src, "sub"));
      expect(r.code).toBe(1);
      expect(r.err).toContain("cannot copy a directory into itself");
      expect(r.err).toStartWith("bun-uring cp: EINVAL");
      expect(existsSync(join(src, "sub/src"))).toBe(false);
      const self = cp(join(src, "a.txt"), src);
      expect(self.code).toBe(1);
      expect(self.err).toContain("are the same file");
      expect(readFileSync(join(src, "a.txt"), "utf8")).toBe("hello\n");
    } finally {
      t.cleanup();
    }
  });

  kernelTest("--json prints exactly one object with the summary fields", () => {
    const t = tempDir();
    try {
      const src = join(t.path, "src");
      makeTree(src);
      const r = cp("-r", "--json", src, join(t.path, "copy"));
      expect(r.code).toBe(0);
      expect(r.out.trim().split("\n")).toHaveLength(1);
      const j = JSON.parse(r.out);
      expect(j).toMatchObject({ files: 4, dirs: 4, symlinks: 1, hardlinks: 0, errors: [], skipped: [] });
      expect(j.bytes).toBe(6 + 200_000 + 3 * 65536 - 7);
      expect(typeof j.seconds).toBe("number");
      expect(typeof j.mbPerSec).toBe("number");
      expect(j.seconds).toBeGreaterThan(0);
      const bad = cp("--json", join(t.path, "nope"), join(t.path, "x"));
      expect(bad.code).toBe(1);
      const e = JSON.parse(bad.out);
      expect(e.errors).toEqual([
        { path: join(t.path, "nope"), code: "ENOENT", syscall: "stat", message: `ENOENT: no such file or directory, stat '${join(t.path, "nope")}'` },
      ]);
    } finally {
      t.cleanup();
    }
  });

  kernelTest("piped stderr gets no progress bar; --progress forces one that ends cleanly", () => {
    const t = tempDir();
    try {
      const src = join(t.path, "big");
      const fd = openSync(src, "w");
      const block = crypto.getRandomValues(new Uint8Array(1 << 20));
      for (let i = 0; i < 48; i++) writeSync(fd, block);
      closeSync(fd);
      const piped = cp(src, join(t.path, "a"));
      expect(piped.code).toBe(0);
      expect(piped.err).toBe("");
      expect(piped.out).not.toContain("\r");
      const forced = cp("--progress", "--block-size", "64K", "--queue-depth", "2", src, join(t.path, "b"));
      expect(forced.code).toBe(0);
      expect(forced.err).toContain("\r");
      expect(forced.err).toEndWith("\r\x1b[K"); // the line is erased at the end
      const lines = forced.err.split("\r").filter((s) => s.length > 3);
      expect(lines.length).toBeGreaterThanOrEqual(1);
      for (const l of lines) {
        expect(l).toContain("/ 48.0 MiB");
        expect(l).toContain("MB/s");
        expect(l).toContain("ETA ");
      }
      expect(forced.out).toStartWith("copied 1 file");
      expect(sha256(join(t.path, "b"))).toBe(sha256(src));
      // --no-progress wins over --progress when it comes last; --quiet prints nothing
      const quiet = cp("--progress", "--no-progress", "-q", src, join(t.path, "c"));
      expect(quiet).toEqual({ code: 0, out: "", err: "" });
    } finally {
      t.cleanup();
    }
  });

  kernelTest("--continue: a failure is listed at the end, the rest is copied, exit 1; a FIFO is skipped", () => {
    const t = tempDir();
    try {
      const src = join(t.path, "src");
      makeTree(src);
      const fifo = join(src, "pipe");
      expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
      const dst = join(t.path, "dst");
      mkdirSync(dst);
      writeFileSync(join(dst, "sub"), "I am a file where a directory goes\n"); // forces a failure under sub/
      const r = cp("-r", "--continue", `${src}/.`, dst);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`bun-uring cp: skipped: '${fifo}' (FIFO not copied)`);
      expect(r.err).toMatch(/bun-uring cp: 1 failure:\n {2}E(EXIST|NOTDIR): [^\n]*'[^']*\/dst\/sub'/);
      expect(r.out).toStartWith("copied ");
      // everything outside sub/ was copied
      expect(sha256(join(dst, "a.txt"))).toBe(sha256(join(src, "a.txt")));
      expect(readlinkSync(join(dst, "link"))).toBe("a.txt");
      expect(statSync(join(dst, "empty")).isDirectory()).toBe(true);
      expect(existsSync(join(dst, "pipe"))).toBe(false);
      const j = JSON.parse(cp("-r", "--continue", "--json", `${src}/`, dst).out);
      expect(j.errors).toHaveLength(0); // dst/src is new: nothing in the way
      const again = cp("-r", "--continue", "--json", `${src}/.`, dst);
      expect(again.code).toBe(1);
      const k = JSON.parse(again.out);
      expect(k.errors).toHaveLength(1);
      expect(k.errors[0]).toMatchObject({ code: expect.stringMatching(/^E(EXIST|NOTDIR)$/), syscall: expect.any(String), message: expect.any(String) });
      expect(k.skipped).toContainEqual({ path: expect.stringContaining("pipe"), reason: "FIFO not copied" });
      // without --continue the same failure stops the copy
      rmSync(join(dst, "a.txt"));
      const stop = cp("-r", `${src}/.`, dst);
      expect(stop.code).toBe(1);
      expect(stop.err).toMatch(/bun-uring cp: E(EXIST|NOTDIR): /);
    } finally {
      t.cleanup();
    }
  });

  kernelTest("a fatal error while a big file is in flight: one message, no echoes, no temporary file", () => {
    const t = tempDir();
    try {
      const src = join(t.path, "src");
      mkdirSync(join(src, "sub"), { recursive: true });
      const fd = openSync(join(src, "big"), "w");
      const block = crypto.getRandomValues(new Uint8Array(4 << 20));
      for (let i = 0; i < 16; i++) writeSync(fd, block);
      closeSync(fd);
      writeFileSync(join(src, "sub/x"), "x");
      const dst = join(t.path, "dst");
      mkdirSync(dst);
      writeFileSync(join(dst, "sub"), "in the way\n");
      const r = cp("-r", "--block-size", "64K", "--queue-depth", "4", `${src}/.`, dst);
      expect(r.code).toBe(1);
      expect(r.err).toBe(`bun-uring cp: EEXIST: file already exists, mkdir '${join(dst, "sub")}'\n`);
      expect(readdirSync(dst).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    } finally {
      t.cleanup();
    }
  });

  kernelTest("SIGTERM mid-copy: exit 143, no file under the final name, no temporary file", async () => {
    const t = tempDir();
    try {
      const src = join(t.path, "big.bin");
      const fd = openSync(src, "w");
      const block = crypto.getRandomValues(new Uint8Array(16 << 20)); // real data: no holes
      for (let i = 0; i < 32; i++) writeSync(fd, block);
      closeSync(fd);
      expect(statSync(src).size).toBe(512 << 20);
      const out = join(t.path, "out");
      mkdirSync(out);
      const child = Bun.spawn(["bun", "lib/cli.ts", "cp", "--block-size", "256K", src, out], { cwd: root, stdout: "pipe", stderr: "pipe" });
      // wait until the copy has begun (its temporary file exists, ~70 ms after the spawn), then a little more
      const t0 = performance.now();
      while (!readdirSync(out).some((n) => n.endsWith(".tmp"))) {
        if (performance.now() - t0 > 20_000 || child.exitCode !== null) break;
        await Bun.sleep(2);
      }
      const started = readdirSync(out);
      await Bun.sleep(30);
      child.kill("SIGTERM");
      const code = await child.exited;
      const err = await new Response(child.stderr).text();
      expect(started.some((n) => n.endsWith(".tmp"))).toBe(true);
      expect(code).toBe(143);
      expect(child.signalCode).toBeNull(); // handled: an orderly exit, not a kill
      expect(err).toContain("interrupted by SIGTERM");
      expect(err).not.toContain("EBADF");
      expect(readdirSync(out)).toEqual([]);
    } finally {
      t.cleanup();
    }
  });
});
