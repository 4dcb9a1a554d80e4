/**
 * 4 KiB random reads from a page-cached 1 GiB file, with 1, 32 and 128 reads
 * in flight: bun-uring's `Uring` (safe Promise tier) and `IoUring` (raw tier)
 * against what a Bun user would use instead — `fs.promises` FileHandle.read,
 * `Bun.file().slice().arrayBuffer()`, a synchronous `fs.readSync` loop (one
 * in flight, by nature) — and fio's io_uring engine as the reference, all in
 * the same run.
 *
 * Usage: `bun run bench read`, or `bun test/bench/read.bench.ts`.
 * Targets (the issue): Uring at 32 in flight ≥ 2× fs.promises and ≥ the
 * readSync loop; the raw tier ≥ 90% of fio at each matching depth.
 *
 * "N in flight" for the async APIs is N independent loops, each awaiting one
 * read into its own buffer before it issues the next, so N reads are
 * outstanding at all times; the raw tier keeps N SQEs in the kernel, refilling
 * as CQEs are reaped (one io_uring_enter per refill), like fio at
 * `--iodepth=N`. Offsets are random 4 KiB-aligned positions (a fixed
 * pseudo-random sequence, the same for every cell). One tinybench iteration is
 * a chunk of reads sized for ~10 ms, calibrated in each cell; tables show
 * median ops/s over the chunks ± their median absolute deviation. Each cell
 * runs in a fresh `bun` process (JIT profiles of different APIs and depths do
 * not mix, as in `nop.bench.ts`). The 1 GiB file lives outside the repository
 * (see `lib/bigfile.ts`) and is read once with `cat` before measuring so every
 * read is a page-cache hit.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { open as openPromise } from "node:fs/promises";
import { Bench } from "tinybench";
import { IoUring, prepRead, type Cqe, Uring } from "../../lib/index.ts";
import { printEnv } from "./env.ts";
import { BIG_FILE, BIG_FILE_SIZE, ensureBigFile, maybeRemoveBigFile, residentFraction, warmPageCache } from "./lib/bigfile.ts";
import { ensureFio, fioArgs, type FioResult, runFio } from "./lib/fio.ts";
import {
  cellArgs,
  fmtM,
  fmtOps,
  fmtRatio,
  type Measurement,
  printTable,
  printVerdicts,
  runCell,
  throughput,
  type Verdict,
} from "./lib/report.ts";

/** The ways of reading that the table compares. */
export type ReadKind = "uring" | "raw" | "promises" | "bunfile" | "readSync";

const LABEL: Record<ReadKind | "fio", string> = {
  uring: "Uring.read (safe tier)",
  raw: "IoUring + prepRead (raw tier)",
  promises: "fs.promises FileHandle.read",
  bunfile: "Bun.file().slice().arrayBuffer()",
  readSync: "fs.readSync loop",
  fio: "fio --ioengine=io_uring",
};

export interface ReadBenchOptions {
  /** Reads in flight. */
  depths: number[];
  kinds: ReadKind[];
  /** Unmeasured warm-up per cell, ms. */
  warmupMs: number;
  /** Measured time per cell, ms. */
  timeMs: number;
  /** Target duration of one sample (one chunk of reads), ms. */
  sampleMs: number;
  /** fio's --runtime, s. */
  fioRuntimeS: number;
  /** One fresh `bun` process per cell (see the header). */
  isolate: boolean;
  file: string;
}

export const DEFAULTS: ReadBenchOptions = {
  depths: [1, 32, 128],
  kinds: ["uring", "raw", "promises", "bunfile", "readSync"],
  warmupMs: 300,
  timeMs: 1000,
  sampleMs: 10,
  fioRuntimeS: 3,
  isolate: true,
  file: BIG_FILE,
};

const BS = 4096;

/** What one cell reports: the throughput, plus io_uring_enter calls per read for the io_uring kinds. */
export interface ReadCell extends Measurement {
  chunk: number;
  entersPerOp?: number;
  /** CPU time of the whole process (all threads) over the measured run, in cores: >1 means other threads helped. */
  cores: number;
}

/** A fixed pseudo-random sequence of page-aligned positions (xorshift32), cycled by `next()`. */
function positions(fileSize: number): () => number {
  const pages = Math.floor(fileSize / BS);
  const table = new Float64Array(1 << 16);
  let x = 0x9e3779b9;
  for (let k = 0; k < table.length; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    table[k] = ((x >>> 0) % pages) * BS;
  }
  let cursor = 0;
  const mask = table.length - 1;
  return () => table[cursor++ & mask]!;
}

function short(n: number, what: string): never {
  throw new Error(`read bench: ${what} returned ${n}, expected ${BS} (is the file shorter than it should be?)`);
}

