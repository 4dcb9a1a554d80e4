/**
 * NOP round trip: how many IORING_OP_NOPs per second bun-uring's raw ring
 * pushes through the kernel, at batches of 1, 8, 32 and 128, in both memory
 * modes ("shared" and "mmap"), against the same loop written in C with raw
 * syscalls (`test/bench/c/nop.c`), measured in the same run.
 *
 * Usage: `bun run bench nop`, or `bun test/bench/nop.bench.ts`.
 * Target (the issue): at batches ≥ 8, TS ≥ 90% of C's ops/s.
 *
 * One round trip is the protocol the library documents and nop.c copies:
 * fill `batch` NOP SQEs (getSqe() with its space check + prepNop(), which in
 * C is get_sqe() + prep_nop() writing the same fields), publish the SQ tail
 * once, one io_uring_enter (to_submit = min_complete = batch, GETEVENTS),
 * read every CQE's res in place (forEachCqe(), C's for-each loop over
 * head..tail), advance the CQ head once. One tinybench iteration (and one C
 * sample) is a chunk of CHUNK NOPs, so per-op figures are not lost in timer
 * resolution; each cell is the median over those chunks, measured `runs`
 * times in fresh processes, C and TS alternating (the order rotates each
 * run), and the table shows the median of the runs: on a small, busy
 * machine one process can land in a bad patch. The C yardstick is built with the system
 * compiler (`$CC`, else `cc`) into `test/bench/.build/`; without one the C
 * columns are skipped with a note. It is a ruler, never part of the library.
 *
 * The bare TS column (`lib/nop-bare.ts`, on by default): the same loop in TypeScript with no
 * library in it — SQE words written in place over the ring's views, the same FFI call — so the
 * table separates what JS + bun:ffi cost from what the library's API adds to them.
 *
 * The trace row: the `trace` option (lib/trace.ts) must cost an untraced ring nothing. An
 * untraced ring runs the prototype's methods, unchanged by tracing (a traced ring gets its own
 * instance methods; the bench asserts which is which); the one difference is that its two
 * syscalls are called through a per-ring field. The row measures, in fresh processes at the
 * same batches, a ring made with the option absent, one with `trace: undefined`, and, for
 * scale, one traced into a no-op function. Before/after the option existed (the tree at
 * 1f47e1a vs this one, untraced, shared): batch 1 4.52/4.48 → 4.51/4.47 M ops/s, batch 8
 * 13.75/13.42 → 13.79/13.77 M ops/s on a 2-core 6.18 box.
 */
import { spawnSync } from "bun";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Bench, type Task } from "tinybench";
import { type Cqe, IORING_SETUP_NO_MMAP, IoUring, type MemoryMode, prepNop } from "../../lib/index.ts";
import { printEnv } from "./env.ts";

/** Knobs of one run; the defaults keep the whole bench near 75 s. */
export interface NopBenchOptions {
  /** NOPs per io_uring_enter. */
  batches: number[];
  /** Memory modes to compare, each its own ring. */
  modes: MemoryMode[];
  /** NOPs per timed sample (rounded up to whole batches). */
  chunk: number;
  /** SQ size of every ring (TS and C): at least the largest batch. */
  entries: number;
  /** Unmeasured warm-up per task, ms: the JIT needs 200–500 ms to reach its top tier (FTL). */
  warmupMs: number;
  /** Measured time per task, ms (at least 64 samples are taken either way). */
  timeMs: number;
  /** The fraction of C's ops/s that TS must reach at batches ≥ targetFromBatch. */
  target: number;
  targetFromBatch: number;
  /**
   * Measure each TS cell (one mode, one batch) in a fresh `bun` process, as the C
   * yardstick runs each batch in a fresh process. In one process, the JIT's type
   * profiles mix both rings and every batch size, which costs the TS loop 5–10%
   * that a program driving one ring would not pay. false: all cells in this process.
   */
  isolate: boolean;
  /** Batches of the trace row (empty: no trace row). */
  traceBatches: number[];
  /** How many times each cell is measured (fresh processes, alternating C and TS); the table shows medians. */
  runs: number;
  /**
   * Also measure `lib/nop-bare.ts`: the same loop in TypeScript with no library in it (SQE words
   * written in place, the same FFI call), which tells what JS + bun:ffi cost from what the API adds.
   */
  bare: boolean;
}

