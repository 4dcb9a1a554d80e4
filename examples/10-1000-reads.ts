/**
 * 10-1000-reads — the classic drill: 1,000 random 4 KiB reads, four ways, one table.
 *
 * Usage: bun examples/10-1000-reads.ts [FILE] [--size-mib N] [--reads N] [--repeat N] [--warmup N] [--workers N]
 *
 * Without FILE it writes a temporary file of N MiB (default 64) of random bytes
 * and removes it afterwards. Each method reads the same `--reads` (default
 * 1000) blocks of 4 KiB at random 4 KiB-aligned offsets:
 *   io_uring          every read requested at once through `Uring` (one SQE
 *                     each, all submitted by a single io_uring_enter), then the
 *                     completions harvested — the promises resolve;
 *   readSync loop     what a plain script does: one pread(2) after another;
 *   N× Worker pool    the classic way to get parallelism without io_uring:
 *                     16 Worker threads (created before timing) each run a
 *                     readSync loop over their share;
 *   fs.promises       FileHandle.read() with all reads in flight at once —
 *                     Bun runs each one as a pread on its thread pool.
 * The methods take turns, round after round: `--warmup` rounds (default 5: the
 * JIT, the page cache and the thread pool warm up), then `--repeat` measured
 * rounds (default 10). The table shows the median wall time, the throughput it
 * implies and the best wall time, and the median CPU time the whole process
 * burned per run (process.cpuUsage(), user + sys: it
 * counts every thread of the process — the Workers, the thread pool, the
 * kernel's io-wq workers — not only the main thread). Finally it checks that
 * every method read identical bytes (sha256 of all blocks, in order).
 *
 * What it teaches: the cost of a read is mostly the syscall and the wake-up,
 * not the copy. The file is in the page cache (it was just written, or read in
 * the warm-up), so this measures per-operation overhead: io_uring does 1,000
 * reads with one syscall and almost no thread hand-offs — the kernel copies
 * cached pages inline, inside io_uring_enter (the few that would block go to
 * its io-wq threads and come back through the eventfd) — while a pool pays a
 * thread wake-up and a message per batch or per read, and the Promise tier
 * pays for a promise per read. A plain readSync loop of cached 4 KiB reads is
 * hard to beat on overhead alone; what it cannot do is keep the event loop
 * free or have many reads queued on a device. (On a cold cache or with
 * O_DIRECT the device dominates and the picture changes; this drill is about
 * overhead.)
 *
 * Minimum kernel: Linux 5.6 (IORING_OP_READ).
 */
