/**
 * 01-nop — one NOP through the raw ring, every counter at every step.
 *
 * Usage: bun examples/01-nop.ts [auto|shared|mmap]
 *
 * What it teaches: the submission/completion protocol with nothing else in the
 * way. A ring is two queues of free-running u32 counters. We fill an SQE and
 * move the SQ tail; the kernel consumes it and moves the SQ head. The kernel
 * posts a CQE and moves the CQ tail; we read it and move the CQ head. This
 * program does exactly one round trip and prints all four counters (plus the
 * library's private `sqeTail` and `enterCount`) after each step, with one
 * line saying why they moved. The optional argument picks where the ring
 * memory lives (default "auto": shared if the kernel allows it).
 * To see the same round trip as the library's own protocol trace, run it as
 * `bun lib/cli.ts trace examples/01-nop.ts`; `bun lib/cli.ts learn` draws it.
 *
 * Minimum kernel: Linux 5.4 (IORING_OP_NOP itself is 5.1; bun-uring needs
 * IORING_FEAT_SINGLE_MMAP). The "shared" memory mode needs Linux 6.5.
 */
import { release } from "node:os";
import {
  decodeFlags,
  IoUring,
  IORING_SETUP_FLAG_NAMES,
  OPCODE_NAMES,
  prepNop,
  type MemoryMode,
  type RingCounters,
} from "../lib/index.ts";

const USER_DATA = 0xaaaaaaaa; // a sentinel: easy to spot in hex, and it must come back unchanged

const arg = process.argv[2] ?? "auto";
if (arg !== "auto" && arg !== "shared" && arg !== "mmap") {
  console.error("usage: bun examples/01-nop.ts [auto|shared|mmap]");
  process.exit(2);
}
const memory = arg as MemoryMode | "auto";

/** Everything we print at each step: the kernel-visible counters, then the liburing-style helpers. */
interface Snapshot {
  "sq.khead": number; // the kernel writes it: SQEs it has consumed
  "sq.ktail": number; // we write it (once per submit): SQEs we have published
  sqeTail: number; // private to us: SQEs handed out by getSqe(), published or not
  "cq.khead": number; // we write it: CQEs we are done with
  "cq.ktail": number; // the kernel writes it: CQEs it has posted
  "sqReady()": number; // sqeTail − sq.khead: SQEs filled, not yet consumed by the kernel
  "sqSpaceLeft()": number; // sqEntries − sqReady(): how many more getSqe() calls will succeed
  "cqReady()": number; // cq.ktail − cq.khead: CQEs waiting for us
  enterCount: number; // io_uring_enter(2) calls so far
}

function snapshot(ring: IoUring): Snapshot {
  // counters() reads the head/tail words straight out of the ring memory (`ring.memory.sq` / `.cq`),
  // at the offsets the kernel returned in io_uring_params, with acquire loads.
  const c: RingCounters = ring.counters();
  return {
    "sq.khead": c.sqHead,
    "sq.ktail": c.sqTail,
    sqeTail: c.sqeTail,
    "cq.khead": c.cqHead,
    "cq.ktail": c.cqTail,
    "sqReady()": ring.sqReady(),
    "sqSpaceLeft()": ring.sqSpaceLeft(),
    "cqReady()": ring.cqReady(),
    enterCount: ring.enterCount,
  };
}

let previous: Snapshot | null = null;

/** Print one step: its number and explanation, every counter, and which ones moved since the last step. */
function step(n: number, what: string, ring: IoUring, extra: string[] = []): Snapshot {
  const now = snapshot(ring);
  const keys = Object.keys(now) as (keyof Snapshot)[];
  const show = (k: keyof Snapshot) => `${k}=${now[k]}`;
  console.log(`[${n}] ${what}`);
  for (const line of extra) console.log(`    ${line}`);
  console.log(`    ${keys.slice(0, 3).map(show).join(" ")} | ${keys.slice(3, 5).map(show).join(" ")}`);
  console.log(`    ${keys.slice(5).map(show).join(" ")}`);
  if (previous) {
    const prev = previous;
    const moved = keys.filter((k) => prev[k] !== now[k]).map((k) => `${k} ${prev[k]} → ${now[k]}`);
    console.log(`    changed: ${moved.length ? moved.join(", ") : "nothing"}`);
  }
  previous = now;
  return now;
}

