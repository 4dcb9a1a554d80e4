/**
 * The one place where -errno becomes an Error.
 *
 * `UringError` carries Node's SystemError fields (`code`, `errno`, `syscall`,
 * and `path`/`dest` where there is one), so code written against
 * `node:fs/promises` catches it the same way: `e.code === "ENOENT"`.
 * As in Node, `errno` is negative (`-2` for ENOENT).
 */
import { constants } from "node:os";
import { getrlimit, strerror } from "../ffi/libc.ts";

/**
 * Linux errnos that node's `os.constants.errno` leaves out (asm-generic/errno.h, the same numbers
 * on x86_64 and aarch64). EBADFD is the one io_uring returns most: a ring created with
 * IORING_SETUP_R_DISABLED and not yet enabled.
 */
const LINUX_ONLY_ERRNO: Record<string, number> = {
  ENOTBLK: 15, ECHRNG: 44, EL2NSYNC: 45, EL3HLT: 46, EL3RST: 47, ELNRNG: 48, EUNATCH: 49, ENOCSI: 50,
  EL2HLT: 51, EBADE: 52, EBADR: 53, EXFULL: 54, ENOANO: 55, EBADRQC: 56, EBADSLT: 57, EBFONT: 59,
  ENONET: 64, ENOPKG: 65, EREMOTE: 66, EADV: 68, ESRMNT: 69, ECOMM: 70, EDOTDOT: 73, ENOTUNIQ: 76,
  EBADFD: 77, EREMCHG: 78, ELIBACC: 79, ELIBBAD: 80, ELIBSCN: 81, ELIBMAX: 82, ELIBEXEC: 83,
  ERESTART: 85, ESTRPIPE: 86, EUSERS: 87, ESOCKTNOSUPPORT: 94, EPFNOSUPPORT: 96, ESHUTDOWN: 108,
  ETOOMANYREFS: 109, EHOSTDOWN: 112, EUCLEAN: 117, ENOTNAM: 118, ENAVAIL: 119, EISNAM: 120,
  EREMOTEIO: 121, ENOMEDIUM: 123, EMEDIUMTYPE: 124, ENOKEY: 126, EKEYEXPIRED: 127, EKEYREVOKED: 128,
  EKEYREJECTED: 129, EOWNERDEAD: 130, ENOTRECOVERABLE: 131, ERFKILL: 132, EHWPOISON: 133,
};

const NUMBERS: Record<string, number> = { ...LINUX_ONLY_ERRNO, ...(constants.errno as Record<string, number>) };
const NAMES: string[] = [];
for (const [name, num] of Object.entries(constants.errno)) {
  // Several names share a number (EAGAIN/EWOULDBLOCK, EDEADLK/EDEADLOCK): keep the first.
  if (NAMES[num] === undefined) NAMES[num] = name;
}
for (const [name, num] of Object.entries(LINUX_ONLY_ERRNO)) if (NAMES[num] === undefined) NAMES[num] = name;

/**
 * The symbolic name of an errno value, sign ignored: `errnoName(-2) === "ENOENT"`.
 * Unknown numbers come back as `UNKNOWN_ERRNO_<n>`, never undefined.
 */
export function errnoName(errno: number): string {
  const n = Math.abs(errno);
  return NAMES[n] ?? `UNKNOWN_ERRNO_${n}`;
}

/** The errno number of a name: `errnoNumber("ENOENT") === 2`. */
export function errnoNumber(name: string): number | undefined {
  return NUMBERS[name];
}

/** Where libuv (and so node:fs) words an error differently from strerror(3). */
const LIBUV_MESSAGES: Record<string, string> = {
  EEXIST: "file already exists",
  EISDIR: "illegal operation on a directory",
  EAGAIN: "resource temporarily unavailable",
  ENOTSUP: "operation not supported on socket",
  EOPNOTSUPP: "operation not supported on socket",
  ECANCELED: "operation canceled",
  EFBIG: "file too large",
  EXDEV: "cross-device link not permitted",
  ENOSPC: "no space left on device",
  EPIPE: "broken pipe",
  ETIMEDOUT: "connection timed out",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by peer",
};

/** The error text node:fs would show: libuv's wording, else strerror(3) in lower case ("no such file or directory"). */
export function errnoMessage(errno: number): string {
  if (!Number.isInteger(errno)) return `unknown error ${String(errno)}`; // strerror(NaN → 0) said "success"
  const uv = LIBUV_MESSAGES[errnoName(errno)];
  if (uv !== undefined) return uv;
  const s = String(strerror(Math.abs(errno)));
  return s.charAt(0).toLowerCase() + s.slice(1);
}

export interface UringErrorDetails {
  /** The path the operation was about, as in node:fs errors. */
  path?: string;
  /** The second path (rename, link, symlink, copy destination). */
  dest?: string;
  /** What the caller can do about it; appended to the message. */
  advice?: string;
}

/**
 * An error from the kernel, shaped like Node's SystemError:
 * message `"ENOENT: no such file or directory, open 'a.txt'"`.
 */
export class UringError extends Error {
  override name = "UringError";
  /** `"ENOENT"`, `"EPERM"`, … */
  readonly code: string;
  /** Negative, as in Node: -2 for ENOENT. */
  readonly errno: number;
  /** The syscall or io_uring operation that failed: `"io_uring_setup"`, `"read"`, … */
  readonly syscall: string;
  declare readonly path?: string;
  declare readonly dest?: string;

