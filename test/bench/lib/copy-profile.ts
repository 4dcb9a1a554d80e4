/**
 * Where a cold `copyTree()` of the 10,000 × 4 KiB tree spends its time: one copy, measured exactly as
 * the copy bench's "cold call" cell (fresh `bun`, page cache warm, synced, fresh block group), run
 *
 * 1. plain, a few times: wall time and user/sys CPU of the call (getrusage over all threads);
 * 2. under `bun --cpu-prof`: the JS side — self time by function and by file, with the profiler's
 *    "(program)" (native code: FFI calls, syscalls made from JS, the runtime) and
 *    "(garbage collector)" buckets;
 * 3. under `perf record` when `perf` is on PATH: the kernel side — the top kernel symbols by self
 *    samples over the whole process (io-wq workers included).
 *
 * Usage: `bun test/bench/lib/copy-profile.ts [--place disk|tmpfs] [--runs N] [--keep DIR]`
 * (`--keep` copies the .cpuprofile and perf.data there). Everything else lives in a scratch
 * workspace under `os.tmpdir()`, removed at the end. The profiler slows JS down a little (1 ms
 * sampling); read its table as shares, and the plain runs for absolute time. A `cp -r` of the
 * same tree runs beside the plain calls as a yardstick: on ext4, run this at least 6 minutes after
 * anything (the copy bench, this tool) deleted many files, or both numbers include the allocator
 * skipping freshly freed inodes.
 */
import { spawnSync } from "bun";
import { cpSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { discard, makeSmallTree, sync, warm, Workspace } from "./copy-data.ts";
import type { CellResult } from "./copy-methods.ts";
import { median, printTable } from "./report.ts";

const BENCH_FILE = join(import.meta.dir, "..", "copy.bench.ts");
const REPO = resolve(import.meta.dir, "..", "..", "..");

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time (ms) per function and per file from a Chrome-format .cpuprofile. */
export function summariseProfile(profile: CpuProfile): {
  totalMs: number;
  byFunction: { name: string; where: string; ms: number }[];
  byFile: { file: string; ms: number }[];
} {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, k) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[k] ?? 0) / 1000));
  const fn = new Map<string, { name: string; where: string; ms: number }>();
  const file = new Map<string, number>();
  let totalMs = 0;
  for (const [id, ms] of self) {
    const f = byId.get(id)!.callFrame;
    totalMs += ms;
    const path = f.url.startsWith("file://") ? f.url.slice("file://".length) : f.url;
    const url = path.startsWith(`${REPO}/`) ? path.slice(REPO.length + 1) : path;
    const where = url ? `${url}:${f.lineNumber + 1}` : "";
    const key = `${f.functionName}@${where}`;
    const e = fn.get(key) ?? { name: f.functionName || "(anonymous)", where, ms: 0 };
    e.ms += ms;
    fn.set(key, e);
    const fileKey = url || f.functionName || "(anonymous)";
    file.set(fileKey, (file.get(fileKey) ?? 0) + ms);
  }
  return {
    totalMs,
    byFunction: [...fn.values()].sort((a, b) => b.ms - a.ms),
    byFile: [...file].map(([f, ms]) => ({ file: f, ms })).sort((a, b) => b.ms - a.ms),
  };
}

function perfReport(data: string, sort: string): string[] {
  const p = spawnSync(["perf", "report", "-i", data, "--no-children", "--sort", sort, "--stdio", "-g", "none"], { stderr: "ignore" });
  return p.stdout.toString().split("\n");
}

/** Top kernel symbols (self samples) of a perf.data, as [symbol, percent]. */
function perfKernelTop(data: string, n: number): [string, string][] {
  const out: [string, string][] = [];
  for (const line of perfReport(data, "symbol")) {
    const m = line.match(/^\s+([\d.]+%)\s+\[k\]\s+(\S+)/);
    if (m) out.push([m[2]!, m[1]!]);
    if (out.length >= n) break;
  }
  return out;
}

/** Self samples by thread and by kernel/user, as [thread, side, percent]: who burns the CPU. */
function perfByThread(data: string, n: number): [string, string, string][] {
  const sum = new Map<string, number>();
  for (const line of perfReport(data, "comm,dso")) {
    const m = line.match(/^\s+([\d.]+)%\s+(.+?)\s{2,}(\S.*?)\s*$/);
    if (!m) continue;
    const comm = m[2]!.trim().replace(/^iou-wrk-\d+$/, "iou-wrk (io-wq workers)").replace(/^bun(\.exe)?$/, "bun (main thread)");
    const dso = m[3]!.startsWith("[kernel") ? "kernel" : m[3]!.startsWith("[JIT]") ? "user, JIT code" : "user";
    const key = `${comm}\t${dso}`;
    sum.set(key, (sum.get(key) ?? 0) + Number(m[1]));
  }
  return [...sum]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, pct]) => {
      const [comm, dso] = k.split("\t") as [string, string];
      return [comm, dso, `${pct.toFixed(1)}%`];
    });
}

