/**
 * Wake-up latency and idle cost of the `Uring` Promise tier.
 *
 * Latency, "the kernel completed it → the awaiting code runs", median and p99 in µs:
 * - `Uring.read` on a FIFO that another process writes every ~1 ms; each
 *   8-byte message carries CLOCK_MONOTONIC taken just before its write(2),
 *   and the reader takes the same clock in its continuation (see
 *   `lib/wake-writer.ts`, `lib/clock.ts`), so one sample = pipe write + kernel completion +
 *   eventfd → Bun's poller → reap → promise → continuation;
 * - `Uring.sleep(1)` minus 1 ms (an IORING_OP_TIMEOUT, timed by the kernel);
 * - for comparison, the same FIFO read through Bun's own poller
 *   (`Bun.file(fd).stream()`, the mechanism `Uring` uses for its eventfd),
 *   `Bun.sleep(1)` minus 1 ms, and the floor without any event loop: the raw
 *   tier blocking in io_uring_enter (`submitAndWait(1)`) on the FIFO read or
 *   on a 1 ms IORING_OP_TIMEOUT.
 * Each latency cell is one tinybench task in a fresh process whose iterations
 * report the measured latency (`overriddenDuration`), after a warm-up.
 *
 * Idle CPU: a process holding a `Uring` with one pending `io.sleep(3000)`
 * against an idle Bun process waiting on `setTimeout(3000)` (and, to tell the
 * ring from the pending op, one holding a `Uring` with nothing in flight);
 * all run at the same time, three rounds, each window opening after 1.5 s of
 * quiet and closing on a `setTimeout(3000)` in every process alike (see
 * `measureIdle`), and report the CPU time (user + sys, all threads,
 * `process.cpuUsage()`) and the threads' context switches in that window.
 *
 * Usage: `bun run bench wakeup`, or `bun test/bench/wakeup.bench.ts`.
 * Targets (the issue): Uring wake-up median ≤ 10 µs; the Uring process's idle
 * CPU within 1 ms of the idle Bun process's over 3 s.
 */
import { spawn, spawnSync } from "bun";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, constants as fsc } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Bench } from "tinybench";
import { type Cqe, IoUring, prepRead, prepTimeout, Timespec, Uring } from "../../lib/index.ts";
import { printEnv } from "./env.ts";
import { monotonicNs } from "./lib/clock.ts";
import { cellArgs, fmtUs, type LatencyUs, latencyOf, median, printTable, printVerdicts, runCell, type Verdict } from "./lib/report.ts";

export type LatencyKind = "uring-fifo" | "bun-fifo" | "raw-fifo" | "uring-sleep" | "bun-sleep" | "raw-sleep";
export type IdleKind = "uring" | "uring-empty" | "bun";

const LATENCY_LABEL: Record<LatencyKind, string> = {
  "uring-fifo": "Uring.read on a FIFO another process writes",
  "uring-sleep": "Uring.sleep(1) − 1 ms",
  "bun-fifo": "Bun.file(fifo).stream() read (Bun's poller)",
  "bun-sleep": "Bun.sleep(1) − 1 ms",
  "raw-fifo": "raw IoUring read, blocking submitAndWait(1)",
  "raw-sleep": "raw IoUring 1 ms timeout, blocking − 1 ms",
};
const IDLE_LABEL: Record<IdleKind, string> = {
  uring: "Uring with an io.sleep pending, setTimeout(ms)",
  "uring-empty": "Uring, nothing in flight, setTimeout(ms)",
  bun: "no Uring, setTimeout(ms)",
};
const IDLE_KINDS: IdleKind[] = ["uring", "uring-empty", "bun"];

export interface WakeupBenchOptions {
  latencyKinds: LatencyKind[];
  /** Unmeasured warm-up samples per latency cell. */
  warmupSamples: number;
  /** Measured samples per latency cell (a FIFO sample takes ~intervalMs, a sleep sample ~1 ms). */
  samples: number;
  /** The FIFO writer's pause between messages, ms. */
  intervalMs: number;
  /** The idle window, ms. */
  idleMs: number;
  idleRounds: number;
  /**
   * Quiet time after start-up before the idle window opens, ms. Start-up garbage (module loading,
   * ring setup) is collected by JSC's GC timers in the first second or so; a window opened earlier
   * measures that, not idleness.
   */
  settleMs: number;
  /** Targets. */
  medianTargetUs: number;
  idleTargetMs: number;
}