/** The task body of one cell: reads `count` (a multiple of depth) blocks with `depth` in flight. */
interface CellBody {
  run(count: number): void | Promise<void>;
  enters?: () => number;
  close(): void | Promise<void>;
}

/** `count` reads as `depth` independent loops of `count / depth` each, all awaited: `depth` reads in flight. */
async function inLanes(depth: number, count: number, lane: (k: number, n: number) => Promise<void>): Promise<void> {
  const per = count / depth;
  const lanes: Promise<void>[] = new Array(depth);
  for (let k = 0; k < depth; k++) lanes[k] = lane(k, per);
  await Promise.all(lanes);
}

async function makeBody(kind: ReadKind, depth: number, file: string): Promise<CellBody> {
  const next = positions(BIG_FILE_SIZE);
  const bufs = Array.from({ length: depth }, () => new Uint8Array(BS));
  switch (kind) {
    case "uring": {
      const fd = openSync(file, "r");
      const io = new Uring();
      const lane = async (buf: Uint8Array, n: number) => {
        for (let i = 0; i < n; i++) {
          const r = await io.read(fd, buf, next());
          if (r !== BS) short(r, "Uring.read");
        }
      };
      return {
        run: (count) => inLanes(depth, count, (k, n) => lane(bufs[k]!, n)),
        enters: () => io.ring.enterCount,
        close: async () => {
          await io.close();
          closeSync(fd);
        },
      };
    }
    case "raw": {
      const fd = openSync(file, "r");
      const ring = new IoUring(Math.max(depth, 2));
      const cqes: Cqe[] = new Array<Cqe>(ring.cqEntries);
      const free: number[] = bufs.map((_, k) => k);
      return {
        run: (count) => {
          let issued = 0;
          let done = 0;
          while (done < count) {
            // keep `depth` reads in the kernel: refill every free buffer, then one enter
            while (free.length > 0 && issued < count) {
              const b = free.pop()!;
              const sqe = ring.getSqe();
              if (sqe === null) throw new Error("read bench: SQ full");
              prepRead(sqe, fd, bufs[b]!, next());
              sqe.userData = b;
              issued++;
            }
            ring.submitAndWait(1);
            const n = ring.peekBatchCqe(cqes);
            for (let k = 0; k < n; k++) {
              const cqe = cqes[k]!;
              if (cqe.res !== BS) short(cqe.res, "IORING_OP_READ");
              free.push(cqe.userData);
            }
            ring.cqAdvance(n);
            done += n;
          }
        },
        enters: () => ring.enterCount,
        close: () => {
          ring.close();
          closeSync(fd);
        },
      };
    }
    case "promises": {
      const fh = await openPromise(file, "r");
      const lane = async (buf: Uint8Array, n: number) => {
        for (let i = 0; i < n; i++) {
          const { bytesRead } = await fh.read(buf, 0, BS, next());
          if (bytesRead !== BS) short(bytesRead, "FileHandle.read");
        }
      };
      return {
        run: (count) => inLanes(depth, count, (k, n) => lane(bufs[k]!, n)),
        close: () => fh.close(),
      };
    }
    case "bunfile": {
      const f = Bun.file(file);
      const lane = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const p = next();
          const ab = await f.slice(p, p + BS).arrayBuffer();
          if (ab.byteLength !== BS) short(ab.byteLength, "Bun.file().slice().arrayBuffer()");
        }
      };
      return {
        run: (count) => inLanes(depth, count, (_k, n) => lane(n)),
        close: () => undefined,
      };
    }
    case "readSync": {
      if (depth !== 1) throw new Error("read bench: a readSync loop has exactly one read in flight");
      const fd = openSync(file, "r");
      const buf = bufs[0]!;
      return {
        run: (count) => {
          for (let i = 0; i < count; i++) {
            const r = readSync(fd, buf, 0, BS, next());
            if (r !== BS) short(r, "fs.readSync");
          }
        },
        close: () => closeSync(fd),
      };
    }
  }
}