function parseArgs(argv: string[]): { place: "disk" | "tmpfs"; runs: number; keep: string | null } {
  const get = (flag: string) => {
    const k = argv.indexOf(flag);
    return k >= 0 ? argv[k + 1] : undefined;
  };
  const place = (get("--place") ?? "disk") as "disk" | "tmpfs";
  if (place !== "disk" && place !== "tmpfs") throw new Error(`--place: disk or tmpfs, not ${place}`);
  return { place, runs: Number(get("--runs") ?? 3), keep: get("--keep") ?? null };
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  const o = parseArgs(argv);
  const ws = new Workspace({ tmpfs: o.place === "tmpfs", tmpfsSize: "1g" });
  try {
    const place = ws.places.find((p) => p.id === o.place);
    if (!place) throw new Error(`no ${o.place} place here: ${ws.tmpfsNote ?? "?"}`);
    const src = join(place.root, "src-tree");
    makeSmallTree(src);
    sync();
    if (o.keep) mkdirSync(o.keep, { recursive: true });
    let n = 0;
    /** One cold copyTree cell (`wrap` before bun, e.g. perf; `bunFlags` after it, e.g. --cpu-prof). */
    const cell = (wrap: string[] = [], bunFlags: string[] = []): { r: CellResult; wallMs: number } => {
      const dst = join(place.root, `copy-${++n}`);
      warm(src);
      sync();
      const req = JSON.stringify({ kind: "copyTree", src, dst, trash: place.trash });
      const t0 = performance.now();
      const p = spawnSync([...wrap, process.execPath, ...bunFlags, BENCH_FILE, "--cell", req], { stdout: "pipe", stderr: "pipe", timeout: 60_000 });
      const wallMs = performance.now() - t0;
      if (p.exitCode !== 0) throw new Error(`copyTree cell failed (exit ${p.exitCode ?? p.signalCode}): ${p.stderr.toString().slice(-500)}`);
      const out = p.stdout.toString().trim();
      discard(dst, place.trash);
      return { r: JSON.parse(out.slice(out.lastIndexOf("\n") + 1)) as CellResult, wallMs };
    };

    /** `cp -r` of the same tree, same preparation: the yardstick, and a check on the filesystem's state. */
    const cpR = (): { ms: number; sysMs: number } => {
      const dst = join(place.root, `copy-${++n}`);
      warm(src);
      sync();
      const t0 = performance.now();
      const p = spawnSync(["cp", "-r", src, dst], { stderr: "pipe", timeout: 60_000 });
      const ms = performance.now() - t0;
      if (p.exitCode !== 0) throw new Error(`cp -r failed: ${p.stderr.toString().trim()}`);
      discard(dst, place.trash);
      return { ms, sysMs: Number(p.resourceUsage.cpuTime.system) / 1000 };
    };

    console.log(`## copyTree() of 10,000 × 4 KiB files on ${place.label}: where the time goes`);
    const plain: { r: CellResult; wallMs: number }[] = [];
    const cps: { ms: number; sysMs: number }[] = [];
    for (let k = 0; k < o.runs; k++) {
      plain.push(cell());
      cps.push(cpR());
    }
    const m = (f: (x: { r: CellResult; wallMs: number }) => number) => median(plain.map(f)).toFixed(0);
    console.log(
      `plain, ${o.runs} cold calls (median): ${m((x) => x.r.ms)} ms wall, user ${m((x) => x.r.userMs)} ms, ` +
        `sys ${m((x) => x.r.sysMs)} ms (process incl. start-up ${m((x) => x.wallMs)} ms)`,
    );
    const hint =
      place.id === "disk"
        ? " — far above ~150 ms on ext4 means the filesystem is still skipping inodes someone freed in the last ~6 minutes (see retire() in copy-data.ts): rerun later"
        : "";
    console.log(
      `cp -r of the same tree, interleaved (median): ${median(cps.map((c) => c.ms)).toFixed(0)} ms, ` +
        `sys ${median(cps.map((c) => c.sysMs)).toFixed(0)} ms${hint}`,
    );

    const profDir = join(ws.base, "prof");
    mkdirSync(profDir);
    const profiled = cell([], ["--cpu-prof", `--cpu-prof-dir=${profDir}`]).r;
    const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
    if (!file) throw new Error(`bun --cpu-prof wrote no profile in ${profDir}`);
    const s = summariseProfile(JSON.parse(readFileSync(join(profDir, file), "utf8")) as CpuProfile);
    console.log(
      `\nbun --cpu-prof (whole process, 1 ms sampling): ${s.totalMs.toFixed(0)} ms sampled; the call itself ` +
        `${profiled.ms.toFixed(0)} ms (user ${profiled.userMs.toFixed(0)}, sys ${profiled.sysMs.toFixed(0)})`,
    );
    const pct = (ms: number) => `${((ms / s.totalMs) * 100).toFixed(1)}%`;
    printTable(
      ["function (self time)", "where", "ms", "share"],
      s.byFunction.slice(0, 20).map((f) => [f.name, f.where, f.ms.toFixed(1), pct(f.ms)]),
    );
    console.log("");
    printTable(
      ["file (self time)", "ms", "share"],
      s.byFile.slice(0, 12).map((f) => [f.file, f.ms.toFixed(1), pct(f.ms)]),
    );

    if (Bun.which("perf")) {
      const data = join(ws.base, "perf.data");
      const traced = cell(["perf", "record", "-q", "-g", "-o", data, "--"]).r;
      console.log(
        `\nperf record (kernel symbols, self samples over the whole process, start-up included; ` +
          `the call ${traced.ms.toFixed(0)} ms, user ${traced.userMs.toFixed(0)}, sys ${traced.sysMs.toFixed(0)}):`,
      );
      printTable(["thread", "side", "share"], perfByThread(data, 10));
      console.log("");
      printTable(["kernel symbol", "share"], perfKernelTop(data, 12));
      if (o.keep) cpSync(data, join(o.keep, "copyTree.perf.data"));
    } else {
      console.log("\n(perf is not on PATH: no kernel-side breakdown)");
    }
    if (o.keep) {
      cpSync(join(profDir, file), join(o.keep, "copyTree.cpuprofile"));
      console.log(`(profiles kept in ${o.keep})`);
    }
  } finally {
    ws.close();
  }
}

if (import.meta.main) await main();
