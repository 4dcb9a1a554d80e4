/**
 * fio, the reference of the read bench: found on PATH, or installed from
 * Debian's package (`apt-get install -y fio`, after `apt-get update` when the
 * first attempt fails), or skipped with the reason as a note.
 *
 * One run: `fio --ioengine=io_uring --rw=randread --bs=4k --iodepth=N
 * --direct=0 --hipri=0 --invalidate=0 --time_based --runtime=3` on the bench's
 * file, JSON output, `jobs[0].read.iops`. `--invalidate=0` matters: fio's
 * default drops the file's pages from the page cache before the job, which
 * would turn the first seconds of a "page-cached" run into disk reads (and
 * leave the cache cold for the cells after it).
 */
import { spawnSync } from "bun";

export type FioFound = { bin: string; version: string; installedNow: boolean } | { note: string };

/** Find fio, installing it with apt-get when missing and possible. Never throws. */
export function ensureFio(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): FioFound {
  const have = Bun.which("fio");
  if (have) return { bin: have, version: versionOf(have), installedNow: false };
  const apt = Bun.which("apt-get");
  if (!apt) return { note: "fio is not installed and there is no apt-get to install it: the fio rows are skipped" };
  if (process.getuid?.() !== 0) return { note: "fio is not installed and installing it needs root (`apt-get install -y fio`): the fio rows are skipped" };
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () => spawnSync([apt, "install", "-y", "-q", "fio"], { env, stdout: "pipe", stderr: "pipe", timeout: 180_000 });
  log("  fio missing: apt-get install -y fio …");
  let p = install();
  if (p.exitCode !== 0) {
    log("  … failed; apt-get update, then again");
    spawnSync([apt, "update", "-q"], { env, stdout: "pipe", stderr: "pipe", timeout: 180_000 });
    p = install();
  }
  const bin = Bun.which("fio");
  if (p.exitCode !== 0 || !bin) {
    const why = p.stderr.toString().trim().split("\n").slice(-2).join(" ");
    return { note: `fio is not installed and \`apt-get install -y fio\` failed (${why || `exit ${p.exitCode}`}): the fio rows are skipped` };
  }
  return { bin, version: versionOf(bin), installedNow: true };
}

function versionOf(bin: string): string {
  return spawnSync([bin, "--version"]).stdout.toString().trim() || "fio";
}

/** What one fio run measured. */
export interface FioResult {
  iops: number;
  /** Standard deviation of fio's per-interval IOPS samples, as a fraction of their mean. */
  stddev: number;
  /** fio's own CPU use, % of one core. */
  usrCpu: number;
  sysCpu: number;
}

/** The fio arguments of one run (printed with the table, so anyone can rerun it). */
export function fioArgs(file: string, depth: number, runtimeS: number): string[] {
  return [
    "--name=randread",
    "--ioengine=io_uring",
    "--rw=randread",
    "--bs=4k",
    `--iodepth=${depth}`,
    "--direct=0",
    "--hipri=0",
    "--invalidate=0",
    "--time_based",
    `--runtime=${runtimeS}`,
    `--filename=${file}`,
    "--output-format=json",
  ];
}

/** Run fio once. @throws when fio fails or prints no JSON. */
export function runFio(bin: string, file: string, depth: number, runtimeS: number): FioResult {
  const p = spawnSync([bin, ...fioArgs(file, depth, runtimeS)], { stderr: "pipe", timeout: (runtimeS + 30) * 1000 });
  const out = p.stdout.toString();
  if (p.exitCode !== 0) throw new Error(`fio at iodepth ${depth} failed: ${p.stderr.toString().trim() || out.slice(0, 500)}`);
  // fio may print notes before its JSON document
  const json = JSON.parse(out.slice(out.indexOf("{"))) as {
    jobs: { read: { iops: number; iops_mean?: number; iops_stddev?: number }; usr_cpu: number; sys_cpu: number }[];
  };
  const job = json.jobs[0]!;
  const r = job.read;
  return {
    iops: r.iops,
    stddev: r.iops_mean && r.iops_stddev !== undefined ? r.iops_stddev / r.iops_mean : 0,
    usrCpu: job.usr_cpu,
    sysCpu: job.sys_cpu,
  };
}