/** Measure one cell in this process: calibrate the chunk, warm up, then tinybench. */
export async function measureCell(kind: ReadKind, depth: number, o: ReadBenchOptions): Promise<ReadCell> {
  const body = await makeBody(kind, depth, o.file);
  try {
    // calibrate: a chunk that takes ~sampleMs, a multiple of depth
    // (doubling until one chunk takes a sample's time; the last one, warmest, sets the rate)
    let chunk = Math.max(256, depth * 8);
    let perOpMs = 0;
    for (let spent = 0; spent < 150 && chunk <= 1 << 17; ) {
      const t0 = performance.now();
      await body.run(chunk);
      const ms = performance.now() - t0;
      spent += ms;
      perOpMs = ms / chunk;
      if (ms < o.sampleMs) chunk *= 2;
    }
    chunk = Math.max(depth * 4, Math.round(o.sampleMs / perOpMs / depth) * depth);
    chunk = Math.min(chunk, 1 << 17);

    const bench = new Bench({
      name: `read ${kind} depth ${depth}`,
      time: o.timeMs,
      iterations: 16,
      warmup: true,
      warmupTime: o.warmupMs,
      warmupIterations: 4,
      throws: true,
    });
    let ops = 0;
    const sync = kind === "raw" || kind === "readSync";
    if (sync) {
      bench.add(kind, () => {
        body.run(chunk);
        ops += chunk;
      }, { async: false });
    } else {
      bench.add(kind, async () => {
        await body.run(chunk);
        ops += chunk;
      }, { async: true });
    }
    const enters0 = body.enters?.() ?? 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    if (sync) bench.runSync();
    else await bench.run();
    const cpu = process.cpuUsage(cpu0);
    const cores = (cpu.user + cpu.system) / 1000 / (performance.now() - t0);
    const m = throughput(bench.getTask(kind), chunk, "read bench");
    const cell: ReadCell = { ...m, chunk, cores };
    if (body.enters) cell.entersPerOp = (body.enters() - enters0) / ops;
    return cell;
  } finally {
    await body.close();
  }
}

// ---------------------------------------------------------------- run

export interface ReadRow {
  depth: number;
  cells: Partial<Record<ReadKind, ReadCell>>;
  fio: FioResult | null;
}

export interface ReadResult {
  rows: ReadRow[];
  fioNote: string | null;
  verdicts: Verdict[];
}

/**
 * Measure every cell, print the tables and the verdicts, and return the numbers.
 * Per depth the cells run back to back (each API, then fio), so drift on a busy machine hits them alike.
 */
