/** The `bun-uring` command: help, version, probe, and clear errors for bad arguments. */
import { expect, test } from "bun:test";
import pkg from "../package.json" with { type: "json" };
import { kernelTest } from "./helpers.ts";

const root = `${import.meta.dir}/..`;
function cli(...args: string[]) {
  const r = Bun.spawnSync(["bun", "lib/cli.ts", ...args], { cwd: root, stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

test("help and version", () => {
  const h = cli("--help");
  expect(h.code).toBe(0);
  expect(h.out).toContain("Usage:");
  expect(h.out).toContain("bun-uring probe");
  expect(h.out).toContain("bun-uring cp [options] SRC... DST");
  const v = cli("version");
  expect(v.out.trim()).toBe(pkg.version);
});

test("package.json bin points at the CLI", () => {
  expect(pkg.bin["bun-uring"]).toBe("./lib/cli.ts");
  expect(pkg.exports["."]).toBe("./lib/index.ts");
});

test("unknown commands and options exit 2 with a message naming them", () => {
  const a = cli("frobnicate");
  expect(a.code).toBe(2);
  expect(a.err).toContain('unknown command "frobnicate"');
  const b = cli("probe", "--jsn");
  expect(b.code).toBe(2);
  expect(b.err).toContain("unknown option --jsn");
  const c = cli("probe", "extra");
  expect(c.code).toBe(2);
  expect(c.err).toContain("probe takes no arguments");
});

kernelTest("probe lists this kernel's opcodes", () => {
  const r = cli("probe", "--json");
  expect(r.code).toBe(0);
  const info = JSON.parse(r.out);
  expect(info.supported).toContain("NOP");
  expect(info.features).toContain("SINGLE_MMAP");
  expect(["shared", "mmap"]).toContain(info.memory);
  const text = cli("probe");
  expect(text.out).toMatch(/io_uring available, rings in (shared|mmap) memory/);
});

kernelTest("demo makes a sample tree, copies it with --verify and removes it", () => {
  const r = cli("demo", "--size", "8", "--files", "300");
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/made a sample tree: 300 files/);
  expect(r.out).toMatch(/copied 300 files \(\d+ dirs, 2 symlinks\).*300 verified/);
  expect(r.out).toContain("demo: copy complete and verified");
  const root = /removed (\S+)/.exec(r.out)?.[1];
  expect(root).toBeDefined();
  expect(require("node:fs").existsSync(root!)).toBe(false);
  const bad = cli("demo", "--size", "0");
  expect(bad.code).toBe(2);
  expect(bad.err).toContain("--size");
});
