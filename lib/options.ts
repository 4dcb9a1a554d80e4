/**
 * zod schemas for the public option objects — parsed once at the edge,
 * never in the hot path. An invalid option becomes a TypeError/RangeError
 * whose message names the field (`sqThreadIdle: expected a number…`).
 */
import type { z } from "zod";
import { invalidArgument } from "./errors.ts";
import type { TraceOption } from "./trace.ts";

let zodModule: { z: typeof z } | undefined;

/**
 * zod, loaded the first time something is validated: importing it is most of a cold
 * `import "bun-uring"` (~15–50 ms of ~20–70 ms on this VM, by load), and a program that passes
 * no options (`new Uring()`, `copyFile(a, b)`) never needs it.
 */
export function zod(): typeof z {
  // The ESM build, by path: `require("zod")` resolves to zod's CommonJS build, a second copy of
  // zod in a process that also imports it (the CLI does) — ~30 ms more, measured.
  zodModule ??= require(Bun.resolveSync("zod", import.meta.dir)) as { z: typeof z };
  return zodModule.z;
}

const TRUSTED = new WeakSet<object>();

/**
 * Mark an options object the library built from options it has validated already (a Uring's
 * for its IoUring, the copy ring's constants): parseOptions takes it as it is, without zod.
 */
export function trusted<T extends object>(options: T): T {
  TRUSTED.add(options);
  return options;
}

/** A zod schema built on first use (see zod()). */
export function lazySchema<S extends z.ZodType>(build: (zz: typeof z) => S): () => S {
  let schema: S | undefined;
  return () => (schema ??= build(zod()));
}

/** Options of `new IoUring(entries, options)`. */
export const IoUringOptionsSchema = lazySchema((z) => {
  const u32 = z.number().int().min(0).max(0xffffffff);
  return z.object({
    /** CQ size (IORING_SETUP_CQSIZE); rounded up to a power of two, ≥ entries. Default 2 × entries. */
    cqEntries: z.number().int().min(1).max(65536 * 2).optional(),
    /** A kernel thread polls the SQ (IORING_SETUP_SQPOLL): submissions need no syscall while it is awake. */
    sqpoll: z.boolean().optional(),
    /** SQPOLL thread idle time before it sleeps, in ms (sq_thread_idle). */
    sqThreadIdle: u32.optional(),
    /** Pin the SQPOLL thread to this CPU (IORING_SETUP_SQ_AFF). */
    sqThreadCpu: z.number().int().min(0).max(65535).optional(),
    /** IORING_SETUP_COOP_TASKRUN (Linux ≥ 5.19). */
    coopTaskrun: z.boolean().optional(),
    /** IORING_SETUP_TASKRUN_FLAG: the kernel sets IORING_SQ_TASKRUN when work waits (Linux ≥ 5.19). */
    taskrunFlag: z.boolean().optional(),
    /** IORING_SETUP_SINGLE_ISSUER: only the creating thread submits (Linux ≥ 6.0). */
    singleIssuer: z.boolean().optional(),
    /** IORING_SETUP_DEFER_TASKRUN: completions run only when this thread enters with GETEVENTS (Linux ≥ 6.1; implies singleIssuer). */
    deferTaskrun: z.boolean().optional(),
    /** IORING_SETUP_SUBMIT_ALL: keep submitting after an SQE fails to prep (Linux ≥ 5.18). */
    submitAll: z.boolean().optional(),
    /** IORING_SETUP_CLAMP: clamp oversize entries to the kernel maximum instead of failing. */
    clamp: z.boolean().optional(),
    /** IORING_SETUP_R_DISABLED: the ring starts disabled; registerRestrictions(), then enableRings() (Linux ≥ 5.10). */
    rDisabled: z.boolean().optional(),
    /** IORING_SETUP_SQE128: 128-byte SQEs, for uring_cmd payloads that need them (Linux ≥ 5.19). */
    sqe128: z.boolean().optional(),
    /** IORING_SETUP_CQE32: 32-byte CQEs with two extra u64s (`cqe.bigCqe`) (Linux ≥ 5.19). */
    cqe32: z.boolean().optional(),
    /** Raw IORING_SETUP_* bits OR-ed in as they are: the escape hatch for flags without an option. */
    flags: u32.optional(),
    /**
     * Where the rings live: "shared" (SharedArrayBuffers, IORING_SETUP_NO_MMAP, Linux ≥ 6.5),
     * "mmap" (the classic mmap of the ring fd), or "auto" (shared where the kernel accepts it). Default "auto".
     */
    memory: z.enum(["auto", "shared", "mmap"]).optional(),
    /**
     * Call this function with a typed event for every protocol step (SQE filled, SQ tail published,
     * io_uring_enter, SQ head, CQ tail, CQE read, CQ head, register); `true` prints readable lines to
     * stderr. Absent (the default): the ring is untraced and runs exactly the untraced code.
     * Without it, `BUN_URING_TRACE=1` (or `json`) in the environment turns tracing on; `false` keeps
     * this ring untraced even then. See lib/trace.ts.
     */
    trace: z
      .custom<TraceOption>((v) => typeof v === "function" || typeof v === "boolean", {
        message: "Expected a function (event) => void, or a boolean",
      })
      .optional(),
  })
  .strict();
});

export type IoUringOptions = z.input<ReturnType<typeof IoUringOptionsSchema>>;

/**
 * Parse `value` with `schema` (a lazy one: see lazySchema); turn the first zod issue into a
 * Node-style error naming the field.
 */
export function parseOptions<S extends z.ZodType>(schema: () => S, value: unknown, what: string): z.output<S> {
  // Absent or empty options need no zod: every option schema here has only optional fields and
  // no defaults, so `{}` is what parsing them gives (test/options.test.ts checks each one).
  if (value === undefined || isEmptyPlainObject(value)) return {} as z.output<S>;
  if (TRUSTED.has(value as object)) return value as z.output<S>;
  const r = schema().safeParse(value ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.length ? `${what}.${issue.path.join(".")}` : what;
  const kind =
    issue.code === "too_big" || issue.code === "too_small"
      ? "range"
      : issue.code === "invalid_type"
        ? "type"
        : "value";
  const detail =
    issue.code === "unrecognized_keys"
      ? `Unknown option(s): ${(issue as { keys: string[] }).keys.join(", ")}.`
      : `${issue.message}.`;
  throw invalidArgument(field, detail, kind);
}

/** `{}` or `Object.create(null)` with no own keys (not an array, a class instance or a function). */
function isEmptyPlainObject(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && Reflect.ownKeys(value).length === 0;
}
