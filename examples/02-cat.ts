/**
 * 02-cat — `cat` on the raw ring: many 4 KiB reads in flight at once.
 *
 * Usage: bun examples/02-cat.ts FILE...
 *
 * What it teaches: batching. Like liburing's io_uring-cat sample, it splits a
 * file into 4 KiB blocks and queues one IORING_OP_READ per block — as many as
 * the ring holds — then submits them all with a single io_uring_enter(2) and
 * reaps the completions. Along the way it meets everything a real program
 * must handle on the raw tier:
 *   - buffers the kernel writes into must stay referenced until their CQE;
 *   - CQEs may arrive in any order (user_data says which block each is for),
 *     but output must be in file order;
 *   - a read may return fewer bytes than asked for (a short read): queue the
 *     rest of the block again, at the new offset;
 *   - a negative res is −errno: report it, naming the file, and exit 1;
 *   - a file bigger than the ring is read in waves of at most `entries` reads.
 * The file is opened through the ring too (IORING_OP_OPENAT): a bad path
 * comes back as a CQE with res = −ENOENT, not as an exception.
 *
 * Minimum kernel: Linux 5.6 (IORING_OP_OPENAT and IORING_OP_READ).
 */
import { closeSync, fstatSync } from "node:fs";
import {
  AT_FDCWD,
  errnoMessage,
  errnoName,
  IoUring,
  O_CLOEXEC,
  O_RDONLY,
  prepOpenat,
  prepRead,
} from "../lib/index.ts";

/** One read per block, as in liburing's sample. */
const BLOCK_SIZE = 4096;
/** SQ entries: at most this many reads in flight (a wave is 64 × 4 KiB = 256 KiB). */
const QUEUE_DEPTH = 64;

/** One 4 KiB block of the file: where it starts, the buffer the kernel reads into, and how far it got. */
interface Block {
  /** File offset of the block's first byte. */
  readonly offset: number;
  /** The block's bytes. The kernel writes here after submit() returns. */
  readonly buf: Uint8Array;
  /** Bytes read so far; the block is complete when filled === buf.length. */
  filled: number;
  /** −errno if a read of this block failed, else 0. */
  error: number;
  /** The file ended before this block was full (it shrank after we sized it). */
  eof: boolean;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: bun examples/02-cat.ts FILE...");
  process.exit(2);
}

function fail(path: string, errno: number): void {
  console.error(`02-cat: ${path}: ${errnoName(errno)} (${errnoMessage(errno)})`);
  process.exitCode = 1;
}

