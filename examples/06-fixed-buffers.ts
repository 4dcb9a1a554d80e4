/**
 * 06-fixed-buffers — copy a file through registered (fixed) buffers.
 *
 * Usage: bun examples/06-fixed-buffers.ts SRC DST
 *
 * What it teaches: io_uring_register_buffers. A plain READ makes the kernel
 * pin the user pages of the buffer on every call, and unpin them after. Register
 * the buffers once (IORING_REGISTER_BUFFERS) and the kernel keeps them pinned
 * and mapped: IORING_OP_READ_FIXED / WRITE_FIXED name a buffer by index
 * (`buf_index`) and skip that work. The program registers two 64 KiB buffers,
 * then keeps one read_fixed and one write_fixed in flight at a time (double
 * buffering: while buffer A is written out, buffer B is filled). Things to see:
 *   - the address given to read_fixed must lie inside the registered buffer:
 *     a subarray of it is fine, any other memory fails with -EFAULT;
 *   - registered buffers count against RLIMIT_MEMLOCK (they are pinned);
 *   - the ring keeps the registered buffers referenced until close(), so the
 *     GC cannot free memory the kernel has pinned;
 *   - a read may be short (the end of the file): write exactly what came back.
 *
 * Minimum kernel: Linux 5.6 (IORING_OP_OPENAT; READ_FIXED/WRITE_FIXED are 5.1).
 */
import {
  AT_FDCWD,
  errnoMessage,
  IoUring,
  O_CLOEXEC,
  O_CREAT,
  O_RDONLY,
  O_TRUNC,
  O_WRONLY,
  prepClose,
  prepOpenat,
  prepReadFixed,
  prepWriteFixed,
} from "../lib/index.ts";

const [src, dst] = process.argv.slice(2);
if (!src || !dst) {
  console.error("usage: bun examples/06-fixed-buffers.ts SRC DST");
  process.exit(2);
}

const CHUNK = 64 * 1024;
using ring = new IoUring(8);

/** One SQE, submitted and waited for; the CQE's res (≥ 0, or −errno: report it and exit 1). */
function one(fill: (sqe: NonNullable<ReturnType<IoUring["getSqe"]>>) => void, what: string): number {
  fill(ring.getSqeOrThrow());
  ring.submitAndWait(1);
  const cqe = ring.waitCqe();
  const res = cqe.res;
  ring.cqeSeen(cqe);
  if (res < 0) {
    console.error(`06-fixed-buffers: ${what}: ${errnoMessage(res)}`);
    process.exit(1);
  }
  return res;
}

const inFd = one((s) => prepOpenat(s, AT_FDCWD, src, O_RDONLY | O_CLOEXEC), `open ${src}`);
const outFd = one((s) => prepOpenat(s, AT_FDCWD, dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644), `open ${dst}`);

// Register two buffers once: index 0 and index 1.
const buffers = [new Uint8Array(CHUNK), new Uint8Array(CHUNK)];
ring.registerBuffers(buffers);

const READ = 1;
const WRITE = 2;
let offset = 0; // where the next read starts
let written = 0;
let reads = 0;
let writes = 0;
let eof = false;
let reading = false; // one read in flight at a time: offsets stay in order
const busy = [false, false]; // a buffer is busy from its read until its write completed
const readAt = [0, 0]; // the file offset each buffer was filled from
let inFlight = 0;

/** Fill a free buffer with the next chunk, if there is a free buffer and more file to read. */
function maybeRead(): void {
  if (eof || reading) return;
  const index = busy[0] ? (busy[1] ? -1 : 1) : 0;
  if (index < 0) return;
  const sqe = ring.getSqeOrThrow();
  prepReadFixed(sqe, inFd, buffers[index]!, offset, index); // buffer `index`, by its registration index
  sqe.userData = READ * 16 + index;
  busy[index] = true;
  reading = true;
  readAt[index] = offset;
  offset += CHUNK;
  reads++;
  inFlight++;
}

function queueWrite(index: number, len: number): void {
  const sqe = ring.getSqeOrThrow();
  prepWriteFixed(sqe, outFd, buffers[index]!.subarray(0, len), readAt[index]!, index); // a subarray of it is fine
  sqe.userData = WRITE * 16 + index;
  writes++;
  inFlight++;
}

maybeRead();
while (inFlight > 0) {
  ring.submitAndWait(1);
  ring.forEachCqe((cqe) => {
    inFlight--;
    const kind = Math.floor(cqe.userData / 16);
    const index = cqe.userData % 16;
    if (cqe.res < 0) {
      console.error(`06-fixed-buffers: ${kind === READ ? "read" : "write"}: ${errnoMessage(cqe.res)}`);
      process.exit(1);
    }
    if (kind === READ) {
      reading = false;
      if (cqe.res < CHUNK) eof = true; // a short read happens only at the end of a regular file
      if (cqe.res > 0) queueWrite(index, cqe.res);
      else busy[index] = false;
    } else {
      written += cqe.res; // a short write is not expected on a regular file
      busy[index] = false;
    }
    maybeRead(); // double buffering: the other buffer fills while this one is written out
  });
}

one((s) => prepClose(s, inFd), "close");
one((s) => prepClose(s, outFd), "close");
console.log(`copied ${written} bytes: ${reads} read_fixed + ${writes} write_fixed through 2 registered ${CHUNK / 1024} KiB buffers`);