export const DEFAULTS: WakeupBenchOptions = {
  latencyKinds: ["uring-fifo", "bun-fifo", "raw-fifo", "uring-sleep", "bun-sleep", "raw-sleep"],
  warmupSamples: 100,
  samples: 1000,
  intervalMs: 1,
  idleMs: 3000,
  idleRounds: 3,
  settleMs: 1500,
  medianTargetUs: 10,
  idleTargetMs: 1,
};

const HERE = import.meta.dir;
const WRITER = join(HERE, "lib", "wake-writer.ts");

/** A FIFO in a fresh temp dir (outside the repo), opened O_RDWR so open() never blocks and EOF never comes. */
function makeFifo(): { fd: number; path: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "bun-uring-wakeup-"));
  const path = join(dir, "fifo");
  const mk = spawnSync(["mkfifo", path], { stderr: "pipe" });
  if (mk.exitCode !== 0) throw new Error(`wakeup bench: mkfifo failed: ${mk.stderr.toString().trim()}`);
  const fd = openSync(path, fsc.O_RDWR);
  return {
    fd,
    path,
    cleanup: () => {
      try {
        closeSync(fd);
      } catch {
        // already closed by a stream
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const nowNs = monotonicNs;
const sinceMs = (sentNs: bigint) => Number(nowNs() - sentNs) / 1e6;

/** Measure one latency cell in this process. */
export async function measureLatency(kind: LatencyKind, o: WakeupBenchOptions): Promise<LatencyUs> {
  // The samples are latencies handed back as `overriddenDuration`, which tinybench also counts against its
  // time budget: a budget of ~0 makes the iteration counts decide how long a cell runs.
  const bench = new Bench({
    name: `wakeup ${kind}`,
    time: 1e-3,
    iterations: o.samples,
    warmup: true,
    warmupTime: 1e-3,
    warmupIterations: o.warmupSamples,
    throws: true,
  });
  const cleanups: (() => void | Promise<void>)[] = [];
  try {
    if (kind === "raw-sleep") {
      const ring = new IoUring(4);
      cleanups.push(() => ring.close());
      const ts = new Timespec(1);
      const cqes: Cqe[] = [];
      bench.add(kind, () => {
        const t0 = nowNs();
        prepTimeout(ring.getSqeOrThrow(), ts, 0, 0);
        ring.submitAndWait(1);
        const ms = sinceMs(t0) - 1;
        ring.peekBatchCqe(cqes, 1);
        const res = cqes[0]!.res;
        ring.cqAdvance(1);
        if (res !== -62) throw new Error(`wakeup bench: the raw timeout completed with ${res}, expected -ETIME`);
        return { overriddenDuration: ms };
      }, { async: false });
      bench.runSync();
      return latencyOf(bench.getTask(kind), "wakeup bench");
    }
    if (kind === "uring-sleep" || kind === "bun-sleep") {
      const io = kind === "uring-sleep" ? new Uring() : null;
      if (io) cleanups.push(() => io.close());
      bench.add(kind, async () => {
        const t0 = nowNs();
        if (io) await io.sleep(1);
        else await Bun.sleep(1);
        return { overriddenDuration: sinceMs(t0) - 1 };
      }, { async: true });
      await bench.run();
      return latencyOf(bench.getTask(kind), "wakeup bench");
    }

    const fifo = makeFifo();
    cleanups.push(fifo.cleanup);
    const writer = spawn([process.execPath, WRITER, fifo.path, String(o.intervalMs), "60"], { stdout: "ignore", stderr: "inherit" });
    cleanups.unshift(() => writer.kill());
    const msg = new BigUint64Array(1);
    const bytes = new Uint8Array(msg.buffer);

    if (kind === "uring-fifo") {
      const io = new Uring();
      cleanups.unshift(() => io.close());
      bench.add(kind, async () => {
        const n = await io.read(fifo.fd, bytes, null);
        const ms = sinceMs(msg[0]!);
        if (n !== 8) throw new Error(`wakeup bench: read ${n} bytes from the FIFO, expected 8`);
        return { overriddenDuration: ms };
      }, { async: true });
      await bench.run();
    } else if (kind === "raw-fifo") {
      const ring = new IoUring(4);
      cleanups.unshift(() => ring.close());
      const cqes: Cqe[] = [];
      bench.add(kind, () => {
        prepRead(ring.getSqeOrThrow(), fifo.fd, bytes, -1);
        ring.submitAndWait(1);
        const ms = sinceMs(msg[0]!);
        ring.peekBatchCqe(cqes, 1);
        const res = cqes[0]!.res;
        ring.cqAdvance(1);
        if (res !== 8) throw new Error(`wakeup bench: raw read returned ${res}, expected 8`);
        return { overriddenDuration: ms };
      }, { async: false });
      bench.runSync();
    } else {
      // Bun's poller: chunks may hold several messages; each gets its latency as its chunk arrives.
      const reader = Bun.file(fifo.fd).stream().getReader();
      cleanups.unshift(() => reader.cancel());
      const ready: number[] = [];
      let carry = new Uint8Array(0);
      bench.add(kind, async () => {
        while (ready.length === 0) {
          const { value, done } = await reader.read();
          if (done || !value) throw new Error("wakeup bench: the FIFO stream ended");
          const at = nowNs();
          const all = carry.length ? new Uint8Array([...carry, ...value]) : value;
          const whole = all.length - (all.length % 8);
          const view = new DataView(all.buffer, all.byteOffset, whole);
          for (let k = 0; k < whole; k += 8) ready.push(Number(at - view.getBigUint64(k, true)) / 1e6);
          carry = all.slice(whole);
        }
        return { overriddenDuration: ready.shift()! };
      }, { async: true });
      await bench.run();
    }
    return latencyOf(bench.getTask(kind), "wakeup bench");
  } finally {
    for (const c of cleanups) await c();
  }
}

/** What an idle cell reports about its window. */
export interface IdleCell {
  cpuMs: number;
  wallMs: number;
  /** Voluntary + involuntary context switches of all threads during the window. */
  ctxSwitches: number;
}

function ctxSwitches(): number {
  let n = 0;
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const s = readFileSync(`/proc/self/task/${tid}/status`, "utf8");
      for (const m of s.matchAll(/^(?:non)?voluntary_ctxt_switches:\s*(\d+)$/gm)) n += Number(m[1]);
    } catch {
      // the thread exited meanwhile
    }
  }
  return n;
}

/**
 * One idle window in this process. Every kind loads the same modules (this file); "uring" and
 * "uring-empty" also create a Uring; only "uring" has an operation in flight: an `io.sleep` that
 * outlasts the window. The window is opened 100 ms after that op went in (its eventfd watcher is
 * armed by then) and closed, in every kind alike, by a `setTimeout(idleMs)`, so the only wake-up
 * inside it is the same timer in each process; the pending op is cancelled after the window.
 * (Letting the op's own completion close the window adds the one-time cost of its first, cold
 * completion path — about 1 ms of CPU — which is not idle cost.)
 */
export async function measureIdle(kind: IdleKind, o: WakeupBenchOptions): Promise<IdleCell> {
  const io = kind === "bun" ? null : new Uring();
  await Bun.sleep(o.settleMs);
  const pending = kind === "uring" ? io!.sleep(o.idleMs + 2000).catch(() => undefined) : null;
  await new Promise<void>((resolve) => setImmediate(resolve));
  await Bun.sleep(100);
  if (io && io.inFlight !== (kind === "uring" ? 1 : 0)) throw new Error(`wakeup bench: unexpected ${io.inFlight} ops in flight`);
  const c0 = process.cpuUsage();
  const s0 = ctxSwitches();
  const t0 = performance.now();
  await new Promise<void>((resolve) => setTimeout(resolve, o.idleMs));
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const ctx = ctxSwitches() - s0;
  if (io && io.inFlight !== (kind === "uring" ? 1 : 0)) throw new Error("wakeup bench: the pending op ended inside the idle window");
  await io?.close(); // cancels the pending sleep
  await pending;
  return { cpuMs: (c.user + c.system) / 1000, wallMs, ctxSwitches: ctx };
}

/** Every idle kind at the same time, each in its own fresh process. */
async function idleRound(o: WakeupBenchOptions): Promise<Record<IdleKind, IdleCell>> {
  const kinds = IDLE_KINDS;
  const procs = kinds.map((kind) =>
    spawn([process.execPath, import.meta.path, "--cell", "idle", kind, JSON.stringify(o)], { stdout: "pipe", stderr: "pipe" }),
  );
  const out = await Promise.all(
    procs.map(async (p, k) => {
      const [text, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      if (code !== 0) throw new Error(`wakeup bench: idle ${kinds[k]} failed: ${err.trim() || text.trim()}`);
      const t = text.trim();
      return JSON.parse(t.slice(t.lastIndexOf("\n") + 1)) as IdleCell;
    }),
  );
  return { uring: out[0]!, "uring-empty": out[1]!, bun: out[2]! };
}

export interface WakeupResult {
  latency: Partial<Record<LatencyKind, LatencyUs>>;
  idle: Record<IdleKind, IdleCell>[];
  verdicts: Verdict[];
}

/** Measure, print the tables and the verdicts, and return the numbers. */
export async function run(options: Partial<WakeupBenchOptions> = {}): Promise<WakeupResult> {
  const o: WakeupBenchOptions = { ...DEFAULTS, ...options };
  console.log(
    `\n## wakeup: submit → continuation latency (µs; ${o.warmupSamples} warm-up + ${o.samples} samples per cell, one process per cell, ` +
      `FIFO written every ${o.intervalMs} ms by another process) and idle CPU over ${o.idleMs / 1000} s`,
  );
  const latency: Partial<Record<LatencyKind, LatencyUs>> = {};
  for (const kind of o.latencyKinds) {
    latency[kind] = runCell<LatencyUs>(import.meta.path, ["latency", kind, JSON.stringify(o)], `wakeup bench ${kind}`);
  }
  process.stderr.write("  latency done\n");
  const idle: Record<IdleKind, IdleCell>[] = [];
  for (let r = 0; r < o.idleRounds; r++) idle.push(await idleRound(o));
  process.stderr.write("  idle done\n");

  console.log("");
  printTable(
    ["wake-up latency", "median", "p99", "min", "samples"],
    o.latencyKinds.map((k) => {
      const l = latency[k]!;
      return [LATENCY_LABEL[k], fmtUs(l.p50), fmtUs(l.p99), fmtUs(l.min), String(l.samples)];
    }),
  );

  console.log("");
  const cpuOf = (k: IdleKind) => median(idle.map((r) => r[k].cpuMs));
  printTable(
    [`idle ${o.idleMs / 1000} s, ${o.idleRounds} rounds side by side`, "CPU (median)", "CPU each round", "ctx switches each round"],
    IDLE_KINDS.map((k) => [
      IDLE_LABEL[k].replace("(ms)", `(${o.idleMs})`),
      `${cpuOf(k).toFixed(2)} ms`,
      idle.map((r) => r[k].cpuMs.toFixed(2)).join(", "),
      idle.map((r) => String(r[k].ctxSwitches)).join(", "),
    ]),
  );

  const verdicts: Verdict[] = [];
  for (const k of ["uring-fifo", "uring-sleep"] as const) {
    const l = latency[k];
    if (!l) continue;
    verdicts.push({
      goal: `wake-up median ≤ ${o.medianTargetUs} µs (${LATENCY_LABEL[k]})`,
      pass: l.p50 <= o.medianTargetUs,
      got: `median ${fmtUs(l.p50)}, p99 ${fmtUs(l.p99)}`,
    });
  }
  const extra = cpuOf("uring") - cpuOf("bun");
  verdicts.push({
    goal: `idle CPU of the Uring process within ${o.idleTargetMs} ms of an idle Bun process over ${o.idleMs / 1000} s`,
    pass: extra <= o.idleTargetMs,
    got: `${cpuOf("uring").toFixed(2)} ms vs ${cpuOf("bun").toFixed(2)} ms (${extra >= 0 ? "+" : ""}${extra.toFixed(2)} ms)`,
  });
  console.log("");
  printVerdicts(verdicts);
  console.log("(latency samples are per message/sleep; the FIFO rows include the writer's write(2), a few µs)");
  return { latency, idle, verdicts };
}

if (import.meta.main) {
  const cell = cellArgs();
  if (cell) {
    const [what, kind, opts] = cell;
    const o: WakeupBenchOptions = { ...DEFAULTS, ...(JSON.parse(opts ?? "{}") as Partial<WakeupBenchOptions>) };
    const result = what === "idle" ? await measureIdle(kind as IdleKind, o) : await measureLatency(kind as LatencyKind, o);
    console.log(JSON.stringify(result));
    process.exit(0);
  } else {
    printEnv();
    await run();
  }
}