import { randomFillSync, randomInt } from "node:crypto";
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { cpus, release, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { Uring } from "../lib/index.ts";

const BLOCK = 4096;
const MiB = 1024 * 1024;
const USAGE = "usage: bun examples/10-1000-reads.ts [FILE] [--size-mib N] [--reads N] [--repeat N] [--warmup N] [--workers N]";

// ---------------------------------------------------------------------------- the worker side

/** Sent once to each Worker, before any timing. */
interface WorkerInit {
  path: string;
  /** Every offset; the worker reads [from, to). */
  offsets: Float64Array;
  from: number;
  to: number;
  /** Where block k goes: bytes [k × BLOCK, (k + 1) × BLOCK). Shared with the main thread. */
  dest: SharedArrayBuffer;
}

declare const self: Worker;

/** This same file, started by `new Worker(import.meta.url)`: open the file, then read our share on every "run". */
function workerMain(): void {
  let job: WorkerInit | null = null;
  let fd = -1;
  self.onmessage = (e: MessageEvent<WorkerInit | "run" | "exit">) => {
    if (e.data === "exit") {
      if (fd >= 0) closeSync(fd);
      process.exit(0);
    } else if (e.data === "run") {
      const { offsets, from, to, dest } = job!;
      const bytes = new Uint8Array(dest);
      for (let k = from; k < to; k++) readFully(fd, bytes.subarray(k * BLOCK, (k + 1) * BLOCK), offsets[k]!);
      postMessage("done");
    } else {
      job = e.data;
      fd = openSync(job.path, "r");
      postMessage("ready");
    }
  };
}

/** pread(2) until the block is full (a short read is legal; at EOF it is an error here). */
function readFully(fd: number, buf: Uint8Array, position: number): void {
  for (let got = 0; got < buf.length; ) {
    const n = readSync(fd, buf, got, buf.length - got, position + got);
    if (n === 0) throw new Error(`unexpected end of file at ${position + got}`);
    got += n;
  }
}

// ---------------------------------------------------------------------------- the main side

/** Options, parsed once, at the edge. */
const Options = z.object({
  file: z.string().min(1).optional(),
  sizeMiB: z.coerce.number().int().min(1).max(1 << 20),
  reads: z.coerce.number().int().min(1).max(100_000),
  repeat: z.coerce.number().int().min(1).max(1000),
  warmup: z.coerce.number().int().min(0).max(1000),
  workers: z.coerce.number().int().min(1).max(256),
});
type Options = z.infer<typeof Options>;

function parseCli(): Options {
  try {
    const { values, positionals } = parseArgs({
      options: {
        "size-mib": { type: "string", default: "64" },
        reads: { type: "string", default: "1000" },
        repeat: { type: "string", default: "10" },
        warmup: { type: "string", default: "5" },
        workers: { type: "string", default: "16" },
      },
      allowPositionals: true,
    });
    if (positionals.length > 1) throw new Error("at most one FILE");
    return Options.parse({
      file: positionals[0],
      sizeMiB: values["size-mib"],
      reads: values.reads,
      repeat: values.repeat,
      warmup: values.warmup,
      workers: values.workers,
    });
  } catch (err) {
    const why = err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") : (err as Error).message;
    console.error(`10-1000-reads: ${why}\n${USAGE}`);
    process.exit(2);
  }
}

/** One way of doing all the reads: `run` reads every offset into `dest` and resolves when all are in. */
interface Method {
  name: string;
  run(): Promise<void> | void;
  /** The destination of every read, block k at k × BLOCK. */
  dest: Uint8Array;
  wall: number[];
  cpu: number[];
  hash: string;
}

/** Fill `path` with `size` random bytes, 1 MiB at a time. */
function writeRandomFile(path: string, size: number): void {
  const fd = openSync(path, "wx", 0o600);
  try {
    const chunk = new Uint8Array(MiB);
    for (let done = 0; done < size; ) {
      const n = Math.min(chunk.length, size - done);
      randomFillSync(chunk, 0, n);
      done += writeSync(fd, chunk, 0, n, done);
    }
  } finally {
    closeSync(fd);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const opt = parseCli();
  let path = opt.file;
  let tempDir: string | null = null;
  const cleanup = () => {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    tempDir = null;
  };
  process.on("SIGINT", () => {
    cleanup();
    process.exit(130);
  });
  try {
    if (!path) {
      tempDir = mkdtempSync(join(tmpdir(), "bun-uring-10-"));
      path = join(tempDir, "random.bin");
      writeRandomFile(path, opt.sizeMiB * MiB);
    }
    await drill(path, opt);
  } catch (err) {
    console.error(`10-1000-reads: ${(err as Error).message}`);
    process.exitCode = 1;
  } finally {
    cleanup();
  }
}

async function drill(path: string, opt: Options): Promise<void> {
  const fd = openSync(path, "r");
  const size = fstatSync(fd).size;
  const blocksInFile = Math.floor(size / BLOCK);
  if (blocksInFile < 1) {
    console.error(`10-1000-reads: ${path}: smaller than one ${BLOCK}-byte block`);
    process.exit(1);
  }
  const n = opt.reads;
  // Random, 4 KiB-aligned; a Float64Array so the Workers get a cheap copy.
  const offsets = new Float64Array(n);
  for (let k = 0; k < n; k++) offsets[k] = randomInt(blocksInFile) * BLOCK;

  // --- io_uring: a ring big enough that all reads go in with one io_uring_enter.
  const io = new Uring({ entries: Math.min(32768, 2 ** Math.ceil(Math.log2(n))) });
  const uringDest = new Uint8Array(n * BLOCK);
  const ioUring = async () => {
    const reads: Promise<number>[] = new Array(n);
    for (let k = 0; k < n; k++) reads[k] = io.read(fd, uringDest.subarray(k * BLOCK, (k + 1) * BLOCK), offsets[k]!);
    const got = await Promise.all(reads);
    // A short read is legal: finish those blocks (rare; never from the page cache in practice).
    for (let k = 0; k < n; k++) {
      for (let have = got[k]!; have < BLOCK; ) {
        const more = await io.read(fd, uringDest.subarray(k * BLOCK + have, (k + 1) * BLOCK), offsets[k]! + have);
        if (more === 0) throw new Error(`unexpected end of file at ${offsets[k]! + have}`);
        have += more;
      }
    }
  };

  // --- a plain readSync loop.
  const syncDest = new Uint8Array(n * BLOCK);
  const readSyncLoop = () => {
    for (let k = 0; k < n; k++) readFully(fd, syncDest.subarray(k * BLOCK, (k + 1) * BLOCK), offsets[k]!);
  };

  // --- a Worker pool, started (and each worker's fd opened) before any timing.
  const poolShared = new SharedArrayBuffer(n * BLOCK);
  const nWorkers = Math.min(opt.workers, n);
  const workers: Worker[] = [];
  const ready: Promise<unknown>[] = [];
  for (let w = 0; w < nWorkers; w++) {
    const worker = new Worker(import.meta.url);
    workers.push(worker);
    ready.push(new Promise((resolve, reject) => {
      worker.onmessage = resolve;
      worker.onerror = reject;
    }));
    const init: WorkerInit = {
      path,
      offsets,
      from: Math.floor((w * n) / nWorkers),
      to: Math.floor(((w + 1) * n) / nWorkers),
      dest: poolShared,
    };
    worker.postMessage(init);
  }
  await Promise.all(ready);
  const workerPool = () =>
    Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            worker.onmessage = () => resolve();
            worker.onerror = (e) => reject(e);
            worker.postMessage("run");
          }),
      ),
    ).then(() => undefined);

  // --- fs.promises: one FileHandle, every read in flight at once.
  const fh = await open(path, "r");
  const promisesDest = new Uint8Array(n * BLOCK);
  const fsPromises = async () => {
    const reads: Promise<{ bytesRead: number }>[] = new Array(n);
    for (let k = 0; k < n; k++) reads[k] = fh.read(promisesDest, k * BLOCK, BLOCK, offsets[k]!);
    const got = await Promise.all(reads);
    for (let k = 0; k < n; k++) {
      if (got[k]!.bytesRead < BLOCK) readFully(fd, promisesDest.subarray(k * BLOCK + got[k]!.bytesRead, (k + 1) * BLOCK), offsets[k]! + got[k]!.bytesRead);
    }
  };

  const methods: Method[] = [
    { name: "io_uring (Uring)", run: ioUring, dest: uringDest, wall: [], cpu: [], hash: "" },
    { name: "readSync loop", run: readSyncLoop, dest: syncDest, wall: [], cpu: [], hash: "" },
    { name: `${nWorkers}× Worker readSync`, run: workerPool, dest: new Uint8Array(poolShared), wall: [], cpu: [], hash: "" },
    { name: "fs.promises read", run: fsPromises, dest: promisesDest, wall: [], cpu: [], hash: "" },
  ];

  const entersBefore = io.ring.enterCount;
  let ringRuns = 0;
  try {
    // Round-robin, warm-up first: every method sees the same cache and the same noise.
    for (let round = 0; round < opt.warmup + opt.repeat; round++) {
      for (const m of methods) {
        m.dest.fill(0); // a method that skipped a block cannot pass on stale bytes
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await m.run();
        const wall = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        if (m.run === ioUring) ringRuns++;
        if (round < opt.warmup) continue; // the warm-up: JIT, page cache, thread pool
        m.wall.push(wall);
        m.cpu.push((cpu.user + cpu.system) / 1000);
      }
    }
  } finally {
    for (const worker of workers) worker.postMessage("exit");
    await fh.close();
    await io.close();
    closeSync(fd);
  }
  const entersPerRun = (io.ring.enterCount - entersBefore) / ringRuns;

  for (const m of methods) m.hash = new Bun.CryptoHasher("sha256").update(m.dest).digest("hex");

  // ---------------------------------------------------------------- the report
  const cpuModel = cpus()[0]?.model.trim() ?? "unknown CPU";
  console.log(`10-1000-reads: ${n} reads of ${BLOCK} B at random aligned offsets in ${path} (${(size / MiB).toFixed(1)} MiB)`);
  console.log(`Linux ${release()} · ${cpuModel} × ${cpus().length} · Bun ${Bun.version} · median of ${opt.repeat} run(s) after ${opt.warmup} warm-up round(s)`);
  console.log("");
  const rows = methods.map((m) => {
    const wall = median(m.wall);
    return [
      m.name,
      `${wall.toFixed(2)} ms`,
      `${Math.round((n / wall) * 1000).toLocaleString("en-US")}`,
      `${((n * BLOCK) / (wall / 1000) / 1e6).toFixed(1)}`,
      `${Math.min(...m.wall).toFixed(2)} ms`,
      `${median(m.cpu).toFixed(2)} ms`,
      m.hash.slice(0, 12),
    ];
  });
  const header = ["method", "wall (median)", "ops/s", "MB/s", "best wall", "CPU (user+sys)", "sha256"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 || c === header.length - 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
  console.log("");
  console.log(`io_uring: ${entersPerRun.toFixed(1)} io_uring_enter call(s) per ${n} reads`);
  console.log("CPU is the whole process (all threads, kernel time included), so the pool's workers count too.");

  const reference = methods[0]!.hash;
  const differ = methods.filter((m) => m.hash !== reference);
  if (differ.length === 0) {
    console.log(`verification: all ${methods.length} methods read identical bytes (sha256 ${reference})`);
  } else {
    console.log(`verification: MISMATCH — ${differ.map((m) => m.name).join(", ")} differ from ${methods[0]!.name}`);
    process.exitCode = 1;
  }
}

// One file, two roles: the main thread runs the drill, each Worker runs workerMain().
if (Bun.isMainThread) await main();
else workerMain();
