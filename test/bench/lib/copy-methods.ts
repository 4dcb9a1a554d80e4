/**
 * The ways of copying that the copy bench compares, and how one sample of each is taken.
 *
 * - Command-line tools (`cp`, `cp -r`, `bun-uring cp`): one fresh process per sample, timed
 *   from spawn to exit in the parent (process start-up included, as a user running it sees).
 * - Library calls (`copyFile`, `copyTree`, `Bun.write(dst, Bun.file(src))`, `fs.promises.cp`,
 *   `fs.copyFileSync`): one fresh `bun` process per sample (a "cell": the bench file run with
 *   `--cell`), which imports what it needs, then times the one call in-process. A copy is a cold,
 *   short-lived job: the first call pays for JIT warm-up, ring setup and buffer allocation, and
 *   that is what a program that copies once sees. Bun's start-up and the import are not in the
 *   time (they are in the "process" column). A "warm" variant copies once into a scratch
 *   destination, discards it and syncs, then times a second call in the same process.
 * - Node's `fs.promises.cp`, for the "in Bun or Node" premise: the same cell protocol, as an
 *   inline ES module run by `node` (when it is on PATH).
 *
 * Every sample reports wall time and the CPU time of the process (user/sys, from getrusage:
 * all threads, io-wq workers and thread pools included).
 */
