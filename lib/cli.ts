#!/usr/bin/env bun
/**
 * The `bun-uring` command (package.json `bin`): `bunx bun-uring <command>`.
 * Arguments are parsed with zod at this edge; errors print a clear message and exit 2.
 */
import { z } from "zod";
import pkg from "../package.json" with { type: "json" };
import { IORING_FEAT_FLAG_NAMES, IORING_SETUP_FLAG_NAMES, decodeFlags } from "./constants.ts";
import { UringError } from "./errors.ts";
import { IoUring } from "./ring.ts";

const HELP = `bun-uring ${pkg.version} — Linux io_uring for Bun, in TypeScript

Usage:
  bun-uring probe [--json]     what this kernel's io_uring supports (opcodes, features, memory mode)
  bun-uring version            print the version
  bun-uring help               this text

Exit codes: 0 ok, 1 failure, 2 bad arguments.`;

const ProbeArgs = z.object({ json: z.boolean().default(false) }).strict();

/**
 * Parse `--flag` style arguments into an object: `booleans` take no value, `values` take
 * `--key value` or `--key=value`; anything else is an unknown option.
 */
export function parseFlags(
  argv: string[],
  booleans: readonly string[],
  values: readonly string[] = [],
): { flags: Record<string, unknown>; rest: string[] } {
  const flags: Record<string, unknown> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("--") || a === "--") {
      rest.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const key = (eq < 0 ? a.slice(2) : a.slice(2, eq)).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!booleans.includes(key) && !values.includes(key)) throw new CliError(`unknown option ${eq < 0 ? a : a.slice(0, eq)}`);
    if (booleans.includes(key)) {
      if (eq >= 0) throw new CliError(`--${a.slice(2, eq)} takes no value`);
      flags[key] = true;
    } else if (eq >= 0) flags[key] = a.slice(eq + 1);
    else if (i + 1 < argv.length) flags[key] = argv[++i];
    else throw new CliError(`--${a.slice(2)} needs a value`);
  }
  return { flags, rest };
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

function probe(argv: string[]): number {
  const { flags, rest } = parseFlags(argv, ["json"]);
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
      case "probe":
        return probe(rest);
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