export const DEFAULTS: NopBenchOptions = {
  batches: [1, 8, 32, 128],
  modes: ["shared", "mmap"],
  chunk: 1024,
  entries: 128,
  warmupMs: 600,
  timeMs: 800,
  target: 0.9,
  targetFromBatch: 8,
  isolate: true,
  traceBatches: [8, 32],
  runs: 3,
  bare: true,
};

/** How a trace-row ring is made: the option absent, present but undefined, or a no-op trace function. */
export type TraceVariant = "absent" | "undefined" | "noop";
const TRACE_VARIANTS: TraceVariant[] = ["absent", "undefined", "noop"];

/** One measured cell: median ops/s and how much the samples spread. */
export interface Measurement {
  opsPerSec: number;
  /** Median absolute deviation of the per-chunk samples, as a fraction of the median. */
  mad: number;
  samples: number;
  /** How many runs (processes) the figure is the median of; 1 for a single run. */
  runs?: number;
}

/** The median of numbers. */
function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[n >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** Several runs of one cell as one Measurement: the median ops/s and spread of the runs. */
export function combineRuns(ms: Measurement[]): Measurement {
  return {
    opsPerSec: median(ms.map((m) => m.opsPerSec)),
    mad: median(ms.map((m) => m.mad)),
    samples: ms.reduce((a, m) => a + m.samples, 0),
    runs: ms.length,
  };
}

export interface NopRow {
  batch: number;
  ts: Partial<Record<MemoryMode, Measurement>>;
  /** The library-free TypeScript loop (lib/nop-bare.ts), when measured. */
  bare?: Measurement;
  /** null when the C yardstick could not be built or run. */
  c: Measurement | null;
}

export interface NopResult {
  rows: NopRow[];
  /** Why the C column is missing, if it is. */
  cNote: string | null;
  /** PASS: every mode reached the target at every batch ≥ targetFromBatch. null without C. */
  pass: boolean | null;
}

const HERE = import.meta.dir;
const C_SOURCE = join(HERE, "c", "nop.c");
const BUILD_DIR = join(HERE, ".build");
const C_BINARY = join(BUILD_DIR, "nop");
const BARE = join(HERE, "lib", "nop-bare.ts");

/** Run the library-free TS loop for one batch in a fresh process. */
function runBare(batch: number, o: NopBenchOptions): Measurement {
  const args = [batch, o.warmupMs, o.timeMs, o.chunk, o.entries].map(String);
  const p = spawnSync([process.execPath, BARE, ...args], { stderr: "pipe" });
  const out = p.stdout.toString().trim();
  if (p.exitCode !== 0) throw new Error(`nop bench: ${BARE} ${args.join(" ")} failed: ${p.stderr.toString().trim() || out}`);
  return JSON.parse(out.slice(out.lastIndexOf("\n") + 1)) as Measurement;
}

/**
 * One chunk of NOP round trips on `ring`: `rounds` × (fill `batch` SQEs,
 * submitAndWait(batch), read `batch` CQEs in place, advance once). Throws if the
 * kernel hands back fewer CQEs than NOPs or any NOP fails.
 *
 * The CQEs are read with forEachCqe() — io_uring_for_each_cqe() + io_uring_cq_advance(),
 * the loop nop.c runs — rather than peekBatchCqe(), which first copies the handles into
 * an array (~1 ns/NOP more here, work the C loop does not do).
 */
function nopChunk(ring: IoUring, batch: number, rounds: number): () => void {
  let failed = 0;
  const onCqe = (cqe: Cqe) => {
    if (cqe.res < 0) failed++;
  };
  return () => {
    failed = 0;
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < batch; k++) {
        const sqe = ring.getSqe();
        if (sqe === null) throw new Error(`nop bench: SQ full at ${k} of ${batch}`);
        prepNop(sqe);
      }
      ring.submitAndWait(batch);
      const n = ring.forEachCqe(onCqe);
      if (n !== batch) throw new Error(`nop bench: ${n} CQEs ready after waiting for ${batch}`);
    }
    if (failed !== 0) throw new Error(`nop bench: ${failed} NOPs completed with an error`);
  };
}

