/**
 * 03-cat-async — `cat` on the Promise tier: every block of a file read at once, written in order.
 *
 * Usage: bun examples/03-cat-async.ts FILE...
 *
 * What it teaches: what the safe tier (`Uring`) does for you, by doing the job
 * of 02-cat again. Each file is opened through the ring (`io.open`), sized
 * (`file.stat()`, IORING_OP_STATX), and then every 64 KiB block read is
 * requested at once and awaited with `Promise.all`; the blocks come back in
 * any order, and are written to stdout in file order. Compared with 02-cat:
 *   - buffer lifetime: 02-cat keeps each buffer in a Map until its CQE is
 *     reaped, because the kernel only holds a bare address. Here the operation
 *     record inside `Uring` holds the buffer until its final CQE — even when a
 *     promise is rejected early by an AbortSignal or a timeout — so there is
 *     nothing to get wrong;
 *   - batching: 02-cat fills SQEs itself and calls submitAndWait() once per
 *     wave. Here every `io.read()` made in the same tick is queued, and one
 *     microtask flush puts them all in the SQ and submits them with a single
 *     io_uring_enter(2). Reads beyond what the SQ holds wait in a JS queue and
 *     go in as completions free space — no waves to manage by hand;
 *   - waiting: 02-cat blocks the thread in io_uring_enter(GETEVENTS). The
 *     Promise tier never blocks: a registered eventfd, watched by Bun's own
 *     event loop, wakes it when CQEs arrive, and it resolves the promises;
 *     page-cache hits that complete inside the submitting enter are reaped
 *     right after it, without waiting at all;
 *   - errors: a negative res becomes a rejected promise with a UringError
 *     (`e.code === "ENOENT"`, as in node:fs), instead of a raw −errno to decode.
 * What stays your job: short reads (a read may return fewer bytes than asked
 * for; ask again for the rest), and output order (CQEs may arrive in any order).
 *
 * Memory: all reads of a file are in flight together, so a file's blocks are
 * requested in windows of WINDOW_BYTES (16 MiB) — a huge file does not have to
 * fit in memory at once. Files up to 16 MiB are read with one Promise.all.
 *
 * Minimum kernel: Linux 5.6 (IORING_OP_OPENAT, IORING_OP_READ, IORING_OP_STATX
 * and IORING_OP_CLOSE).
 */
import { errnoMessage, Uring, UringError, type UringFile } from "../lib/index.ts";

/** One read per 64 KiB block. */
const BLOCK_SIZE = 64 * 1024;
/** At most this many bytes of reads in flight per file (256 blocks). */
const WINDOW_BYTES = 16 * 1024 * 1024;

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: bun examples/03-cat-async.ts FILE...");
  process.exit(2);
}

/** Report an error the way cat(1) does — `03-cat-async: PATH: ENOENT (no such file or directory)` — and remember to exit 1. */
function fail(path: string, err: unknown): void {
  if (err instanceof UringError) {
    // A rejected operation carries Node's fields: code "ENOENT", errno −2, syscall "open".
    console.error(`03-cat-async: ${path}: ${err.code} (${errnoMessage(err.errno)})`);
  } else {
    console.error(`03-cat-async: ${path}: ${(err as Error).message ?? String(err)}`);
  }
  process.exitCode = 1;
}

/** Write to stdout, completely: awaited, so every byte is out before the process may exit. */
async function writeOut(bytes: Uint8Array): Promise<void> {
  try {
    await Bun.write(Bun.stdout, bytes);
  } catch (err) {
    // The reader went away (`… | head`): stop quietly, as cat(1) does.
    if ((err as { code?: string }).code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  }
}

/**
 * Fill `buf` from `offset`, asking again after a short read. Resolves how many bytes it got
 * (less than buf.length only at end of file). The buffer needs no bookkeeping: `Uring` holds it
 * until the kernel is done with it.
 */
async function readBlock(file: UringFile, buf: Uint8Array, offset: number): Promise<number> {
  let filled = 0;
  while (filled < buf.length) {
    const n = await file.read(buf.subarray(filled), offset + filled);
    if (n === 0) break; // end of file: the file is shorter than fstat said
    filled += n;
  }
  return filled;
}

/** Write one file to stdout. Errors are reported by the caller. */
async function catFile(io: Uring, path: string): Promise<void> {
  const file = await io.open(path, "r");
  try {
    const { size } = await file.stat();
    for (let start = 0; start < size; start += WINDOW_BYTES) {
      const end = Math.min(size, start + WINDOW_BYTES);
      // One read per block, all requested in this tick: they reach the kernel in one io_uring_enter.
      const blocks: Uint8Array[] = [];
      for (let off = start; off < end; off += BLOCK_SIZE) blocks.push(new Uint8Array(Math.min(BLOCK_SIZE, end - off)));
      const got = await Promise.all(blocks.map((buf, k) => readBlock(file, buf, start + k * BLOCK_SIZE)));
      // Completions came in any order; Promise.all hands them back in file order. Stop at a short block.
      const out: Uint8Array[] = [];
      let eof = false;
      for (let k = 0; k < blocks.length && !eof; k++) {
        out.push(blocks[k]!.subarray(0, got[k]));
        eof = got[k]! < blocks[k]!.length;
      }
      if (out.length) await writeOut(out.length === 1 ? out[0]! : Buffer.concat(out));
      if (eof) break;
    }
    if (size === 0) {
      // Files in /proc and /sys claim size 0 but have contents: read them sequentially until EOF.
      const buf = new Uint8Array(BLOCK_SIZE);
      for (let off = 0; ; ) {
        const n = await file.read(buf, off);
        if (n === 0) break;
        await writeOut(buf.slice(0, n));
        off += n;
      }
    }
  } finally {
    await file.close();
  }
}

function setup(): Uring {
  try {
    return new Uring({ entries: 256 });
  } catch (err) {
    console.error(`03-cat-async: ${(err as Error).message}`);
    process.exit(1);
  }
}

await using io = setup();
// Like cat(1): a file that fails is reported, and the others are still written.
for (const path of files) {
  try {
    await catFile(io, path);
  } catch (err) {
    fail(path, err);
  }
}
