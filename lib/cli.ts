#!/usr/bin/env bun
/**
 * The `bun-uring` command (package.json `bin`): `bunx bun-uring <command>`.
 * Arguments are parsed with zod at this edge; errors print a clear message and exit 2.
 */
import { existsSync, lstatSync, statSync, writeSync, type Stats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { z } from "zod";
import pkg from "../package.json" with { type: "json" };
import { IORING_FEAT_FLAG_NAMES, IORING_SETUP_FLAG_NAMES, decodeFlags } from "./constants.ts";
import { COPY_DEFAULTS, copyFile, copyTree, type CopyError, type CopyOptions, type CopyProgress, type CopySummary } from "./copy.ts";
import { UringError } from "./errors.ts";
import { ProgressLine, formatBytes } from "./progress.ts";
import { DemoArgs, demo } from "./demo.ts";
import { IoUring } from "./ring.ts";
import { type LearnOptions, learn, SCENARIO_NAMES } from "./learn.ts";

/** Limits of the numeric cp options: the ones CopyOptionsSchema (lib/copy.ts) accepts. */
const QUEUE_DEPTH_MAX = 4096;
const BLOCK_SIZE_MIN = 4096;
const BLOCK_SIZE_MAX = 64 << 20;

/** A byte count the way --block-size takes it: 1M, 128K, 4096. */
function sizeText(n: number): string {
  return n % (1 << 20) === 0 ? `${n / (1 << 20)}M` : n % 1024 === 0 ? `${n / 1024}K` : String(n);
}

const CP_HELP = `Usage: bun-uring cp [options] SRC DST
       bun-uring cp [options] SRC... DIR

Copy SRC to DST, or each SRC into the existing directory DIR (as DIR/basename(SRC)),
through io_uring. Every file is written under a temporary name and renamed into place
when complete: an interrupted copy never leaves a partial file under its final name.

Options:
  -r, -R, --recursive    copy directories recursively
  -a, --archive          same as -r --preserve=all --no-dereference
  -L, --dereference      follow symbolic links in SRC (copy what they point to)
  -P, --no-dereference   copy symbolic links as links (the default with -r)
  -p                     same as --preserve=mode,timestamps,ownership
      --preserve[=LIST]  keep these attributes: mode, timestamps, ownership, links, all
                         (comma-separated; without a list: mode,timestamps,ownership)
  -n, --no-clobber       never replace an existing file (it is skipped)
  -f, --force            replace existing files, even read-only ones (the default;
                         ignored with -n)
      --fsync            fsync each file before renaming it into place
      --verify           re-read source and copy afterwards and compare sha256 checksums
      --continue         after an error, copy the rest; list every failure at the end
      --ring-only        copy large files through io_uring splices too (default: the
                         kernel's copy_file_range on a worker thread, as cp does)
      --queue-depth N    blocks in flight over all files, 1-${QUEUE_DEPTH_MAX} (default ${COPY_DEFAULTS.queueDepth})
      --block-size SIZE  bytes per read/write: 4096, 128K, 1M, ... a multiple of 4K
                         up to 64M (default ${sizeText(COPY_DEFAULTS.blockSize)})
      --json             print one JSON object on stdout: files, dirs, symlinks, hardlinks,
                         bytes, seconds, mbPerSec, errors, skipped
      --progress         draw the progress bar on stderr even when it is not a terminal
      --no-progress      never draw it (default: drawn when stderr is a terminal)
  -q, --quiet            no summary line and no skip warnings (errors still print)
  -h, --help             this text

Short options combine (-rf, -an); -- ends the options. Without -r, symbolic links in SRC
are followed; with -r they are copied as links unless -L. Without --continue, the first
error while copying stops the command; a source that cannot be copied at all (missing,
a directory without -r) is reported and the other sources are still copied. FIFOs,
sockets and devices are skipped with a warning.

Exit status: 0 ok, 1 something failed, 2 bad arguments, 130 SIGINT, 143 SIGTERM.`;

const HELP = `bun-uring ${pkg.version} — Linux io_uring for Bun, in TypeScript

Usage:
  bun-uring cp [options] SRC... DST  copy files and directory trees through io_uring
  bun-uring demo [--size MiB] [--files N]
                                     make a sample tree in a temp dir, copy it with the progress bar, verify, clean up
  bun-uring probe [--json]           what this kernel's io_uring supports (opcodes, features, memory mode)
  bun-uring trace [--json] [--output FILE] SCRIPT [ARGS...]
                                     run a script with every ring protocol step printed (BUN_URING_TRACE)
  bun-uring learn [--scenario NAME] [--steps N] [--svg FILE]
                                     draw the SQ and CQ rings slot by slot while scenarios run, a key per step
  bun-uring version                  print the version
  bun-uring help                     this text

bun-uring cp
${CP_HELP.replace(/^/gm, "  ").replace(/^ +$/gm, "")}

Exit codes: 0 ok, 1 failure, 2 bad arguments, 130/143 interrupted (SIGINT/SIGTERM).`;

const TRACE_HELP = `Usage: bun-uring trace [--json] [--output FILE] SCRIPT [ARGS...]

Run \`bun SCRIPT ARGS...\` with BUN_URING_TRACE set, so every io_uring ring the script makes
through bun-uring prints each protocol step: SQE filled, SQ tail published (release store),
io_uring_enter (to_submit, min_complete, flags, result or errno), SQ head and CQ tail observed
(acquire), CQE read, CQ head advanced (release store), every io_uring_register.
Rings made with their own \`trace\` option keep it.

Options:
      --json           one JSON object per line (NDJSON) instead of readable lines
  -o, --output FILE    append the trace to FILE instead of stderr
  -h, --help           this text

The same without this command: BUN_URING_TRACE=1 bun script.ts (json for NDJSON;
BUN_URING_TRACE_FILE=FILE to write to a file). Exit status: the script's.`;

const LEARN_HELP = `Usage: bun-uring learn [--scenario NAME] [--steps N] [--svg FILE]

Draw both rings of a real io_uring (4 SQ entries, 8 CQ entries) as boxes, slot by slot, with
their head (H), tail (T) and next-SQE (N) markers, and step through scenarios one keypress at a
time (space/enter: next, q: quit). Scenarios, in course order:
  nop       one NOP: fill, publish the tail, enter, read the CQE, advance the head
  batch     four SQEs with one tail store and one enter; the SQ wraps to slot 0
  link      NOP → READ(fd -1) → NOP linked with IOSQE_IO_LINK: 0, -EBADF, -ECANCELED
  overflow  twelve NOPs into an 8-entry CQ: the kernel's backlog and IORING_SQ_CQ_OVERFLOW
  wrap      the counters past 2^32, on a synthetic ring (a JS peer plays the kernel; labelled)

Options:
      --scenario NAME  one of: ${SCENARIO_NAMES.join(", ")}, all (default all)
      --steps N        print the first N pictures as plain text and exit (for pipes and tests);
                       without a terminal, every picture is printed
      --svg FILE       write the last picture shown as an SVG (each slot a named <rect>)
  -h, --help           this text`;

const TraceArgs = z
  .object({
    json: z.boolean().default(false),
    output: z.string().min(1).optional(),
  })
  .strict();

const ProbeArgs = z.object({ json: z.boolean().default(false) }).strict();

// ------------------------------------------------------------------ argument parsing

/** One command-line option: its spellings, whether it takes a value, and what it does to the flags. */
export interface OptionSpec {
  /** Long names without the leading `--`: `["recursive"]`. */
  long?: readonly string[];
  /** Single-letter names, each usable as `-x` and inside a group (`-rf`): `"rR"`. */
  short?: string;
  /**
   * `"none"` (default): a switch. `"required"`: `--key value`, `--key=value`, `-k value`, `-kvalue`.
   * `"optional"`: only `--key=value` (bare `--key` passes undefined), as GNU's `--preserve[=LIST]`.
   */
  value?: "none" | "required" | "optional";
  /** What the value is (see CliFlag.kind); only for options that take one. */
  kind?: ValueKind;
  /** Record the option in `flags`; called in command-line order, so a later option wins. */
  apply(flags: Record<string, unknown>, value: string | undefined): void;
}

/**
 * Parse `argv` against `specs`: long options (`--key`, `--key=value`, `--key value`), short
 * options that combine (`-rf`, `-an`), `--` to end the options; everything else, `-` included,
 * is an operand. An option not in `specs` throws CliError `unknown option -x` / `unknown option --xyz`.
 */
export function parseArgv(argv: readonly string[], specs: readonly OptionSpec[]): { flags: Record<string, unknown>; operands: string[] } {
  const flags: Record<string, unknown> = {};
  const operands: string[] = [];
  const byLong = new Map<string, OptionSpec>();
  const byShort = new Map<string, OptionSpec>();
  for (const s of specs) {
    for (const l of s.long ?? []) byLong.set(l, s);
    for (const c of s.short ?? "") byShort.set(c, s);
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const spec = byLong.get(name);
      if (!spec) throw new CliError(`unknown option --${name}`);
      const kind = spec.value ?? "none";
      if (kind === "none") {
        if (eq >= 0) throw new CliError(`--${name} takes no value`);
        spec.apply(flags, undefined);
      } else if (eq >= 0) spec.apply(flags, a.slice(eq + 1));
      else if (kind === "optional") spec.apply(flags, undefined);
      else if (i + 1 < argv.length) spec.apply(flags, argv[++i]);
      else throw new CliError(`--${name} needs a value`);
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const c = a[k]!;
        const spec = byShort.get(c);
        if (!spec) throw new CliError(`unknown option -${c}`);
        if ((spec.value ?? "none") !== "required") {
          spec.apply(flags, undefined);
          continue;
        }
        // a value option ends the group: the rest of it, or the next argument, is its value
        if (k + 1 < a.length) spec.apply(flags, a.slice(k + 1));
        else if (i + 1 < argv.length) spec.apply(flags, argv[++i]);
        else throw new CliError(`-${c} needs a value`);
        break;
      }
      continue;
    }
    operands.push(a);
  }
  return { flags, operands };
}

