/**
 * What the read, echo and wakeup benches share: turning a tinybench task into
 * a median throughput, order statistics over plain samples, a markdown table
 * with right-aligned number columns, the PASS/SHORT line, and running one
 * measurement cell in a fresh `bun` process (so the JIT profiles of different
 * cells never mix, as in `nop.bench.ts`).
 */
import { spawnSync } from "bun";
import type { Task } from "tinybench";

/** One measured throughput cell: median ops/s and how much the samples spread. */
export interface Measurement {
  opsPerSec: number;
  /** Spread of the samples as a fraction of the median (median absolute deviation, unless `spread` says otherwise). */
  mad: number;
  samples: number;
}

/** Median ops/s of a finished tinybench task whose iterations are `opsPerIter` operations each. */
export function throughput(task: Task | undefined, opsPerIter: number, what: string): Measurement {
  const r = task?.result;
  if (!r || (r.state !== "completed" && r.state !== "aborted-with-statistics")) {
    const why = r?.state === "errored" ? r.error.message : (r?.state ?? "missing");
    throw new Error(`${what}: task ${task?.name ?? "?"} did not complete: ${why}`);
  }
  const medianMs = r.latency.p50;
  return { opsPerSec: (opsPerIter * 1000) / medianMs, mad: r.latency.mad / medianMs, samples: r.latency.samplesCount };
}

/** Latency statistics of a finished tinybench task whose samples are per-event latencies (`overriddenDuration`), in µs. */
export interface LatencyUs {
  p50: number;
  p99: number;
  min: number;
  max: number;
  samples: number;
}

export function latencyOf(task: Task | undefined, what: string): LatencyUs {
  const r = task?.result;
  if (!r || (r.state !== "completed" && r.state !== "aborted-with-statistics")) {
    const why = r?.state === "errored" ? r.error.message : (r?.state ?? "missing");
    throw new Error(`${what}: task ${task?.name ?? "?"} did not complete: ${why}`);
  }
  const l = r.latency;
  return { p50: l.p50 * 1000, p99: l.p99 * 1000, min: l.min * 1000, max: l.max * 1000, samples: l.samplesCount };
}

/** The q-quantile (0…1) of `xs` by linear interpolation; NaN for no samples. */
export function quantile(xs: ArrayLike<number>, q: number): number {
  const s = Array.from(xs).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export const median = (xs: ArrayLike<number>) => quantile(xs, 0.5);

/** Median absolute deviation. */
export function mad(xs: ArrayLike<number>): number {
  const m = median(xs);
  return median(Array.from(xs, (x) => Math.abs(x - m)));
}

// ---------------------------------------------------------------- formatting

export const fmtM = (ops: number) => `${(ops / 1e6).toFixed(2)} M`;
export const fmtOps = (m: Measurement | null | undefined) => (m ? `${fmtM(m.opsPerSec)} ±${(m.mad * 100).toFixed(1)}%` : "—");
export const fmtPct = (x: number) => `${(x * 100).toFixed(0)}%`;
export const fmtRatio = (a: number | null | undefined, b: number | null | undefined) =>
  a != null && b != null && b > 0 ? `${(a / b).toFixed(2)}×` : "—";
export const fmtUs = (us: number | null | undefined) => (us == null || Number.isNaN(us) ? "—" : `${us.toFixed(1)} µs`);

/** Print a markdown table: the first column left-aligned, the others right-aligned (numbers). */
export function printTable(head: string[], body: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  console.log(line(head));
  console.log(`|${widths.map((wd, i) => (i === 0 ? "-".repeat(wd + 2) : `${"-".repeat(wd + 1)}:`)).join("|")}|`);
  for (const b of body) console.log(line(head.map((_, i) => b[i] ?? "")));
}

/** One target's verdict line: PASS, SHORT (with what fell short), or why there is none. */
export interface Verdict {
  goal: string;
  /** null: could not be decided (a yardstick was missing). */
  pass: boolean | null;
  /** The measured value(s), printed after the goal. */
  got: string;
  /** Why there is no verdict, when pass is null. */
  note?: string;
}

export function printVerdicts(verdicts: Verdict[]): void {
  for (const v of verdicts) {
    const word = v.pass === null ? "NO VERDICT" : v.pass ? "PASS" : "SHORT";
    console.log(`${word}: ${v.goal} — ${v.pass === null ? (v.note ?? "not measured") : v.got}`);
  }
}

// ---------------------------------------------------------------- isolated cells

/**
 * Run `file --cell ...args` in a fresh `bun` and parse the last line of its stdout as JSON.
 * @throws with the child's stderr when it exits non-zero or prints no JSON.
 */
export function runCell<T>(file: string, args: string[], what: string, timeoutMs = 60_000): T {
  const p = spawnSync([process.execPath, file, "--cell", ...args], { stderr: "pipe", timeout: timeoutMs });
  const out = p.stdout.toString().trim();
  if (p.exitCode !== 0) {
    throw new Error(`${what}: the cell failed (exit ${p.exitCode ?? p.signalCode}): ${p.stderr.toString().trim() || out}`);
  }
  const last = out.slice(out.lastIndexOf("\n") + 1);
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`${what}: the cell printed no JSON result: ${out.slice(-500)} ${p.stderr.toString().trim()}`);
  }
}

/** The value after `--cell` on this process's command line, as [args…], or null when this is not a cell. */
export function cellArgs(): string[] | null {
  const k = process.argv.indexOf("--cell");
  return k >= 0 ? process.argv.slice(k + 1) : null;
}