/** openat(2) through the ring: one SQE, one CQE whose res is the new fd or −errno. */
function openFile(ring: IoUring, path: string): number {
  const sqe = ring.getSqeOrThrow();
  // The path's bytes are kept alive by the SQE handle until the kernel has read them (see prep.ts).
  prepOpenat(sqe, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  sqe.userData = 0;
  ring.submitAndWait(1);
  const cqe = ring.waitCqe();
  const res = cqe.res; // read the CQE before cqeSeen() gives its slot back
  ring.cqeSeen(cqe);
  return res;
}

/**
 * Read `length` bytes of `fd` starting at `start` (length ≤ ring entries × 4 KiB): queue one read per
 * block, submit them together, and reap until every block is complete, failed, or hit end of file.
 * Returns the blocks in file order, whatever order their CQEs came in.
 */
function readWave(ring: IoUring, fd: number, start: number, length: number): Block[] {
  const blocks: Block[] = [];
  // The reads in flight, keyed by user_data. This Map is what keeps each buffer alive: prepRead()
  // hands the kernel only the buffer's address, a plain number. If nothing in JS referenced the
  // Uint8Array, the garbage collector could free (and reuse) its memory while the kernel is still
  // writing into it. An entry leaves the Map only once its CQE is reaped; `blocks` keeps the buffer
  // after that, until the bytes are written out.
  const inFlight = new Map<number, Block>();

  /** Queue a read of what is still missing of block `id` (all of it, or the rest after a short read). */
  const queueRead = (id: number, block: Block): void => {
    // Never null: at most ring.sqEntries reads are in flight, and each requeue replaces a reaped one.
    const sqe = ring.getSqeOrThrow();
    // A view on the missing part: it shares block.buf's memory, which the Map keeps alive.
    prepRead(sqe, fd, block.buf.subarray(block.filled), block.offset + block.filled);
    sqe.userData = id; // comes back in the CQE: tells us which block it was
    inFlight.set(id, block);
  };

  for (let id = 0; id * BLOCK_SIZE < length; id++) {
    const offset = start + id * BLOCK_SIZE;
    const block: Block = {
      offset,
      buf: new Uint8Array(Math.min(BLOCK_SIZE, start + length - offset)),
      filled: 0,
      error: 0,
      eof: false,
    };
    blocks.push(block);
    queueRead(id, block);
  }

  while (inFlight.size > 0) {
    // One io_uring_enter(2): publish every queued SQE (the first time: the whole wave; later: the
    // requeued short reads) and sleep until at least one completion is there.
    ring.submitAndWait(1);
    // Walk every CQE that is ready; the CQ head moves once for the whole batch.
    ring.forEachCqe((cqe) => {
      const id = cqe.userData;
      const block = inFlight.get(id);
      if (!block) throw new Error(`02-cat: a CQE with unknown user_data ${id}`);
      inFlight.delete(id);
      const res = cqe.res;
      if (res < 0) {
        block.error = res; // −errno: reported when the output reaches this block
      } else if (res === 0) {
        block.eof = true; // end of file before the block was full: the file shrank
      } else {
        block.filled += res;
        // A short read is legal (signals, some filesystems, the page cache): ask again for the rest.
        if (block.filled < block.buf.length) queueRead(id, block);
      }
    });
  }
  return blocks;
}

/** Write to stdout, completely: awaited, so every byte is out before the process may exit. */
async function writeOut(bytes: Uint8Array): Promise<void> {
  try {
    await Bun.write(Bun.stdout, bytes);
  } catch (err) {
    // The reader went away (`… | head`): stop quietly, as cat(1) does. No reads are in flight here.
    if ((err as { code?: string }).code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  }
}

/** Write one file to stdout, wave by wave. Returns false after reporting an error. */
async function catFile(ring: IoUring, path: string): Promise<boolean> {
  const fd = openFile(ring, path);
  if (fd < 0) {
    fail(path, fd);
    return false;
  }
  try {
    // The fd the ring returned is an ordinary fd: node:fs can stat it and close it.
    const st = fstatSync(fd);
    if (!st.isFile() && !st.isDirectory()) {
      // Pipes, sockets and devices report no useful size, and this example reads exactly st_size bytes.
      // (Files in /proc are regular but claim size 0, so they print nothing, as in liburing's sample.)
      console.error(`02-cat: ${path}: not a regular file (this example reads exactly st_size bytes)`);
      process.exitCode = 1;
      return false;
    }
    const waveBytes = ring.sqEntries * BLOCK_SIZE;
    for (let start = 0; start < st.size; start += waveBytes) {
      const blocks = readWave(ring, fd, start, Math.min(waveBytes, st.size - start));
      // Write in file order, and stop at the first block that failed or came up short.
      const ok: Uint8Array[] = [];
      let stop = false;
      for (const block of blocks) {
        ok.push(block.buf.subarray(0, block.filled));
        if (block.error) fail(path, block.error);
        if (block.error || block.eof) {
          stop = true;
          break;
        }
      }
      if (ok.length) await writeOut(Buffer.concat(ok));
      if (stop) return !blocks.some((b) => b.error);
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

function setup(): IoUring {
  try {
    return new IoUring(QUEUE_DEPTH);
  } catch (err) {
    console.error(`02-cat: ${(err as Error).message}`);
    process.exit(1);
  }
}

using ring = setup();
// Like cat(1): a file that fails is reported, and the others are still written.
for (const path of files) await catFile(ring, path);