/**
 * Parse `--flag` style arguments into an object: `booleans` take no value, `values` take
 * `--key value` or `--key=value`; `short` maps single letters to either kind (`{ j: "json" }`),
 * and short switches combine (`-jq`). Keys are camelCase (`--queue-depth` → `queueDepth`);
 * anything else is an unknown option.
 */
export function parseFlags(
  argv: string[],
  booleans: readonly string[],
  values: readonly string[] = [],
  short: Readonly<Record<string, string>> = {},
): { flags: Record<string, unknown>; rest: string[] } {
  const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const letters = (key: string) =>
    Object.entries(short)
      .filter(([, k]) => k === key)
      .map(([c]) => c)
      .join("");
  const specs: OptionSpec[] = [
    ...booleans.map((key): OptionSpec => ({ long: [kebab(key)], short: letters(key), apply: (f) => void (f[key] = true) })),
    ...values.map((key): OptionSpec => ({ long: [kebab(key)], short: letters(key), value: "required", apply: (f, v) => void (f[key] = v) })),
  ];
  const { flags, operands } = parseArgv(argv, specs);
  return { flags, rest: operands };
}

/** A usage error: printed without a stack, exit code 2. */
export class CliError extends Error {
  override name = "CliError";
}

/** Turn a zod failure into one line per problem, naming the flag. */
export function zodMessage(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const flag = i.path.length ? `--${String(i.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : "arguments";
      if (i.code === "unrecognized_keys") return `unknown option(s): ${i.keys.map((k) => `--${k}`).join(", ")}`;
      return `${flag}: ${i.message}`;
    })
    .join("\n");
}

// ------------------------------------------------------------------ cp arguments

/**
 * A size with an optional unit, as GNU tools read it: `4096`, `128K` / `128KiB` (×1024),
 * `1M`, `2G`; `KB`, `MB`, `GB` are decimal (×1000). NaN if it is not one.
 */
export function parseSize(text: string): number {
  const m = /^(\d+)\s*(?:([KMGT])(i?B)?|B)?$/i.exec(text.trim());
  if (!m) return Number.NaN;
  const unit = m[2] ? "KMGT".indexOf(m[2].toUpperCase()) + 1 : 0;
  const base = m[3] && m[3].toUpperCase() === "B" ? 1000 : 1024;
  return Number(m[1]) * base ** unit;
}

const PRESERVE_ITEMS = ["mode", "timestamps", "ownership", "links"] as const;
/** `-p` and a bare `--preserve`: the attributes GNU cp keeps by default with --preserve. */
const PRESERVE_DEFAULT = "mode,timestamps,ownership";

function addPreserve(f: Record<string, unknown>, list: string): void {
  f.preserve = [...((f.preserve as string[] | undefined) ?? []), ...list.split(",").map((s) => s.trim())];
}

const CP_OPTIONS: readonly OptionSpec[] = [
  { long: ["recursive"], short: "rR", apply: (f) => void (f.recursive = true) },
  {
    long: ["archive"],
    short: "a",
    apply: (f) => {
      f.recursive = true;
      f.dereference = false;
      addPreserve(f, "all");
    },
  },
  { long: ["dereference"], short: "L", apply: (f) => void (f.dereference = true) },
  { long: ["no-dereference"], short: "P", apply: (f) => void (f.dereference = false) },
  { long: ["preserve"], value: "optional", kind: "enum", apply: (f, v) => addPreserve(f, v ?? PRESERVE_DEFAULT) },
  { short: "p", apply: (f) => addPreserve(f, PRESERVE_DEFAULT) },
  { long: ["no-clobber"], short: "n", apply: (f) => void (f.noClobber = true) },
  { long: ["force"], short: "f", apply: (f) => void (f.force = true) },
  { long: ["fsync"], apply: (f) => void (f.fsync = true) },
  { long: ["verify"], apply: (f) => void (f.verify = true) },
  { long: ["continue"], apply: (f) => void (f.continue = true) },
  { long: ["ring-only"], apply: (f) => void (f.ringOnly = true) },
  { long: ["queue-depth"], value: "required", kind: "number", apply: (f, v) => void (f.queueDepth = v) },
  { long: ["block-size"], value: "required", kind: "number", apply: (f, v) => void (f.blockSize = v) },
  { long: ["json"], apply: (f) => void (f.json = true) },
  { long: ["progress"], apply: (f) => void (f.progress = true) },
  { long: ["no-progress"], apply: (f) => void (f.progress = false) },
  { long: ["quiet"], short: "q", apply: (f) => void (f.quiet = true) },
  { long: ["help"], short: "h", apply: (f) => void (f.help = true) },
];

const CpFlags = z
  .object({
    recursive: z.boolean().default(false),
    dereference: z.boolean().optional(),
    preserve: z
      .array(
        z.enum([...PRESERVE_ITEMS, "all"], {
          error: (i) => `unknown attribute '${String(i.input)}' (expected a comma-separated list of ${PRESERVE_ITEMS.join(", ")} or all)`,
        }),
      )
      .default([])
      .transform((items) => [...new Set(items.flatMap((p) => (p === "all" ? PRESERVE_ITEMS : [p])))]),
    noClobber: z.boolean().default(false),
    force: z.boolean().default(false),
    fsync: z.boolean().default(false),
    verify: z.boolean().default(false),
    continue: z.boolean().default(false),
    ringOnly: z.boolean().default(false),
    queueDepth: z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (s === undefined) return undefined;
        const n = /^\s*\d+\s*$/.test(s) ? Number(s) : Number.NaN;
        if (n >= 1 && n <= QUEUE_DEPTH_MAX) return n;
        ctx.addIssue({ code: "custom", message: `expected a whole number from 1 to ${QUEUE_DEPTH_MAX}; got '${s}'` });
        return z.NEVER;
      }),
    blockSize: z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (s === undefined) return undefined;
        const n = parseSize(s);
        if (Number.isNaN(n)) ctx.addIssue({ code: "custom", message: `expected a size like 4096, 128K or 1M; got '${s}'` });
        else if (n < BLOCK_SIZE_MIN || n > BLOCK_SIZE_MAX || n % 4096 !== 0)
          ctx.addIssue({ code: "custom", message: `must be a multiple of 4096 from 4K to 64M; got '${s}' (${n} bytes)` });
        else return n;
        return z.NEVER;
      }),
    json: z.boolean().default(false),
    progress: z.boolean().optional(),
    quiet: z.boolean().default(false),
    help: z.boolean().default(false),
  })
  .strict();

/** What `bun-uring cp …` asks for, validated. */
export interface CpArgs {
  help: boolean;
  sources: string[];
  dest: string;
  recursive: boolean;
  /** -L true, -P/-a false, neither undefined (then: follow operands unless -r). */
  dereference: boolean | undefined;
  /** force/true/false: --progress, --no-progress, or neither (then: iff stderr is a TTY and not --quiet). */
  progress: boolean | undefined;
  json: boolean;
  quiet: boolean;
  continue: boolean;
  /** The library options these flags map to (no callbacks yet). */
  copy: CopyOptions;
}

/**
 * Parse and validate `bun-uring cp` arguments (no file system access). Throws CliError with a
 * message naming the flag: `--block-size: expected a size like 4096, 128K or 1M; got 'x'`.
 */
export function parseCpArgs(argv: readonly string[]): CpArgs {
  const { flags, operands } = parseArgv(argv, CP_OPTIONS);
  const parsed = CpFlags.safeParse(flags);
  if (!parsed.success) throw new CliError(zodMessage(parsed.error));
  const f = parsed.data;
  if (!f.help) {
    if (operands.length === 0) throw new CliError("missing file operand");
    if (operands.length === 1) throw new CliError(`missing destination file operand after '${operands[0]}'`);
    if (operands.some((o) => o === "")) throw new CliError("a file operand is empty");
    if (operands.some((o) => o.includes("\0"))) throw new CliError("a file operand contains a NUL byte");
  }
  const copy: CopyOptions = {};
  if (f.preserve.length) copy.preserve = f.preserve;
  // GNU cp: -f is ignored when -n is given, whatever the order
  if (f.noClobber) copy.noClobber = true;
  else if (f.force) copy.force = true;
  if (f.fsync) copy.fsync = true;
  if (f.verify) copy.verify = true;
  if (f.continue) copy.continueOnError = true;
  if (f.ringOnly) copy.copyFileRange = false;
  if (f.queueDepth !== undefined) copy.queueDepth = f.queueDepth;
  if (f.blockSize !== undefined) copy.blockSize = f.blockSize;
  return {
    help: f.help,
    sources: operands.slice(0, -1),
    dest: operands.at(-1) ?? "",
    recursive: f.recursive,
    dereference: f.dereference,
    progress: f.progress,
    json: f.json,
    quiet: f.quiet,
    continue: f.continue,
    copy,
  };
}

// ------------------------------------------------------------------ cp

/** One source operand, classified before anything is copied. */
interface Operand {
  src: string;
  target: string;
  /** "file": copyFile (follows links); "tree": copyTree (a directory, or a link kept as a link). */
  kind: "file" | "tree";
  /** Bytes known up front (regular files), for the progress totals. */
  size: number;
}

/** A CopyError for something thrown (a UringError, an AbortError, …). */
function copyErrorOf(e: unknown, path: string, dest?: string): CopyError {
  const x = e as { code?: string; syscall?: string; message?: string; path?: string; dest?: string };
  const d = x.dest ?? dest;
  return {
    path: x.path ?? path,
    ...(d !== undefined ? { dest: d } : {}),
    code: x.code ?? "EUNKNOWN",
    syscall: x.syscall ?? "copy",
    message: x.message ?? String(e),
  };
}

/** A cp-level failure that is not an errno from the kernel (cp's own wording, as GNU cp says it). */
function cpError(path: string, code: string, message: string): CopyError {
  return { path, code, syscall: "cp", message };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** `bun-uring cp`: returns the exit code. */
async function cp(argv: string[]): Promise<number> {
  const t0 = performance.now();
  let bar: ProgressLine | null = null;
  /** A line on stderr, above the progress line if one is drawn. */
  const stderr = (text: string) => (bar ? bar.log(text) : void writeSync(2, `${text}\n`));
  let args: CpArgs;
  try {
    args = parseCpArgs(argv);
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    console.error(`bun-uring cp: ${e.message.replace(/\n/g, "\nbun-uring cp: ")}`);
    console.error("Try 'bun-uring cp --help' for more information.");
    return 2;
  }
  if (args.help) {
    console.log(CP_HELP);
    return 0;
  }
  if (args.progress ?? (!args.quiet && process.stderr.isTTY === true)) bar = new ProgressLine();

  const total: CopySummary = { files: 0, dirs: 0, symlinks: 0, hardlinks: 0, bytes: 0, seconds: 0, errors: [], skipped: [], verified: 0 };
  /** Failures reported now (not only in the --continue list at the end). */
  const fail = (err: CopyError) => {
    total.errors.push(err);
    if (!args.continue) stderr(`bun-uring cp: ${err.message}`);
  };

  // SIGINT/SIGTERM abort the copy through its signal: the library removes its temporary files.
  // A second signal while the first is being handled exits at once.
  const ac = new AbortController();
  let interrupted = 0;
  const onSignal = (name: "SIGINT" | "SIGTERM") => {
    const code = name === "SIGINT" ? 130 : 143;
    if (interrupted) process.exit(interrupted);
    interrupted = code;
    ac.abort(new Error(`interrupted by ${name}`));
  };
  const onInt = () => onSignal("SIGINT");
  const onTerm = () => onSignal("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  // A safety net: a promise rejection nobody awaited during the copy is a failure of its own
  // (reported, exit 1) — unless the copy already failed or was interrupted, when it can only be
  // an echo of that failure.
  const strays: unknown[] = [];
  const onStray = (e: unknown) => void strays.push(e);
  process.on("unhandledRejection", onStray);

  try {
    // --- where each source goes
    let destStat: Stats | undefined;
    try {
      destStat = statSync(args.dest);
    } catch {
      destStat = undefined;
    }
    const intoDir = destStat?.isDirectory() === true;
    if (args.sources.length > 1 && !intoDir) {
      fail(cpError(args.dest, "ENOTDIR", `target '${args.dest}' is not a directory`));
      return finish();
    }
    const ops: Operand[] = [];
    for (const src of args.sources) {
      const follow = args.dereference ?? !args.recursive;
      let st: Stats;
      try {
        st = follow ? statSync(src) : lstatSync(src);
      } catch (e) {
        const errno = (e as { errno?: number }).errno;
        fail(copyErrorOf(typeof errno === "number" ? new UringError(errno, follow ? "stat" : "lstat", { path: src }) : e, src));
        continue;
      }
      const target = intoDir ? join(args.dest, basename(src)) : args.dest;
      if (st.isDirectory()) {
        if (!args.recursive) {
          fail(cpError(src, "EISDIR", `-r not specified; omitting directory '${src}'`));
          continue;
        }
        ops.push({ src, target, kind: "tree", size: 0 });
      } else if (st.isSymbolicLink()) {
        ops.push({ src, target, kind: "tree", size: 0 }); // not followed: copyTree copies the link as a link
      } else {
        const same = sameFile(st, target);
        if (same) {
          fail(cpError(src, "EINVAL", `'${src}' and '${target}' are the same file`));
          continue;
        }
        ops.push({ src, target, kind: "file", size: st.isFile() ? st.size : 0 });
      }
    }

    // --- progress over the whole command: finished operands + the current one + the files still to come
    let pendingBytes = ops.reduce((n, o) => n + o.size, 0);
    let pendingFiles = ops.filter((o) => o.kind === "file").length;
    let pendingTrees = ops.filter((o) => o.kind === "tree").length;
    // For a file operand the totals are known from the start; a tree's are while its walk runs.
    let current: Operand["kind"] = "file";
    const draw = (p: CopyProgress | null, force = false) =>
      bar?.update(
        {
          bytes: total.bytes + (p?.bytes ?? 0),
          totalBytes: total.bytes + (p?.totalBytes ?? 0) + pendingBytes,
          files: total.files + (p?.files ?? 0),
          totalFiles: total.files + (p?.totalFiles ?? 0) + pendingFiles,
          dirs: total.dirs + (p?.dirs ?? 0),
          scanning: (current === "tree" && (p?.scanning ?? false)) || pendingTrees > 0,
          seconds: (performance.now() - t0) / 1000,
        },
        force,
      );
    draw(null, true);

    // --- copy, one operand after the other
    for (const op of ops) {
      if (ac.signal.aborted) break;
      if (op.kind === "file") {
        pendingBytes -= op.size;
        pendingFiles--;
      } else pendingTrees--;
      current = op.kind;
      let last: CopyProgress | null = null;
      const options: CopyOptions = {
        ...args.copy,
        signal: ac.signal,
        progressInterval: 100,
        onProgress: (p) => {
          last = p;
          draw(p);
        },
      };
      let s: CopySummary;
      try {
        s =
          op.kind === "file"
            ? await copyFile(op.src, op.target, options)
            : await copyTree(op.src, op.target, { ...options, dereference: args.dereference ?? false });
      } catch (e) {
        // what got done before the failure (the library reports progress once more at the end)
        const done = last as CopyProgress | null;
        if (done) {
          total.files += done.files;
          total.dirs += done.dirs;
          total.bytes += done.bytes;
        }
        const code = (e as { code?: string }).code ?? "";
        if ((e instanceof TypeError || e instanceof RangeError) && code.startsWith("ERR_")) {
          // an option the library refused that the CLI let through: a usage error all the same
          bar?.clear();
          console.error(`bun-uring cp: ${e.message}`);
          return 2;
        }
        if (ac.signal.aborted) {
          total.errors.push(copyErrorOf(e, op.src, op.target));
          break;
        }
        fail(copyErrorOf(e, op.src, op.target));
        if (!args.continue) break;
        continue;
      }
      total.files += s.files;
      total.dirs += s.dirs;
      total.symlinks += s.symlinks;
      total.hardlinks += s.hardlinks;
      total.bytes += s.bytes;
      total.verified += s.verified;
      total.errors.push(...s.errors);
      total.skipped.push(...s.skipped);
      draw(null);
    }
    // strays are reported on a later turn of the event loop: let them arrive
    await new Promise((r) => setImmediate(r));
    if (!interrupted && total.errors.length === 0) for (const e of strays) fail(copyErrorOf(e, ""));
    return finish();
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    process.off("unhandledRejection", onStray);
    bar?.clear();
  }

  /** Print the summary (or the JSON), the skips and the failures; the exit code. */
  function finish(): number {
    bar?.clear();
    const seconds = (performance.now() - t0) / 1000;
    const mbPerSec = seconds > 0 ? total.bytes / 1e6 / seconds : 0;
    if (interrupted) stderr(`bun-uring cp: interrupted by ${interrupted === 130 ? "SIGINT" : "SIGTERM"}; the copy was stopped`);
    if (args.json) {
      console.log(
        JSON.stringify({
          files: total.files,
          dirs: total.dirs,
          symlinks: total.symlinks,
          hardlinks: total.hardlinks,
          bytes: total.bytes,
          seconds: Math.round(seconds * 1000) / 1000,
          mbPerSec: Math.round(mbPerSec * 100) / 100,
          verified: total.verified,
          errors: total.errors,
          skipped: total.skipped,
        }),
      );
    } else if (!args.quiet && (total.errors.length === 0 || total.files + total.dirs + total.symlinks > 0)) {
      // nothing copied and a failure: the error says it all (as with cp)
      const extra = [plural(total.dirs, "dir"), plural(total.symlinks, "symlink")];
      if (total.hardlinks) extra.push(plural(total.hardlinks, "hard link"));
      const verified = args.copy.verify ? `; ${total.verified} verified (sha256)` : "";
      console.log(
        `copied ${plural(total.files, "file")} (${extra.join(", ")}), ${formatBytes(total.bytes)} in ${seconds.toFixed(2)} s (${mbPerSec.toFixed(1)} MB/s)${verified}`,
      );
      const clobbered = total.skipped.filter((s) => s.reason.includes("no-clobber")).length;
      for (const s of total.skipped) if (!s.reason.includes("no-clobber")) stderr(`bun-uring cp: skipped: '${s.path}' (${s.reason})`);
      if (clobbered) stderr(`bun-uring cp: skipped: ${plural(clobbered, "existing file")} (--no-clobber)`);
    }
    if (args.continue && total.errors.length) {
      stderr(`bun-uring cp: ${plural(total.errors.length, "failure")}:`);
      for (const e of total.errors) stderr(`  ${e.message.replace(/\n/g, "\n  ")}`);
    }
    if (interrupted) return interrupted;
    return total.errors.length ? 1 : 0;
  }
}

/** Whether `target` exists and is the same inode as the source `st` (cp refuses to copy a file onto itself). */
function sameFile(st: Stats, target: string): boolean {
  try {
    const t = statSync(target);
    return t.dev === st.dev && t.ino === st.ino;
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------ probe

function probe(argv: string[]): number {
  const { flags, rest } = parseFlags(argv, PROBE_SWITCHES);
  if (rest.length) throw new CliError(`probe takes no arguments; got ${rest.join(" ")}`);
  const parsed = ProbeArgs.safeParse(flags);
  if (!parsed.success) throw new CliError(zodMessage(parsed.error));
  using ring = new IoUring(2);
  const p = ring.probe();
  const info = {
    kernel: require("node:os").release() as string,
    memory: ring.memory.mode,
    setupFlags: decodeFlags(ring.flags, IORING_SETUP_FLAG_NAMES),
    features: decodeFlags(ring.features, IORING_FEAT_FLAG_NAMES),
    lastOp: p.lastOp,
    supported: p.supported(),
  };
  if (parsed.data.json) console.log(JSON.stringify(info));
  else {
    console.log(`kernel ${info.kernel}: io_uring available, rings in ${info.memory} memory`);
    console.log(`setup flags: ${info.setupFlags.join(" | ") || "none"}`);
    console.log(`features: ${info.features.join(" ")}`);
    console.log(`opcodes (${info.supported.length} of ${p.lastOp + 1}): ${info.supported.join(" ")}`);
  }
  return 0;
}

// ------------------------------------------------------------------ trace and learn

/** `bun-uring trace [options] SCRIPT [ARGS...]`: options end at SCRIPT; the rest is the script's. */
async function traceCommand(argv: string[]): Promise<number> {
  const first = argv.findIndex((a) => !a.startsWith("-") || a === "-");
  const ddash = argv.indexOf("--");
  const split = ddash >= 0 && (first < 0 || ddash < first) ? ddash : first;
  const own = split < 0 ? argv : argv.slice(0, split);
  const script = split < 0 ? [] : argv.slice(split === ddash ? split + 1 : split);
  if (own.includes("-h") || own.includes("--help")) {
    console.log(TRACE_HELP);
    return 0;
  }
  // --output takes a value: when its value was taken for the script, put it back
  let ownArgs = own;
  let rest = script;
  const last = own[own.length - 1];
  if ((last === "--output" || last === "-o") && script.length) {
    ownArgs = [...own, script[0]!];
    rest = script.slice(1);
  }
  const { flags, rest: extra } = parseFlags(ownArgs, TRACE_SWITCHES, TRACE_VALUES, { o: "output" });
  if (extra.length) throw new CliError(`trace: unexpected ${extra.join(" ")}`);
  const parsed = TraceArgs.safeParse(flags);
  if (!parsed.success) throw new CliError(zodMessage(parsed.error));
  if (parsed.data.output !== undefined) checkOutputFile("--output", parsed.data.output);
  const [file, ...args] = rest;
  if (!file) throw new CliError("trace needs a script: bun-uring trace [--json] [--output FILE] SCRIPT [ARGS...]");
  if (!existsSync(file)) throw new CliError(`trace: no such script: ${file}`);
  const env: Record<string, string | undefined> = { ...process.env, BUN_URING_TRACE: parsed.data.json ? "json" : "1" };
  if (parsed.data.output) env.BUN_URING_TRACE_FILE = parsed.data.output;
  else delete env.BUN_URING_TRACE_FILE;
  const child = Bun.spawn([process.execPath, file, ...args], { env, stdio: ["inherit", "inherit", "inherit"] });
  const code = await child.exited;
  return child.signalCode ? 128 + (require("node:os").constants.signals[child.signalCode] ?? 0) : code;
}

const LearnArgs = z
  .object({
    /** Print this many pictures as plain text and stop (for pipes and tests). */
    steps: z.coerce.number().int().min(1).max(1000).optional(),
    /** One scenario, or all of them in course order. */
    scenario: z.enum([...SCENARIO_NAMES, "all"] as [string, ...string[]]).default("all"),
    /** Write the last picture shown as an SVG to this file. */
    svg: z.string().min(1).optional(),
  })
  .strict() satisfies z.ZodType<LearnOptions>;

async function learnCommand(argv: string[]): Promise<number> {
  if (argv.includes("-h") || argv.includes("--help")) {
    console.log(LEARN_HELP);
    return 0;
  }
  const { flags, rest } = parseFlags(argv, [], LEARN_VALUES);
  if (rest.length) throw new CliError(`learn takes no arguments; got ${rest.join(" ")}`);
  const parsed = LearnArgs.safeParse(flags);
  if (!parsed.success) throw new CliError(zodMessage(parsed.error));
  if (parsed.data.svg !== undefined) checkOutputFile("--svg", parsed.data.svg);
  return await learn(parsed.data);
}

const PROBE_SWITCHES = ["json"] as const;
const DEMO_VALUES = ["size", "files", "dir"] as const;
const TRACE_SWITCHES = ["json"] as const;
const TRACE_VALUES = ["output"] as const;
const LEARN_VALUES = ["scenario", "steps", "svg"] as const;

/**
 * What an option's value is, so the bad-input sweep knows what a bad one looks like:
 * - `"number"`, `"enum"`: a count/size or one word of a list; "abc", "-1", "NaN", "" are wrong.
 * - `"file"`: a file to write (--svg, --output). Any name is a valid file name ("abc", "-1",
 *   "NaN"); wrong is empty, a NUL byte, an existing directory, or a parent directory that is missing.
 * - `"dir"`: an existing directory (demo --dir); wrong is empty, a NUL byte, a regular file, a missing one.
 */
export type ValueKind = "number" | "enum" | "file" | "dir";

/** One flag a command takes, as the bad-input sweep (test/bad-input.test.ts) enumerates them. */
export interface CliFlag {
  /** `--queue-depth`, or `-p` for a short-only option. */
  flag: string;
  value: "none" | "required" | "optional";
  /** For options that take a value: what it is. */
  kind?: ValueKind;
}

const DEMO_KINDS: Record<(typeof DEMO_VALUES)[number], ValueKind> = { size: "number", files: "number", dir: "dir" };
const TRACE_KINDS: Record<(typeof TRACE_VALUES)[number], ValueKind> = { output: "file" };
const LEARN_KINDS: Record<(typeof LEARN_VALUES)[number], ValueKind> = { scenario: "enum", steps: "number", svg: "file" };

/**
 * A FILE value we will write (--svg, --output), checked before any work: any name is fine, but
 * not a NUL byte (fs would throw out of main()), an existing directory, or a missing parent.
 */
function checkOutputFile(flag: string, path: string): void {
  if (path.includes("\0")) throw new CliError(`${flag}: a file name must not contain NUL bytes`);
  if (path === "") throw new CliError(`${flag}: needs a file name`);
  const st = statSync(path, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw new CliError(`${flag}: ${path} is a directory; give a file name`);
  const parent = statSync(dirname(resolve(path)), { throwIfNoEntry: false });
  if (!parent?.isDirectory()) throw new CliError(`${flag}: ${dirname(resolve(path))} is not an existing directory`);
}

/** A DIR value (demo --dir): an existing directory, checked before any work. */
function checkDirectory(flag: string, path: string): void {
  if (path.includes("\0")) throw new CliError(`${flag}: a path must not contain NUL bytes`);
  const st = path === "" ? undefined : statSync(path, { throwIfNoEntry: false });
  if (!st?.isDirectory()) throw new CliError(`${flag}: ${JSON.stringify(path)} is not an existing directory`);
}

/** Every flag of every command, from the same lists the parsers use. */
export const CLI_FLAGS: Readonly<Record<string, readonly CliFlag[]>> = {
  cp: CP_OPTIONS.map((o) => ({ flag: o.long?.[0] ? `--${o.long[0]}` : `-${o.short![0]}`, value: o.value ?? "none", ...(o.kind ? { kind: o.kind } : {}) })),
  demo: DEMO_VALUES.map((k) => ({ flag: `--${k}`, value: "required" as const, kind: DEMO_KINDS[k] })),
  probe: PROBE_SWITCHES.map((k) => ({ flag: `--${k}`, value: "none" as const })),
  trace: [
    ...TRACE_SWITCHES.map((k) => ({ flag: `--${k}`, value: "none" as const })),
    ...TRACE_VALUES.map((k) => ({ flag: `--${k}`, value: "required" as const, kind: TRACE_KINDS[k] })),
  ],
  learn: LEARN_VALUES.map((k) => ({ flag: `--${k}`, value: "required" as const, kind: LEARN_KINDS[k] })),
};

/** Run the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd = "help", ...rest] = argv;
  try {
    switch (cmd) {
      case "help":
      case "--help":
      case "-h":
        console.log(HELP);
        return 0;
      case "version":
      case "--version":
      case "-v":
        console.log(pkg.version);
        return 0;
      case "demo": {
        const { flags, rest: extra } = parseFlags(rest, [], DEMO_VALUES);
        if (extra.length) throw new CliError(`demo takes no arguments; got ${extra.join(" ")}`);
        const parsed = DemoArgs.safeParse(flags);
        if (!parsed.success) throw new CliError(zodMessage(parsed.error));
        if (parsed.data.dir !== undefined) checkDirectory("--dir", parsed.data.dir);
        return await demo(parsed.data, cp);
      }
      case "probe":
        return probe(rest);
      case "trace":
        return await traceCommand(rest);
      case "learn":
        return await learnCommand(rest);
      case "cp":
        return await cp(rest);
      default:
        throw new CliError(`unknown command "${cmd}" (try: bun-uring help)`);
    }
  } catch (e) {
    if (e instanceof CliError) {
      console.error(`bun-uring: ${e.message}`);
      return 2;
    }
    if (e instanceof UringError) {
      console.error(`bun-uring: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
