/**
 * 09-timeouts-and-cancel — time limits and cancellation on the raw ring, one scene at a time.
 *
 * Usage: bun examples/09-timeouts-and-cancel.ts [--ms N]   (the short timeouts, default 20 ms)
 *
 * What it teaches: how a request that may never complete — a read on a pipe
 * nobody writes to — is bounded or taken back, and what each CQE then says.
 * Every scene prints its CQEs (sorted by user_data, since completion order is
 * the kernel's business) with res as an errno name:
 *   1. ring.waitCqeTimeout(): waiting with a time limit needs no SQE at all —
 *      io_uring_enter with IORING_ENTER_EXT_ARG carries the timespec (5.11);
 *   2. IORING_OP_TIMEOUT alone: a timer; its CQE says -ETIME when time ran out;
 *   3. IORING_OP_TIMEOUT with a count: completes with res 0 as soon as `count`
 *      other CQEs have been posted, long before its 10 s are up;
 *   4. IORING_OP_LINK_TIMEOUT after a READ linked with IOSQE_IO_LINK: the read
 *      has N ms to complete. It does not (the pipe is empty): the read says
 *      -ECANCELED, the link timeout -ETIME;
 *   5. the same with data in the pipe: the read completes at once, and the link
 *      timeout is the one cancelled (-ECANCELED);
 *   6. IORING_OP_ASYNC_CANCEL by user_data: the pending read says -ECANCELED,
 *      the cancel itself 0; cancelling a user_data nobody has says -ENOENT;
 *   7. IORING_OP_TIMEOUT_REMOVE: a 10 s timer taken back: the timer says
 *      -ECANCELED, the remove 0. There is no prep helper for it in the library,
 *      so it is built with prepRw(), as liburing's io_uring_prep_timeout_remove()
 *      builds it: the target's user_data goes in `addr`.
 * A cancelled request still posts its CQE, and its buffer and timespec must stay
 * referenced until then: everything the kernel may touch lives in `keep`.
 *
 * Minimum kernel: Linux 5.5 (IORING_OP_LINK_TIMEOUT, IORING_OP_ASYNC_CANCEL;
 * IORING_OP_TIMEOUT is 5.4), and 5.11 for waitCqeTimeout (IORING_ENTER_EXT_ARG).
 */
import { parseArgs } from "node:util";
import { closeFd, pipe2 } from "../ffi/syscalls.ts";
import {
  addressOf,
  errnoName,
  IORING_OP_TIMEOUT_REMOVE,
  IOSQE_IO_LINK,
  IoUring,
  prepCancel64,
  prepLinkTimeout,
  prepNop,
  prepRead,
  prepRw,
  prepTimeout,
  Timespec,
  type Sqe,
} from "../lib/index.ts";
import { writeSync } from "node:fs";

const USAGE = "usage: bun examples/09-timeouts-and-cancel.ts [--ms N]";

let ms = 20;
try {
  const { values, positionals } = parseArgs({ options: { ms: { type: "string" } }, allowPositionals: true });
  if (positionals.length) throw new Error(`unexpected ${positionals.join(" ")}`);
  if (values.ms !== undefined) {
    ms = Number(values.ms);
    if (!Number.isInteger(ms) || ms < 1 || ms > 10_000) throw new Error("--ms must be a whole number from 1 to 10000");
  }
} catch (e) {
  console.error(`09-timeouts-and-cancel: ${(e as Error).message}`);
  console.error(USAGE);
  process.exit(2);
}

/** An empty pipe: a read on its read end waits until someone writes — here, never, unless we say so. */
const fds = new Int32Array(2);
const r = pipe2(addressOf(fds));
if (r < 0) {
  console.error(`09-timeouts-and-cancel: pipe2: ${errnoName(r)}`);
  process.exit(1);
}
const [readEnd, writeEnd] = [fds[0]!, fds[1]!];

using ring = new IoUring(8);
/** Everything the kernel may read or write after submit: kept until the scene's last CQE is reaped. */
const keep: unknown[] = [];
const names = new Map<number, string>();