/** Median ops/s of a finished tinybench task whose iterations are `opsPerIter` NOPs each. */
function measured(task: Task | undefined, opsPerIter: number): Measurement {
  const r = task?.result;
  if (!r || (r.state !== "completed" && r.state !== "aborted-with-statistics")) {
    const why = r?.state === "errored" ? r.error.message : (r?.state ?? "missing");
    throw new Error(`nop bench: task ${task?.name ?? "?"} did not complete: ${why}`);
  }
  const medianMs = r.latency.p50;
  return { opsPerSec: (opsPerIter * 1000) / medianMs, mad: r.latency.mad / medianMs, samples: r.latency.samplesCount };
}

// ---------------------------------------------------------------- the C yardstick

/**
 * Build `c/nop.c` with `$CC` (else `cc`) `-O2` into `.build/`. Rebuilt every run (it takes ~0.1 s), so the
 * ruler always matches its source and the compiler named in the header. Returns the binary, or why not.
 */
function buildC(): { binary: string; compiler: string } | { note: string } {
  const cc = process.env.CC || "cc";
  const compiler = Bun.which(cc);
  if (!compiler) return { note: `no C compiler (\`${cc}\`) on PATH: the C column is skipped` };
  const version = spawnSync([compiler, "--version"]).stdout.toString().split("\n")[0]?.trim() || cc;
  mkdirSync(BUILD_DIR, { recursive: true });
  const p = spawnSync([compiler, "-O2", "-Wall", "-Wextra", "-o", C_BINARY, C_SOURCE], { stderr: "pipe" });
  if (p.exitCode !== 0) {
    return { note: `building ${C_SOURCE} with ${cc} failed: the C column is skipped\n${p.stderr.toString().trim()}` };
  }
  return { binary: C_BINARY, compiler: version };
}

/** The fields of nop.c's JSON line that the table uses. */
interface CReport {
  samples: number;
  ops_per_s_median: number;
  mad_fraction: number;
}

