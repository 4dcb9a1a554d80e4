/** Shared test plumbing: the io_uring availability gate, temp dirs, and the memory modes. */
import { describe, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MemoryMode } from "../lib/memory.ts";

/** Why kernel tests are skipped here, or "" when io_uring works (decided in test/preload.ts). */
export const unavailable: string = (globalThis as { __BUN_URING_UNAVAILABLE__?: string }).__BUN_URING_UNAVAILABLE__ ?? "";

/** A test that needs the kernel: skipped, with the reason in its name, where io_uring is unavailable. */
export const kernelTest: typeof test = (unavailable ? test.skip : test) as typeof test;
/** A describe block that needs the kernel. */
export const describeKernel: typeof describe = (unavailable ? describe.skip : describe) as typeof describe;

/** Both memory modes; the raw-ring suite runs once in each. */
export const MEMORY_MODES: MemoryMode[] = ["shared", "mmap"];

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = "bun-uring-"): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** The error `fn` throws synchronously or rejects with; fails the test if it does neither. */
export async function caught(fn: () => unknown): Promise<Error & Record<string, unknown>> {
  try {
    await fn();
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  throw new Error("expected an error, got none");
}

/** Poll `cond` every few ms until it holds or `ms` pass; returns whether it held. */
export async function waitFor(cond: () => boolean, ms = 2000): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) return false;
    await Bun.sleep(2);
  }
  return true;
}

export { prng } from "./prng.ts";

/** Mount a tmpfs with `options` ("size=1m", "ro,size=1m") on a fresh directory, run `fn`, and always unmount. */
export async function withTmpfs(options: string, fn: (mnt: string) => Promise<void>): Promise<void> {
  const d = tempDir("bun-uring-mnt-");
  try {
    const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", options, "tmpfs", d.path], { stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`mount -t tmpfs -o ${options}: ${r.stderr.toString().trim()}`);
    try {
      await fn(d.path);
    } finally {
      if (Bun.spawnSync(["umount", d.path]).exitCode !== 0) Bun.spawnSync(["umount", "-l", d.path]);
    }
  } finally {
    d.cleanup();
  }
}

/** The repository's root (examples and the CLI run from there). */
export const REPO = join(import.meta.dir, "..");

/** `bun ...args` in the repository's root, to completion: exit code, stdout (bytes and text), stderr. */
export function runBun(...args: string[]): { code: number | null; stdout: Buffer; out: string; err: string } {
  const p = Bun.spawnSync(["bun", ...args], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, stdout: p.stdout, out: p.stdout.toString(), err: p.stderr.toString() };
}

/** How many fds this process has open. */
export const openFds = (): number => readdirSync("/proc/self/fd").length;

/** The fd count once it is back to `want` (Bun closes some of its own fds a little later), or as it is after 1 s. */
export async function fdsSettle(want: number): Promise<number> {
  for (let k = 0; k < 50 && openFds() > want; k++) await Bun.sleep(20);
  return openFds();
}

/** Files of random bytes in the directory `dir()` names: `source(size)` writes one, `out()` names a fresh destination. */
export function fileMaker(dir: () => string): { source(size: number): { path: string; data: Buffer }; out(): string } {
  let seq = 0;
  return {
    source(size) {
      const data = randomBytes(size);
      const path = join(dir(), `src-${++seq}`);
      writeFileSync(path, data);
      return { path, data };
    },
    out: () => join(dir(), `dst-${++seq}`),
  };
}