/** Submit, wait for `expect` CQEs, print them sorted by user_data. */
function scene(title: string, expect: number): void {
  ring.submitAndWait(expect);
  const got: { ud: number; res: number }[] = [];
  while (got.length < expect) {
    ring.forEachCqe((c) => void got.push({ ud: c.userData, res: c.res }));
    if (got.length < expect) ring.waitCqe();
  }
  keep.length = 0; // every CQE of the scene is in: the kernel is done with its buffers and timespecs
  console.log(title);
  for (const { ud, res } of got.sort((a, b) => a.ud - b.ud)) {
    console.log(`  user_data=0x${ud.toString(16)} ${(names.get(ud) ?? "?").padEnd(14)} res=${res < 0 ? `-${errnoName(res)}` : res}`);
  }
}

/** Fill an SQE with `prep`, then set its user_data (prep helpers reset it) and flags. */
function queue(userData: number, name: string, prep: (s: Sqe) => void, flags = 0): void {
  const s = ring.getSqeOrThrow();
  prep(s);
  s.userData = userData;
  s.flags = flags;
  names.set(userData, name);
}
try {
  // 1. a wait with a time limit, no SQE
  const none = ring.waitCqeTimeout(ms);
  console.log(`1. waitCqeTimeout(${ms}): ${none === null ? "null" : "a CQE"} — no SQE, the timespec rides on io_uring_enter (EXT_ARG)`);

  // 2. a timer
  const ts = new Timespec(ms);
  keep.push(ts);
  queue(0x21, "timeout", (s) => prepTimeout(s, ts));
  scene(`2. IORING_OP_TIMEOUT (${ms} ms): the time runs out`, 1);

  // 3. a timeout with a count: two NOPs complete it long before its 10 s
  const long = new Timespec(10_000);
  keep.push(long);
  queue(0x31, "timeout n=2", (s) => prepTimeout(s, long, 2));
  queue(0x32, "nop", prepNop);
  queue(0x33, "nop", prepNop);
  scene("3. IORING_OP_TIMEOUT (10 s, count 2) + two NOPs: the count is reached first", 3);

  // 4. a read bounded by a link timeout: the pipe is empty
  const buf = new Uint8Array(16);
  const lts = new Timespec(ms);
  keep.push(buf, lts);
  queue(0x41, "read (pipe)", (s) => prepRead(s, readEnd, buf, 0), IOSQE_IO_LINK);
  queue(0x42, "link timeout", (s) => prepLinkTimeout(s, lts));
  scene(`4. READ on an empty pipe, IO_LINK → LINK_TIMEOUT (${ms} ms): the read is cancelled`, 2);

  // 5. the same with a byte in the pipe: the read wins, the link timeout is cancelled
  writeSync(writeEnd, "x");
  const lts2 = new Timespec(10_000);
  keep.push(buf, lts2);
  queue(0x51, "read (pipe)", (s) => prepRead(s, readEnd, buf, 0), IOSQE_IO_LINK);
  queue(0x52, "link timeout", (s) => prepLinkTimeout(s, lts2));
  scene("5. the same with one byte in the pipe (10 s limit): the timeout is cancelled", 2);

  // 6. cancel a pending read by its user_data, and a user_data nobody has
  keep.push(buf);
  queue(0x61, "read (pipe)", (s) => prepRead(s, readEnd, buf, 0));
  ring.submit(); // the read is now waiting in the kernel
  queue(0x62, "cancel 0x61", (s) => prepCancel64(s, 0x61));
  queue(0x63, "cancel 0xdead", (s) => prepCancel64(s, 0xdead));
  scene("6. IORING_OP_ASYNC_CANCEL: the waiting read, and a user_data nobody has", 3);

  // 7. take a 10 s timer back
  const ts7 = new Timespec(10_000);
  keep.push(ts7);
  queue(0x71, "timeout 10 s", (s) => prepTimeout(s, ts7));
  ring.submit();
  queue(0x72, "timeout remove", (s) => {
    prepRw(IORING_OP_TIMEOUT_REMOVE, s, -1, 0, 0, 0); // io_uring_prep_timeout_remove(): addr = the target's user_data
    s.addr = 0x71;
  });
  scene("7. IORING_OP_TIMEOUT_REMOVE: the 10 s timer taken back", 2);
} finally {
  closeFd(readEnd);
  closeFd(writeEnd);
}
