/**
 * Echo server on loopback: `examples/echo-server.ts` (the `Uring` Promise
 * tier: multishot accept, multishot recv into a provided-buffer ring, send)
 * against the same server written with `Bun.listen` (`lib/bun-echo-server.ts`),
 * driven by the same client: a separate `bun` process with 64 connections,
 * each a ping-pong of 64-byte messages (`lib/echo-client.ts`), measured in
 * the same run.
 *
 * Usage: `bun run bench echo`, or `bun test/bench/echo.bench.ts`.
 * Target (the issue): the Uring echo server ≥ the Bun.listen one in messages/s.
 *
 * Each server runs in its own process on 127.0.0.1, port 0 (it prints the
 * port it got). The client process warms up for `warmupMs`, then counts
 * round trips for `measureMs` in `windowMs` windows. The servers take turns
 * (Uring, Bun.listen, Uring, Bun.listen, …) so drift on a busy machine hits
 * both alike; the table shows the median over rounds of each round's
 * messages/s, and each server's CPU over the measured rounds
 * (/proc/PID/stat). On a 2-core machine the client and the server each get
 * about one core: a client near 100% CPU means that row is client-bound.
 */
import { type Subprocess, spawn } from "bun";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { printEnv } from "./env.ts";
import type { EchoClientResult } from "./lib/echo-client.ts";
import { fmtRatio, median, printTable, printVerdicts, type Verdict } from "./lib/report.ts";

export type ServerKind = "uring" | "bun";

export interface EchoBenchOptions {
  connections: number;
  size: number;
  warmupMs: number;
  measureMs: number;
  windowMs: number;
  /** Rounds per server, alternating. */
  rounds: number;
  host: string;
}

export const DEFAULTS: EchoBenchOptions = {
  connections: 64,
  size: 64,
  warmupMs: 800,
  measureMs: 2500,
  windowMs: 100,
  rounds: 3,
  host: "127.0.0.1",
};

const HERE = import.meta.dir;
const ROOT = join(HERE, "..", "..");
const SERVERS: Record<ServerKind, { label: string; script: string }> = {
  uring: { label: "examples/echo-server.ts (Uring)", script: join(ROOT, "examples", "echo-server.ts") },
  bun: { label: "Bun.listen echo server", script: join(HERE, "lib", "bun-echo-server.ts") },
};
const CLIENT = join(HERE, "lib", "echo-client.ts");

interface Server {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  port: number;
}

/** Start a server and read its `listening on HOST:PORT` line (5 s at most). */
async function startServer(kind: ServerKind, o: EchoBenchOptions): Promise<Server> {
  const proc = spawn([process.execPath, SERVERS[kind].script, "--host", o.host, "--port", "0"], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  // stderr is kept (bounded) for error messages and drained so the server never blocks on a full pipe
  let errText = "";
  void (async () => {
    for await (const chunk of proc.stderr) errText = (errText + new TextDecoder().decode(chunk)).slice(-4000);
  })().catch(() => undefined);
  const reader = proc.stdout.getReader();
  let text = "";
  const deadline = setTimeout(() => proc.kill(), 5000);
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  } finally {
    clearTimeout(deadline);
  }
  const m = text.match(/^listening on (.+):(\d+)$/m);
  if (!m) {
    proc.kill();
    const code = await proc.exited;
    throw new Error(`echo bench: ${SERVERS[kind].label} did not start (exit ${code}): ${(text + errText).trim()}`);
  }
  // keep draining stdout with the same reader
  void (async () => {
    for (;;) if ((await reader.read()).done) return;
  })().catch(() => undefined);
  return { proc, port: Number(m[2]) };
}

async function stopServer(s: Server): Promise<void> {
  s.proc.kill("SIGTERM");
  const timer = setTimeout(() => s.proc.kill("SIGKILL"), 3000);
  await s.proc.exited;
  clearTimeout(timer);
}