  constructor(errno: number, syscall: string, details: UringErrorDetails = {}) {
    if (!Number.isInteger(errno) || errno === 0) throw invalidArgument("errno", `Expected a non-zero errno number; got ${String(errno)}.`, "range");
    if (typeof syscall !== "string") throw invalidArgument("syscall", `Expected a string; got ${typeof syscall}.`, "type");
    const n = -Math.abs(errno);
    const code = errnoName(n);
    let message = `${code}: ${errnoMessage(n)}, ${syscall}`;
    if (details.path !== undefined) message += ` '${details.path}'`;
    if (details.dest !== undefined) message += ` -> '${details.dest}'`;
    if (details.advice) message += `\n  ${details.advice}`;
    super(message);
    this.code = code;
    this.errno = n;
    this.syscall = syscall;
    if (details.path !== undefined) this.path = details.path;
    if (details.dest !== undefined) this.dest = details.dest;
  }
}

/** What to do when io_uring_setup(2) fails, by errno name. */
export function setupAdvice(code: string): string | undefined {
  switch (code) {
    case "EPERM":
      return (
        "io_uring is disabled for this process. Check `sysctl kernel.io_uring_disabled` " +
        "(0 = enabled, 1 = only for members of kernel.io_uring_group, 2 = disabled for everyone) and " +
        "whether a seccomp filter blocks io_uring_setup (`grep Seccomp /proc/self/status`; " +
        "container runtimes' default profiles often do — run with a profile that allows io_uring_setup/enter/register)."
      );
    case "ENOMEM":
      return memlockAdvice("the kernel could not pin memory for the rings");
    case "ENOSYS":
      return "this kernel has no io_uring (Linux ≥ 5.4 is required; CONFIG_IO_URING may be off).";
    case "EINVAL":
      return (
        "the kernel refused these setup parameters: entries must be 1..32768 (more only with `clamp`), " +
        "cqEntries ≥ entries, and every flag must be known to this kernel (see `uname -r`)."
      );
    case "EMFILE":
    case "ENFILE":
      return "no file descriptors left for the ring (`ulimit -n`).";
    default:
      return undefined;
  }
}

const RLIMIT_MEMLOCK = 8;

/** This process's RLIMIT_MEMLOCK soft limit in bytes, or undefined when it cannot be read (Infinity: unlimited). */
export function memlockLimit(): number | undefined {
  const rl = new BigUint64Array(2);
  if (getrlimit(RLIMIT_MEMLOCK, rl) !== 0) return undefined;
  return rl[0] === 0xffffffffffffffffn ? Number.POSITIVE_INFINITY : Number(rl[0]);
}

/**
 * What to do about ENOMEM from pinning memory: without CAP_IPC_LOCK, io_uring counts ring memory
 * and registered buffers against RLIMIT_MEMLOCK. Names the limit and its current value.
 */
export function memlockAdvice(what: string): string {
  const limit = memlockLimit();
  const now =
    limit === undefined ? "" : limit === Number.POSITIVE_INFINITY ? " (it is unlimited here)" : ` (it is ${limit} bytes here, \`ulimit -l\` ${Math.floor(limit / 1024)})`;
  return (
    `${what}: without CAP_IPC_LOCK, io_uring counts pinned memory against RLIMIT_MEMLOCK${now}. ` +
    "Raise it (`ulimit -l`, `prlimit --memlock`, LimitMEMLOCK= in a systemd unit, --ulimit memlock= in docker) or pin less."
  );
}

/** Throw `UringError` if `result` is a -errno; return it otherwise. */
export function check(result: number, syscall: string, details?: UringErrorDetails): number {
  if (result < 0) throw new UringError(result, syscall, details);
  return result;
}

/** A TypeError/RangeError with Node's `code`, for bad arguments caught before any syscall. */
export function invalidArgument(
  name: string,
  message: string,
  kind: "type" | "range" | "value" = "value",
): TypeError | RangeError {
  const err =
    kind === "range"
      ? new RangeError(`The value of "${name}" is out of range. ${message}`)
      : new TypeError(`The ${kind === "type" ? "argument" : "value"} "${name}" is invalid. ${message}`);
  (err as { code?: string }).code =
    kind === "range" ? "ERR_OUT_OF_RANGE" : kind === "type" ? "ERR_INVALID_ARG_TYPE" : "ERR_INVALID_ARG_VALUE";
  return err;
}

/** Errno numbers by name, as node:os has them: `ERRNO.ENOENT === 2`. */
export const ERRNO = constants.errno;

/** A UringError from an fd-level op, given the path it was about (other errors pass through). */
export function withPath(e: unknown, path: string): unknown {
  if (e instanceof UringError && e.path === undefined) return new UringError(e.errno, e.syscall, { path });
  return e;
}

/** Await `p`, attaching `path` to a UringError it rejects with. */
export async function withPathAsync<T>(p: Promise<T>, path: string): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw withPath(err, path);
  }
}

/** A Node-style AbortError (`code` ABORT_ERR) whose cause is the signal's reason. */
export function abortError(reason: unknown, message = "The operation was aborted"): Error {
  const err = new Error(message, { cause: reason });
  err.name = "AbortError";
  (err as { code?: string }).code = "ABORT_ERR";
  return err;
}

/** Thrown by a ring method called after `close()`. */
export function ringClosed(method: string): Error {
  const err = new Error(`bun-uring: ${method}() called on a closed ring`);
  (err as { code?: string }).code = "ERR_URING_CLOSED";
  return err;
}