export async function run(options: Partial<ReadBenchOptions> = {}): Promise<ReadResult> {
  const o: ReadBenchOptions = { ...DEFAULTS, ...options };
  const t0 = performance.now();
  const made = ensureBigFile(o.file);
  const madeMs = performance.now() - t0;
  const warm = warmPageCache(o.file);
  const fio = ensureFio();
  const fioNote = "note" in fio ? fio.note : null;

  console.log(
    `\n## read: 4 KiB random reads, page-cached ${BIG_FILE_SIZE >> 30} GiB file, ` +
      `${o.warmupMs} ms warm-up + ${o.timeMs} ms per cell${o.isolate ? ", one process per cell" : ""}, medians`,
  );
  const resident = warm.residentFraction === null ? "" : `, ${(warm.residentFraction * 100).toFixed(0)}% in the page cache after cat`;
  console.log(`file: ${o.file} (${made.created ? `written now in ${(madeMs / 1000).toFixed(1)} s` : "reused"}${resident})`);
  if ("bin" in fio) {
    console.log(`fio: ${fio.version}${fio.installedNow ? " (installed now with apt-get)" : ""}, ${o.fioRuntimeS} s per depth:`);
    console.log(`     fio ${fioArgs(o.file, 0, o.fioRuntimeS).join(" ").replace("--iodepth=0", "--iodepth=N")}`);
  } else {
    console.log(`fio: ${fioNote}`);
  }

  const rows: ReadRow[] = [];
  for (const depth of o.depths) {
    const row: ReadRow = { depth, cells: {}, fio: null };
    for (const kind of o.kinds) {
      if (kind === "readSync" && depth !== 1) continue;
      row.cells[kind] = o.isolate
        ? runCell<ReadCell>(import.meta.path, [kind, String(depth), JSON.stringify(o)], `read bench ${kind} depth ${depth}`)
        : await measureCell(kind, depth, o);
    }
    if ("bin" in fio) row.fio = runFio(fio.bin, o.file, depth, o.fioRuntimeS);
    rows.push(row);
    process.stderr.write(`  depth ${depth} done\n`);
  }
  const after = residentFraction(o.file);
  if (after !== null && after < 0.99) console.log(`warning: only ${(after * 100).toFixed(0)}% of the file is still cached after the run`);

  // ---- table 1: ops/s
  const kinds: (ReadKind | "fio")[] = [...o.kinds, "fio"];
  const head = ["ops/s (median ±MAD)", ...rows.map((r) => `${r.depth} in flight`)];
  const body = kinds.map((kind) => [
    LABEL[kind],
    ...rows.map((r) => {
      if (kind === "fio") return r.fio ? `${fmtM(r.fio.iops)} ±${(r.fio.stddev * 100).toFixed(1)}%σ` : "—";
      return fmtOps(r.cells[kind]);
    }),
  ]);
  console.log("");
  printTable(head, body);

  // ---- table 2: ratios
  const ops = (r: ReadRow, k: ReadKind) => r.cells[k]?.opsPerSec;
  const syncQd1 = rows.find((r) => r.depth === 1)?.cells.readSync?.opsPerSec;
  const ratioHead = ["ratio", ...rows.map((r) => `${r.depth} in flight`)];
  const ratioBody = [
    ["Uring / fs.promises", ...rows.map((r) => fmtRatio(ops(r, "uring"), ops(r, "promises")))],
    ["Uring / readSync loop", ...rows.map((r) => fmtRatio(ops(r, "uring"), syncQd1))],
    ["Uring / Bun.file", ...rows.map((r) => fmtRatio(ops(r, "uring"), ops(r, "bunfile")))],
    ["Uring / raw tier", ...rows.map((r) => fmtRatio(ops(r, "uring"), ops(r, "raw")))],
    ["raw tier / fio", ...rows.map((r) => fmtRatio(ops(r, "raw"), r.fio?.iops))],
    ["io_uring_enter per read: Uring", ...rows.map((r) => r.cells.uring?.entersPerOp?.toFixed(3) ?? "—")],
    ["io_uring_enter per read: raw", ...rows.map((r) => r.cells.raw?.entersPerOp?.toFixed(3) ?? "—")],
    ...o.kinds.map((k) => [`CPU, cores: ${LABEL[k]}`, ...rows.map((r) => r.cells[k]?.cores.toFixed(2) ?? "—")]),
  ];
  console.log("");
  printTable(ratioHead, ratioBody);
  console.log("(readSync is measured at 1 in flight; the Uring / readSync row compares every depth with that one number;");
  console.log(" CPU: user + sys of the whole cell process over its measured run — above 1 core, other threads did part of the work)");
  if (rows.some((r) => r.fio)) {
    const cpu = rows.filter((r) => r.fio).map((r) => `${r.depth}: ${r.fio!.usrCpu.toFixed(0)}% usr + ${r.fio!.sysCpu.toFixed(0)}% sys`);
    console.log(`(fio ±: σ of its per-interval IOPS samples; its CPU by depth — ${cpu.join(", ")})`);
  }

  // ---- verdicts
  const at32 = rows.find((r) => r.depth === 32);
  const verdicts: Verdict[] = [];
  const u32 = at32 ? ops(at32, "uring") : undefined;
  const p32 = at32 ? ops(at32, "promises") : undefined;
  verdicts.push(
    u32 !== undefined && p32 !== undefined
      ? { goal: "Uring at 32 in flight ≥ 2× fs.promises", pass: u32 >= 2 * p32, got: `${fmtM(u32)} vs ${fmtM(p32)} = ${fmtRatio(u32, p32)}` }
      : { goal: "Uring at 32 in flight ≥ 2× fs.promises", pass: null, got: "", note: "depth 32 or a kind was not measured" },
  );
  verdicts.push(
    u32 !== undefined && syncQd1 !== undefined
      ? { goal: "Uring at 32 in flight ≥ the readSync loop", pass: u32 >= syncQd1, got: `${fmtM(u32)} vs ${fmtM(syncQd1)} = ${fmtRatio(u32, syncQd1)}` }
      : { goal: "Uring at 32 in flight ≥ the readSync loop", pass: null, got: "", note: "depth 32 or readSync was not measured" },
  );
  const fioRows = rows.filter((r) => r.fio && r.cells.raw);
  if (fioRows.length === 0) {
    verdicts.push({ goal: "raw tier ≥ 90% of fio io_uring at matching depth", pass: null, got: "", note: fioNote ?? "fio did not run" });
  } else {
    const each = fioRows.map((r) => ({ depth: r.depth, ratio: r.cells.raw!.opsPerSec / r.fio!.iops }));
    verdicts.push({
      goal: "raw tier ≥ 90% of fio io_uring at matching depth",
      pass: each.every((e) => e.ratio >= 0.9),
      got: each.map((e) => `${e.depth}: ${(e.ratio * 100).toFixed(0)}%`).join(", "),
    });
  }
  console.log("");
  printVerdicts(verdicts);
  if (maybeRemoveBigFile(o.file)) console.log(`(removed ${o.file}: BUN_URING_BENCH_CLEAN is set)`);
  return { rows, fioNote, verdicts };
}

if (import.meta.main) {
  const cell = cellArgs();
  if (cell) {
    // A child of run(): one cell, its ReadCell as the last line of stdout.
    const [kind, depth, opts] = cell;
    const o: ReadBenchOptions = { ...DEFAULTS, ...(JSON.parse(opts ?? "{}") as Partial<ReadBenchOptions>) };
    console.log(JSON.stringify(await measureCell(kind as ReadKind, Number(depth), o)));
  } else {
    printEnv();
    await run();
  }
}
