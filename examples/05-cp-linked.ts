/**
 * 05-cp-linked — `cp` with linked SQEs: each block is a READ → WRITE chain the kernel runs in order.
 *
 * Usage: bun examples/05-cp-linked.ts SRC DST [--bs BYTES] [--qd N]
 *        (defaults: --bs 128K, --qd 8: eight chains of two SQEs in flight)
 *
 * What it teaches: IOSQE_IO_LINK. In 04-cp every block costs two round trips
 * through JavaScript: the read's CQE comes back, then we queue the write. Here
 * both SQEs go in together — the READ with IOSQE_IO_LINK set, then the WRITE of
 * the same buffer at the same offset — and the kernel starts the write only when
 * the read has completed. One submit, two CQEs, no JS in between.
 *
 * The catch, and the reason this example exists: under IO_LINK a read that
 * returns fewer bytes than asked for counts as a failure. The kernel then
 * cancels the rest of the chain: the write's CQE says -ECANCELED and nothing was
 * written. A short read is not an error for us, though, so we repair it by hand:
 * write the bytes that did arrive with a plain WRITE, then queue a new chain for
 * the rest of the block. Only a read that returns 0 means end of file. (With
 * IOSQE_IO_HARDLINK the write would not be cancelled — and would write `len`
 * bytes, stale ones included, past the end of the data: the wrong tool here.)
 *
 * The example never stats SRC: it asks for whole blocks and lets the kernel say
 * where the file ends, so the last block of any file whose size is not a multiple
 * of --bs is a short read, and you will see one chain broken on every run.
 * Every CQE of a chain is reaped before its buffer is reused — cancelled ones
 * too: count CQEs, not successes.
 *
 * Minimum kernel: Linux 5.6 (IORING_OP_READ, IORING_OP_WRITE; IOSQE_IO_LINK is 5.3).
 */
import { closeSync, openSync } from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { errnoMessage, errnoName, IoUring, IOSQE_IO_LINK, prepRead, prepWrite } from "../lib/index.ts";

const USAGE = "usage: bun examples/05-cp-linked.ts SRC DST [--bs BYTES] [--qd N]";
const ECANCELED = 125;
/** The three SQEs a slot can have in flight; the low two bits of user_data. */
const READ = 0;
const LINKED_WRITE = 1;
const WRITE = 2;

// ---------------------------------------------------------------------------- arguments

const byteCount = z
  .string()
  .regex(/^\d+[kKmM]?$/, "expected a byte count such as 4096, 128K or 1M")
  .transform((s) => Number.parseInt(s, 10) * ({ k: 1024, m: 1024 * 1024 }[s.slice(-1).toLowerCase()] ?? 1));
const Args = z.object({
  src: z.string().min(1),
  dst: z.string().min(1),
  bs: byteCount.pipe(z.number().int().min(1, "--bs must be ≥ 1").max(64 << 20, "--bs must be ≤ 64M")),
  qd: z.coerce.number().int().min(1, "--qd must be ≥ 1").max(1024, "--qd must be ≤ 1024"),
});

function usage(message: string): never {
  console.error(`05-cp-linked: ${message}`);
  console.error(USAGE);
  process.exit(2);
}

let parsed: ReturnType<typeof parseArgs<{ options: { bs: { type: "string" }; qd: { type: "string" } }; allowPositionals: true }>>;
try {
  parsed = parseArgs({ options: { bs: { type: "string" }, qd: { type: "string" } }, allowPositionals: true });
} catch (e) {
  usage((e as Error).message);
}
if (parsed.positionals.length !== 2) usage("expected SRC and DST");
const args = Args.safeParse({ src: parsed.positionals[0], dst: parsed.positionals[1], bs: parsed.values.bs ?? "128K", qd: parsed.values.qd ?? "8" });
if (!args.success) usage(args.error.issues.map((i) => i.message).join("; "));
const { src, dst, bs, qd } = args.data;

// ---------------------------------------------------------------------------- the copy

let srcFd: number;
let dstFd: number;
try {
  srcFd = openSync(src, "r");
  dstFd = openSync(dst, "w", 0o644);
} catch (e) {
  const err = e as NodeJS.ErrnoException;
  console.error(`05-cp-linked: ${err.syscall ?? "open"} ${err.path ?? ""}: ${err.code} (${err.message})`);
  process.exit(1);
}

/**
 * One slot: a buffer and the piece of the file it is moving, [offset, offset + len).
 * `got` is what the last read returned (−1 until it completes), `written` how much of it is written.
 * The buffer stays referenced here until every CQE of the slot has been reaped (`pending` = 0).
 */
interface Slot {
  buf: Uint8Array;
  offset: number;
  len: number;
  got: number;
  written: number;
  pending: number;
}