const hex = (v: number) => `0x${v.toString(16)}`;

/** Set up the ring; if the kernel refuses, the UringError's message says why and what to check. */
function setup(): IoUring {
  try {
    return new IoUring(8, { memory });
  } catch (err) {
    console.error(`01-nop: ${(err as Error).message}`);
    process.exit(1);
  }
}
using ring = setup();

console.log(`01-nop on Linux ${release()}: one NOP through the raw ring, counter by counter`);
console.log(`ring fd ${ring.fd}: ${ring.sqEntries} SQ entries, ${ring.cqEntries} CQ entries (the CQ is twice the SQ by default)`);
console.log(
  ring.memory.mode === "shared"
    ? `memory mode: shared — the rings live in SharedArrayBuffers this process allocated and handed to the kernel (IORING_SETUP_NO_MMAP)`
    : `memory mode: mmap — the rings are mmap()ed from the ring fd, the classic way`,
);
console.log(`  sq ring region: ${ring.memory.sq.byteLength} bytes at ${hex(ring.memory.sq.address)}; SQE array: ${ring.memory.sqes.byteLength} bytes at ${hex(ring.memory.sqes.address)}`);
console.log(`setup flags: ${hex(ring.flags)} = ${decodeFlags(ring.flags, IORING_SETUP_FLAG_NAMES).join(" | ") || "none"}`);
console.log(`features: ${hex(ring.features)} (IORING_FEAT_* bits the kernel reported)`);
console.log("");

step(1, "new IoUring(8): all counters start at 0, and the SQ has room for 8 SQEs", ring);

const sqe = ring.getSqe();
if (!sqe) throw new Error("unreachable: a fresh ring always has a free SQE");
prepNop(sqe);
sqe.userData = USER_DATA;
step(2, `getSqe() + prepNop() + userData = ${hex(USER_DATA)}: only our private sqeTail moved — the kernel sees nothing yet`, ring, [
  `sqe: opcode=${sqe.opcode} (${OPCODE_NAMES[sqe.opcode]}) fd=${sqe.fd} flags=${sqe.flags} user_data=${hex(sqe.userData)}`,
]);

const submitted = ring.submit();
const afterSubmit = step(
  3,
  `submit() returned ${submitted}: one release store of sq.ktail published the SQE, and io_uring_enter(2) had the kernel consume it (sq.khead)`,
  ring,
);
console.log(
  afterSubmit["cq.ktail"] > 0
    ? "    a NOP finishes inside io_uring_enter itself, so its CQE is already posted (cq.ktail moved)"
    : "    the CQE is not posted yet: the kernel will move cq.ktail when the NOP completes",
);

const enteredBefore = ring.enterCount;
const cqe = ring.waitCqe();
step(
  4,
  ring.enterCount === enteredBefore
    ? "waitCqe(): the CQE was already in the CQ (cqReady() > 0), so no syscall was needed"
    : "waitCqe(): entered the kernel with IORING_ENTER_GETEVENTS until the CQE arrived",
  ring,
);

// Read everything you need from the CQE before cqeSeen(): after that the kernel may reuse the slot.
console.log(`[5] the CQE: user_data=${hex(cqe.userData)} (${cqe.userData}) res=${cqe.res} flags=${hex(cqe.flags)}`);
console.log("    user_data came back unchanged; res is the operation's result (0 for a NOP, −errno on failure)");

ring.cqeSeen(cqe);
step(6, "cqeSeen(cqe): one release store of cq.khead handed the CQE slot back to the kernel", ring);

console.log("");
console.log("one round trip: sq.ktail, sq.khead, cq.ktail and cq.khead each moved by exactly 1");
