/**
 * The environment header every benchmark prints above its table: kernel, CPU,
 * cores, Bun version and date — enough to tell two runs apart.
 *
 * Usage: `bun test/bench/env.ts` prints it alone; benches call `benchEnv()`
 * or `printEnv()`.
 */
import { availableParallelism, arch, cpus, loadavg, release } from "node:os";
import { readFileSync } from "node:fs";

/** What a benchmark ran on. */
export interface BenchEnv {
  /** `uname -r` */
  kernel: string;
  /** `uname -m` as Node spells it (x64, arm64) */
  arch: string;
  /** The CPU model from /proc/cpuinfo (`model name`; on arm64, implementer/part), or os.cpus(). */
  cpu: string;
  /** Logical CPUs online. */
  cores: number;
  /** CPUs this process may run on (its affinity mask). */
  usableCores: number;
  /** 1/5/15-minute load averages at start: a busy machine shows here first. */
  loadavg: [number, number, number];
  /** `Bun.version` and `Bun.revision` (short). */
  bun: string;
  /** ISO 8601, UTC. */
  date: string;
}

/** Collect the environment once. Never throws: a missing source reads "unknown". */
export function benchEnv(): BenchEnv {
  const cpuList = cpus();
  const [l1 = 0, l5 = 0, l15 = 0] = loadavg();
  return {
    kernel: release(),
    arch: arch(),
    cpu: cpuModel() ?? cpuList[0]?.model ?? "unknown",
    cores: cpuList.length,
    usableCores: availableParallelism(),
    loadavg: [l1, l5, l15],
    bun: `${Bun.version} (${Bun.revision.slice(0, 9)})`,
    date: new Date().toISOString(),
  };
}

/** The model name from /proc/cpuinfo; arm64 kernels list only implementer and part numbers. */
function cpuModel(): string | undefined {
  let text: string;
  try {
    text = readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return undefined;
  }
  const field = (name: string) => text.match(new RegExp(`^${name}\\s*:\\s*(.+)$`, "m"))?.[1]?.trim();
  const model = field("model name") ?? field("Model") ?? field("Hardware");
  if (model) return model;
  const implementer = field("CPU implementer");
  const part = field("CPU part");
  return implementer && part ? `implementer ${implementer}, part ${part}` : undefined;
}

/** The header as lines of text. */
export function formatEnv(env: BenchEnv = benchEnv()): string {
  const cores = env.usableCores === env.cores ? `${env.cores}` : `${env.cores} (${env.usableCores} usable)`;
  return [
    `kernel   ${env.kernel} (${env.arch})`,
    `cpu      ${env.cpu}`,
    `cores    ${cores}, load ${env.loadavg.map((l) => l.toFixed(2)).join(" ")}`,
    `bun      ${env.bun}`,
    `date     ${env.date}`,
  ].join("\n");
}

/** Print the header to stdout and return the values behind it. */
export function printEnv(): BenchEnv {
  const env = benchEnv();
  console.log(formatEnv(env));
  return env;
}

if (import.meta.main) printEnv();