const slots: Slot[] = Array.from({ length: qd }, () => ({ buf: new Uint8Array(bs), offset: 0, len: 0, got: -1, written: 0, pending: 0 }));
const free: number[] = slots.map((_, i) => qd - 1 - i);
/** The next block to start, and where the file ends (unknown until a read returns 0). */
let nextOffset = 0;
let eof = Number.POSITIVE_INFINITY;
let failure: string | null = null;
const stats = { chains: 0, shortReads: 0, eofReads: 0, fixupWrites: 0, bytes: 0 };

// Two SQEs per chain: the SQ holds every slot's chain at once.
using ring = new IoUring(2 * qd);

/** Queue READ (IO_LINK) → WRITE for `slot`'s piece: the kernel starts the write when the read has completed. */
function queueChain(id: number): void {
  const s = slots[id]!;
  const view = s.buf.subarray(0, s.len);
  const read = ring.getSqeOrThrow();
  prepRead(read, srcFd, view, s.offset);
  read.userData = id * 4 + READ;
  read.flags = IOSQE_IO_LINK; // the next SQE waits for this one — and is cancelled if it fails or is short
  const write = ring.getSqeOrThrow();
  prepWrite(write, dstFd, view, s.offset);
  write.userData = id * 4 + LINKED_WRITE;
  s.got = -1;
  s.written = 0;
  s.pending = 2;
  stats.chains++;
}

/** A plain (unlinked) WRITE of the bytes the last read got that are not written yet. */
function queueWrite(id: number): void {
  const s = slots[id]!;
  const sqe = ring.getSqeOrThrow();
  prepWrite(sqe, dstFd, s.buf.subarray(s.written, s.got), s.offset + s.written);
  sqe.userData = id * 4 + WRITE;
  s.pending = 1;
  stats.fixupWrites++;
}

/** Every CQE of `id` is in: decide what the slot does next. */
function advance(id: number): void {
  const s = slots[id]!;
  if (failure) {
    free.push(id);
    return;
  }
  if (s.written < s.got) return queueWrite(id); // a short read broke the link, or a write was short
  if (s.got < s.len) {
    if (s.got === 0) {
      eof = Math.min(eof, s.offset); // only a 0-byte read means end of file
      free.push(id);
      return;
    }
    // a short read, now written: the rest of the piece goes out as a new chain
    s.offset += s.got;
    s.len -= s.got;
    return queueChain(id);
  }
  free.push(id);
}

function onCqe(userData: number, res: number): void {
  const id = userData >>> 2;
  const kind = userData & 3;
  const s = slots[id]!;
  s.pending--;
  if (kind === READ) {
    if (res < 0) failure ??= `read ${src} at offset ${s.offset}: ${errnoName(res)} (${errnoMessage(res)})`;
    else {
      s.got = res;
      if (res === 0) stats.eofReads++; // at or past the end of the file: this chain's write is cancelled too
      else if (res < s.len) {
        stats.shortReads++;
        console.log(`block at ${s.offset}: read ${res} of ${s.len} bytes: a short read breaks the link`);
      }
    }
  } else if (kind === LINKED_WRITE) {
    if (res === -ECANCELED) {
      if (s.got > 0) console.log(`block at ${s.offset}: linked write -ECANCELED; the ${s.got} bytes that arrived go out with a plain WRITE`);
    } else if (res < 0) failure ??= `write ${dst} at offset ${s.offset}: ${errnoName(res)} (${errnoMessage(res)})`;
    else {
      s.written = res;
      stats.bytes += res;
    }
  } else {
    if (res < 0) failure ??= `write ${dst} at offset ${s.offset + s.written}: ${errnoName(res)} (${errnoMessage(res)})`;
    else if (res === 0) failure ??= `write ${dst} at offset ${s.offset + s.written}: no progress`;
    else {
      s.written += res;
      stats.bytes += res;
    }
  }
  if (s.pending === 0) advance(id);
}

try {
  for (;;) {
    // fill every free slot with the next block, until the end of the file is known
    while (!failure && free.length && nextOffset < eof) {
      const id = free.pop()!;
      const s = slots[id]!;
      s.offset = nextOffset;
      s.len = bs;
      nextOffset += bs;
      queueChain(id);
    }
    if (free.length === qd && ring.sqReady() === 0) break; // nothing in flight, nothing to start
    ring.submitAndWait(1);
    ring.forEachCqe((cqe) => onCqe(cqe.userData, cqe.res));
  }
} finally {
  closeSync(srcFd);
  closeSync(dstFd);
}

if (failure) {
  console.error(`05-cp-linked: ${failure}`);
  process.exit(1);
}
console.log(`end of file at ${eof === Number.POSITIVE_INFINITY ? nextOffset : eof}: ${stats.eofReads} read${stats.eofReads === 1 ? "" : "s"} returned 0, their writes cancelled`);
console.log(
  `copied ${stats.bytes} bytes: ${stats.chains} read→write chains, ${stats.shortReads} broken by a short read, ` +
    `${stats.fixupWrites} plain fix-up write${stats.fixupWrites === 1 ? "" : "s"}, ${ring.enterCount} io_uring_enter calls`,
);