/** Run the yardstick for one batch; its JSON has median ops/s over chunk samples, like tinybench's. */
function runC(binary: string, batch: number, o: NopBenchOptions, setupFlags: number): Measurement {
  const args = [batch, o.warmupMs, o.timeMs, o.chunk, o.entries, `0x${setupFlags.toString(16)}`].map(String);
  const p = spawnSync([binary, ...args], { stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${binary} ${args.join(" ")} failed: ${p.stderr.toString().trim()}`);
  const rep = JSON.parse(p.stdout.toString()) as CReport;
  return { opsPerSec: rep.ops_per_s_median, mad: rep.mad_fraction, samples: rep.samples };
}

// ---------------------------------------------------------------- the table

const fmtOps = (m: Measurement | null | undefined) =>
  m ? `${(m.opsPerSec / 1e6).toFixed(2)} M ±${(m.mad * 100).toFixed(1)}%` : "—";
const fmtRatio = (a: Measurement | null | undefined, b: Measurement | null | undefined) =>
  a && b ? `${((a.opsPerSec / b.opsPerSec) * 100).toFixed(1)}%` : "—";

function printTable(rows: NopRow[], modes: MemoryMode[]): void {
  const bare = rows.some((r) => r.bare);
  const head = ["batch", ...modes.map((m) => `TS ${m} ops/s`), ...(bare ? ["bare TS ops/s"] : []), "C ops/s", ...modes.map((m) => `${m}/C`)];
  if (bare) head.push("bare/C");
  if (modes.length === 2) head.push(`${modes[0]}/${modes[1]}`);
  const body = rows.map((r) => {
    const cells = [String(r.batch), ...modes.map((m) => fmtOps(r.ts[m])), ...(bare ? [fmtOps(r.bare)] : []), fmtOps(r.c), ...modes.map((m) => fmtRatio(r.ts[m], r.c))];
    if (bare) cells.push(fmtRatio(r.bare, r.c));
    if (modes.length === 2) cells.push(fmtRatio(r.ts[modes[0]!], r.ts[modes[1]!]));
    return cells;
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  console.log(line(head));
  console.log(`|${widths.map((wd, i) => (i === 0 ? "-".repeat(wd + 2) : `${"-".repeat(wd + 1)}:`)).join("|")}|`);
  for (const b of body) console.log(line(b));
}

// ---------------------------------------------------------------- run

/** Measure one TS cell with tinybench in this process: `o.warmupMs` of warm-up, then `o.timeMs` of chunks. */
export function measureTs(mode: MemoryMode, batch: number, o: NopBenchOptions, variant: TraceVariant = "absent"): Measurement {
  const rounds = Math.ceil(o.chunk / batch);
  const ring =
    variant === "absent"
      ? new IoUring(o.entries, { memory: mode })
      : new IoUring(o.entries, { memory: mode, trace: variant === "noop" ? () => {} : undefined });
  // the zero-cost claim, checked where it is measured: only a traced ring has methods of its own
  if ((variant === "noop") !== Object.hasOwn(ring, "submitAndWait")) throw new Error(`nop bench: ${variant} ring has the wrong methods`);
  try {
    const bench = new Bench({
      name: `nop ${mode} batch ${batch}`,
      time: o.timeMs,
      iterations: 64,
      warmup: true,
      warmupTime: o.warmupMs,
      warmupIterations: 16,
      timestampProvider: "auto",
      throws: true,
    });
    bench.add("TS", nopChunk(ring, batch, rounds), { async: false });
    bench.runSync();
    return measured(bench.getTask("TS"), rounds * batch);
  } finally {
    ring.close();
  }
}

/** measureTs() in a fresh `bun` process running this file with `--cell`. */
function measureTsIsolated(mode: MemoryMode, batch: number, o: NopBenchOptions, variant: TraceVariant = "absent"): Measurement {
  const args = [process.execPath, import.meta.path, "--cell", mode, String(batch), JSON.stringify(o), variant];
  const p = spawnSync(args, { stderr: "pipe" });
  const out = p.stdout.toString().trim();
  if (p.exitCode !== 0) throw new Error(`nop bench: the ${mode} batch ${batch} cell failed: ${p.stderr.toString().trim() || out}`);
  return JSON.parse(out.slice(out.lastIndexOf("\n") + 1)) as Measurement;
}

/**
 * Measure, print the table and the verdict, and return the numbers.
 * Per batch, the cells run back to back (TS in each mode, then C), so drift on a busy machine hits them alike.
 * @throws if io_uring is unavailable or a round trip misbehaves.
 */
export async function run(options: Partial<NopBenchOptions> = {}): Promise<NopResult> {
  const o: NopBenchOptions = { ...DEFAULTS, ...options };
  const maxBatch = Math.max(...o.batches);
  if (maxBatch > o.entries) throw new RangeError(`nop bench: batch ${maxBatch} exceeds entries ${o.entries}`);

  // One ring per mode up front: a mode this kernel lacks ("shared" needs Linux 6.5) is dropped with a note,
  // and the setup flags get printed. The C ring takes the TS mmap ring's flags (e.g. NO_SQARRAY) so the
  // kernel does the same work; the C yardstick always maps its rings, so never NO_MMAP.
  const flags = new Map<MemoryMode, number>();
  const notes: string[] = [];
  for (const mode of o.modes) {
    try {
      const ring = new IoUring(o.entries, { memory: mode });
      flags.set(mode, ring.flags);
      ring.close();
    } catch (err) {
      notes.push(`TS ${mode}: unavailable here, skipped (${(err as Error).message})`);
    }
  }
  const modes = [...flags.keys()];
  if (modes.length === 0) throw new Error(`nop bench: no memory mode works here: ${notes.join("; ")}`);
  const cFlags = ((flags.get("mmap") ?? flags.get(modes[0]!)!) & ~IORING_SETUP_NO_MMAP) >>> 0;

  const built = buildC();
  const cNote = "note" in built ? built.note : null;
  console.log(
    `\n## nop: NOP round trip, ${o.chunk} NOPs per sample, ring of ${o.entries}, ` +
      `${o.warmupMs} ms warm-up + ${o.timeMs} ms per cell${o.isolate ? ", one process per cell" : ""}, ` +
      `medians of ${o.runs} run${o.runs === 1 ? "" : "s"} (C and TS alternating)`,
  );
  for (const [mode, f] of flags) console.log(`TS ${mode}: setup flags 0x${f.toString(16)}`);
  for (const note of notes) console.log(note);
  if ("binary" in built) console.log(`C: ${built.compiler}, -O2, setup flags 0x${cFlags.toString(16)}`);
  else console.log(`C: ${cNote}`);

  const rows: NopRow[] = [];
  for (const batch of o.batches) {
    // every cell `runs` times, C and each TS mode alternating, the order rotated each run
    const cells: { key: MemoryMode | "C" | "bare"; measure: () => Measurement }[] = modes.map((mode) => ({
      key: mode,
      measure: () => (o.isolate ? measureTsIsolated(mode, batch, o) : measureTs(mode, batch, o)),
    }));
    if (o.bare && modes.includes("shared")) cells.push({ key: "bare", measure: () => runBare(batch, o) });
    if ("binary" in built) cells.push({ key: "C", measure: () => runC(built.binary, batch, o, cFlags) });
    const got = new Map<MemoryMode | "C" | "bare", Measurement[]>(cells.map((c) => [c.key, []]));
    const runs = Math.max(1, o.runs);
    for (let r = 0; r < runs; r++) {
      for (let k = 0; k < cells.length; k++) {
        const cell = cells[(k + r) % cells.length]!;
        got.get(cell.key)!.push(cell.measure());
      }
    }
    const row: NopRow = { batch, ts: {}, c: null };
    for (const mode of modes) row.ts[mode] = combineRuns(got.get(mode)!);
    if (got.get("C")?.length) row.c = combineRuns(got.get("C")!);
    if (got.get("bare")?.length) row.bare = combineRuns(got.get("bare")!);
    rows.push(row);
    process.stderr.write(`  batch ${batch} done\n`);
  }

  console.log("");
  printTable(rows, modes);

  let pass: boolean | null = null;
  if (cNote === null) {
    const short: string[] = [];
    for (const r of rows) {
      if (r.batch < o.targetFromBatch || !r.c) continue;
      for (const mode of modes) {
        const ratio = r.ts[mode]!.opsPerSec / r.c.opsPerSec;
        if (ratio < o.target) short.push(`${mode} at batch ${r.batch} (${(ratio * 100).toFixed(1)}%)`);
      }
    }
    pass = short.length === 0;
    const goal = `TS ≥ ${o.target * 100}% of C at batch ≥ ${o.targetFromBatch}`;
    console.log(`\n${pass ? "PASS" : "SHORT"}: ${goal}${pass ? "" : ` — short: ${short.join(", ")}`}`);
  } else {
    console.log("\nno verdict: the C yardstick did not run");
  }
  console.log(
    "(±: median absolute deviation of the per-chunk samples, median over the runs; machines with few, busy cores spread more)",
  );
  if (rows.some((r) => r.bare)) {
    console.log("(bare TS: the same loop with no library in it — test/bench/lib/nop-bare.ts — what JS + bun:ffi alone cost)");
  }
  if (o.traceBatches.length) traceRow(modes[0]!, o);
  return { rows, cNote, pass };
}

/**
 * The trace row: NOP round trips on rings made with the trace option absent, `trace: undefined`
 * and a no-op trace function, each batch's three cells back to back.
 */
function traceRow(mode: MemoryMode, o: NopBenchOptions): void {
  console.log(`\n## trace: the cost of the trace option (${mode}), ops/s`);
  const head = ["batch", "option absent", "trace: undefined", "undefined/absent", "trace: () => {}", "traced/absent"];
  const body: string[][] = [];
  for (const batch of o.traceBatches) {
    const m = Object.fromEntries(
      TRACE_VARIANTS.map((v) => [v, o.isolate ? measureTsIsolated(mode, batch, o, v) : measureTs(mode, batch, o, v)]),
    ) as Record<TraceVariant, Measurement>;
    body.push([String(batch), fmtOps(m.absent), fmtOps(m.undefined), fmtRatio(m.undefined, m.absent), fmtOps(m.noop), fmtRatio(m.noop, m.absent)]);
    process.stderr.write(`  trace batch ${batch} done\n`);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  console.log(line(head));
  console.log(`|${widths.map((wd, i) => (i === 0 ? "-".repeat(wd + 2) : `${"-".repeat(wd + 1)}:`)).join("|")}|`);
  for (const b of body) console.log(line(b));
  console.log("(untraced rings run the prototype's methods — the same code with or without the option; a traced ring's own methods pay for the events)");
}

if (import.meta.main) {
  const cell = process.argv.indexOf("--cell");
  if (cell >= 0) {
    // A child of measureTsIsolated(): one cell, its Measurement as the last line of stdout.
    const [mode, batch, opts, variant] = process.argv.slice(cell + 1);
    const o: NopBenchOptions = { ...DEFAULTS, ...(JSON.parse(opts ?? "{}") as Partial<NopBenchOptions>) };
    console.log(JSON.stringify(measureTs(mode as MemoryMode, Number(batch), o, (variant ?? "absent") as TraceVariant)));
  } else {
    printEnv();
    await run();
  }
}