import { spawnSync } from "bun";
import { cpSync, copyFileSync, mkdirSync, readdirSync, readlinkSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { discard } from "./copy-data.ts";

/** What one sample measured, in milliseconds. */
export interface Sample {
  /** The copy: spawn-to-exit for tools, the call alone for library cells. */
  ms: number;
  /** The whole process, spawn to exit (start-up, import and exit included). */
  wallMs: number;
  /** CPU time over `ms` (tools: the whole process). */
  userMs: number;
  sysMs: number;
}

/** One row of a table: a way of copying, measured one sample at a time. */
export interface Method {
  id: string;
  label: string;
  /** "process", "cold call", "warm call": how a sample runs, for the table. */
  runsAs: string;
  /** A bun-uring row: its copies are verified with full sha256 and it gets the ratios. */
  ours: boolean;
  /** A slow reference: fewer rounds (see CopyBenchOptions.slowRounds). */
  slow?: boolean;
  /** Rows of one family share their fate: once one times out, the others are skipped (copyTree, its warm and tuning rows). */
  family: string;
  /**
   * One sample: copy `src` to `dst` (which does not exist). `trash`: see CellRequest. The process is
   * killed after `timeoutMs` (and a SampleTimeout thrown).
   */
  measure(src: string, dst: string, trash: string | null, timeoutMs: number): Sample;
}

/** A sample's process was killed at its deadline: a hung copy must not stall the whole bench. */
export class SampleTimeout extends Error {}

type Finished = { exitCode: number | null; signalCode?: string | number | null; exitedDueToTimeout?: boolean; stderr?: Buffer; stdout?: Buffer };

function failure(what: string, p: Finished, timeoutMs?: number): Error {
  if (p.exitedDueToTimeout) return new SampleTimeout(`${what} timed out after ${((timeoutMs ?? 0) / 1000).toFixed(0)} s (killed)`);
  const out = `${p.stderr?.toString().trim() ?? ""} ${p.stdout?.toString().trim().slice(-400) ?? ""}`.trim();
  return new Error(`${what} failed (exit ${p.exitCode ?? p.signalCode}): ${out.slice(0, 800)}`);
}

/** A command-line tool: `argv(src, dst)` in a fresh process per sample. */
export function toolMethod(id: string, label: string, ours: boolean, argv: (src: string, dst: string) => string[]): Method {
  return {
    id,
    label,
    runsAs: "process",
    ours,
    family: id,
    measure(src, dst, _trash, timeoutMs) {
      const cmd = argv(src, dst);
      const t0 = performance.now();
      const p = spawnSync(cmd, { stdout: "pipe", stderr: "pipe", timeout: timeoutMs });
      const ms = performance.now() - t0;
      if (p.exitCode !== 0) throw failure(label, p, timeoutMs);
      const cpu = p.resourceUsage.cpuTime;
      return { ms, wallMs: ms, userMs: Number(cpu.user) / 1000, sysMs: Number(cpu.system) / 1000 };
    },
  };
}

// ---------------------------------------------------------------- library cells

/** The library calls a cell can make. */
export type CellKind = "copyFile" | "copyTree" | "copyFileSync" | "bunWrite" | "bunWriteTree" | "fsCp";

/** What the parent asks a cell to do (JSON on its command line). */
export interface CellRequest {
  kind: CellKind;
  src: string;
  dst: string;
  /** copyFile/copyTree options (blockSize, queueDepth, filesInFlight, copyFileRange). */
  options?: Record<string, number | boolean>;
  /** Copy once first (into `dst + ".warmup"`, then discarded and synced), and time the second call. */
  warm?: boolean;
  /** Where the warm-up copy is retired to (see `discard()` in copy-data.ts); null: removed. */
  trash?: string | null;
}

/** What a cell prints as its last line. */
export interface CellResult {
  ms: number;
  userMs: number;
  sysMs: number;
}

/** A library call in a fresh `bun` running `benchFile --cell <request>`. */
export function cellMethod(
  benchFile: string,
  id: string,
  label: string,
  ours: boolean,
  req: Omit<CellRequest, "src" | "dst">,
  slow = false,
): Method {
  return {
    id,
    label,
    runsAs: req.warm ? "warm call" : "cold call",
    ours,
    slow,
    family: req.kind,
    measure(src, dst, trash, timeoutMs) {
      const cmd = [process.execPath, benchFile, "--cell", JSON.stringify({ ...req, src, dst, trash })];
      return runCellProcess(cmd, `${label} cell`, timeoutMs);
    },
  };
}

/** Node's `fs.promises.cp(src, dst, { recursive: true })`, timed inside `node` like a cell. */
export function nodeCpMethod(node: string, id: string, label: string): Method {
  const script = [
    `import { cp } from "node:fs/promises";`,
    `const c0 = process.cpuUsage(); const t0 = performance.now();`,
    `await cp(process.env.BENCH_SRC, process.env.BENCH_DST, { recursive: true });`,
    `const ms = performance.now() - t0; const c = process.cpuUsage(c0);`,
    `console.log(JSON.stringify({ ms, userMs: c.user / 1000, sysMs: c.system / 1000 }));`,
  ].join("\n");
  return {
    id,
    label,
    runsAs: "cold call",
    ours: false,
    slow: true,
    family: id,
    measure(src, dst, _trash, timeoutMs) {
      const cmd = [node, "--no-warnings", "--input-type=module", "-e", script];
      return runCellProcess(cmd, label, timeoutMs, { ...process.env, BENCH_SRC: src, BENCH_DST: dst });
    },
  };
}

function runCellProcess(cmd: string[], what: string, timeoutMs: number, env?: Record<string, string | undefined>): Sample {
  const t0 = performance.now();
  const p = spawnSync(cmd, { stdout: "pipe", stderr: "pipe", timeout: timeoutMs, env });
  const wallMs = performance.now() - t0;
  if (p.exitCode !== 0) throw failure(what, p, timeoutMs);
  const out = p.stdout.toString().trim();
  const last = out.slice(out.lastIndexOf("\n") + 1);
  let r: CellResult;
  try {
    r = JSON.parse(last) as CellResult;
  } catch {
    throw failure(`${what} (no JSON result)`, p);
  }
  return { ms: r.ms, wallMs, userMs: r.userMs, sysMs: r.sysMs };
}

/**
 * What a Bun user writes to copy a tree with `Bun.write`: walk with readdir, make the directories,
 * recreate symlinks, and `Bun.write(dst, Bun.file(src))` every file, 64 at a time.
 */
export async function bunWriteTree(src: string, dst: string, concurrency = 64): Promise<void> {
  const files: [string, string][] = [];
  const walk = (s: string, d: string) => {
    mkdirSync(d);
    for (const e of readdirSync(s, { withFileTypes: true })) {
      const sp = join(s, e.name);
      const dp = join(d, e.name);
      if (e.isDirectory()) walk(sp, dp);
      else if (e.isSymbolicLink()) symlinkSync(readlinkSync(sp), dp);
      else if (e.isFile()) files.push([sp, dp]);
    }
  };
  walk(src, dst);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const [s, d] = files[next++]!;
      await Bun.write(d, Bun.file(s));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** The call a cell times: everything it imports is loaded before the clock starts. */
async function prepareCall(req: CellRequest): Promise<(src: string, dst: string) => Promise<unknown>> {
  switch (req.kind) {
    case "copyFile": {
      const { copyFile } = await import("../../../lib/index.ts");
      return (s, d) => copyFile(s, d, req.options);
    }
    case "copyTree": {
      const { copyTree } = await import("../../../lib/index.ts");
      return (s, d) => copyTree(s, d, req.options);
    }
    case "copyFileSync":
      return async (s, d) => copyFileSync(s, d);
    case "bunWrite":
      return (s, d) => Bun.write(d, Bun.file(s));
    case "bunWriteTree":
      return (s, d) => bunWriteTree(s, d);
    case "fsCp": {
      const { cp } = await import("node:fs/promises");
      return (s, d) => cp(s, d, { recursive: true });
    }
  }
}

/** The child side: make the one call the request names and return its time and CPU. */
export async function runCell(req: CellRequest): Promise<CellResult> {
  const call = await prepareCall(req);
  if (req.warm) {
    const scratch = `${req.dst}.warmup`;
    await call(req.src, scratch);
    discard(scratch, req.trash ?? null);
    spawnSync(["sync"]);
  }
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await call(req.src, req.dst);
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, userMs: c.user / 1000, sysMs: c.system / 1000 };
}

/** `cp -a`, used to put a second copy of a source on the tmpfs (not measured). */
export function cloneSource(src: string, dst: string): void {
  const cp = Bun.which("cp");
  if (cp) {
    const p = spawnSync([cp, "-a", src, dst], { stderr: "pipe" });
    if (p.exitCode !== 0) throw failure(`cp -a ${src} ${dst}`, p);
  } else {
    cpSync(src, dst, { recursive: true, verbatimSymlinks: true });
  }
}