/** user + sys CPU seconds of a process so far, from /proc/PID/stat (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime: fields 14 and 15 of stat(5)
}

/** One measured client run against `port`. */
async function runClient(port: number, o: EchoBenchOptions): Promise<EchoClientResult> {
  const args = [o.host, port, o.connections, o.size, o.warmupMs, o.measureMs, o.windowMs].map(String);
  const p = spawn([process.execPath, CLIENT, ...args], { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), o.warmupMs + o.measureMs + 15_000);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`echo bench: the client failed (exit ${code}): ${err.trim() || out.trim()}`);
  const t = out.trim();
  return JSON.parse(t.slice(t.lastIndexOf("\n") + 1)) as EchoClientResult;
}

export interface EchoRow {
  kind: ServerKind;
  runs: EchoClientResult[];
  /** The server's CPU over each measured window, as a fraction of one core. */
  serverCpu: number[];
  /** Median of the rounds' messages/s. */
  rate: number;
}

export interface EchoResult {
  rows: EchoRow[];
  verdicts: Verdict[];
}

/** Measure, print the table and the verdict, and return the numbers. */
export async function run(options: Partial<EchoBenchOptions> = {}): Promise<EchoResult> {
  const o: EchoBenchOptions = { ...DEFAULTS, ...options };
  if (!existsSync(SERVERS.uring.script)) throw new Error(`echo bench: ${SERVERS.uring.script} does not exist`);
  console.log(
    `\n## echo: loopback echo, ${o.connections} connections × ${o.size}-byte ping-pong, one client process, ` +
      `${o.warmupMs} ms warm-up + ${o.measureMs} ms per round, ${o.rounds} rounds per server (alternating), medians`,
  );
  const kinds: ServerKind[] = ["uring", "bun"];
  const servers = new Map<ServerKind, Server>();
  const rows = new Map<ServerKind, EchoRow>(kinds.map((k) => [k, { kind: k, runs: [], serverCpu: [], rate: 0 }]));
  try {
    for (const k of kinds) servers.set(k, await startServer(k, o)); // startServer kills its own process if it fails
    for (let r = 0; r < o.rounds; r++) {
      for (const k of kinds) {
        const s = servers.get(k)!;
        const row = rows.get(k)!;
        // server CPU over the whole client run, scaled to the run's wall time
        const cpu0 = cpuSeconds(s.proc.pid);
        const t0 = performance.now();
        row.runs.push(await runClient(s.port, o));
        row.serverCpu.push((cpuSeconds(s.proc.pid) - cpu0) / ((performance.now() - t0) / 1000));
      }
      process.stderr.write(`  round ${r + 1} done\n`);
    }
  } finally {
    for (const s of servers.values()) await stopServer(s);
  }
  for (const row of rows.values()) row.rate = median(row.runs.map((x) => x.rate));

  const u = rows.get("uring")!;
  const b = rows.get("bun")!;
  console.log("");
  printTable(
    ["server", "messages/s (median)", "each round", "±MAD of 100 ms windows", "server CPU", "client CPU", "vs Bun.listen"],
    [u, b].map((row) => [
      SERVERS[row.kind].label,
      `${(row.rate / 1000).toFixed(1)} k`,
      row.runs.map((x) => (x.rate / 1000).toFixed(0)).join(", "),
      `±${(median(row.runs.map((x) => x.windowMad / x.windowMedian)) * 100).toFixed(1)}%`,
      `${(median(row.serverCpu) * 100).toFixed(0)}%`,
      `${(median(row.runs.map((x) => x.clientCpu)) * 100).toFixed(0)}%`,
      fmtRatio(row.rate, b.rate),
    ]),
  );
  const verdicts: Verdict[] = [
    {
      goal: "echo server (Uring) ≥ the Bun.listen server",
      pass: u.rate >= b.rate,
      got: `${(u.rate / 1000).toFixed(1)} k vs ${(b.rate / 1000).toFixed(1)} k messages/s = ${fmtRatio(u.rate, b.rate)}`,
    },
  ];
  console.log("");
  printVerdicts(verdicts);
  console.log("(server CPU: user + sys of the server process over each client run, % of one core; 100% = CPU-bound)");
  return { rows: [u, b], verdicts };
}

if (import.meta.main) {
  printEnv();
  await run();
}
