/**
 * copy_file_range(2) on worker threads: the kernel's own file-to-file copy, for copyFile's and
 * copyTree's large dense files.
 *
 * Why not the ring: io_uring has no copy_file_range opcode. Its nearest way, splice through pipes
 * (what #spliceFile in copy.ts does), hands every splice to an io-wq worker, and a 1 GiB copy took
 * 1.09–1.16× `cp`'s time here, cp being one copy_file_range call; the same call on a worker
 * thread takes cp's time (tmpfs, 1 GiB: 362–385 ms against cp's 360–390 ms; test/bench/copy.bench.ts
 * and the README have the bench's numbers). It is also what reflinks a file on btrfs/XFS and makes
 * the copy server-side on NFS and SMB, which no read/write or splice can do. The call blocks its
 * thread for the whole copy, so it never runs on the event loop's thread: a small pool of Bun
 * Workers (lib/copy-range-worker.ts) runs the jobs, in chunks, between which progress is reported
 * and a stop request is seen.
 *
 * Workers are made on first use (~3 ms each), kept for the next copy, and unref'd while idle, so
 * they never keep a process alive. A pool that cannot start a worker answers "unsupported", and the
 * caller copies through the ring as before.
 */
import { cpus } from "node:os";
import type { RangeJobMessage } from "./copy-range-worker.ts";
import { rangeRefused } from "./copy-worker-shared.ts";

/** The most bytes one copy_file_range call is asked for: a stop request waits for one chunk at most (~5 ms). */
export const RANGE_CHUNK = 16 * 1024 * 1024;

/** How a range job ended. `copied` bytes from `offset` are in place in every case. */
export type RangeResult =
  | { end: "done"; copied: number } // copied < length: the source ended first
  | { end: "stopped"; copied: number }
  | { end: "unsupported"; copied: number } // the kernel (or the pool) cannot do it: copy the rest another way
  | { end: "error"; copied: number; errno: number };

interface Job {
  onBytes: (n: number) => void;
  resolve: (r: RangeResult) => void;
  copied: number;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
}

const MAX_WORKERS = Math.max(1, Math.min(2, cpus().length));
const pool: Slot[] = [];
let nextId = 1;
let jobsStarted = 0;

/** End every job of a worker that died; the caller goes on another way from what was reported. */
function lose(slot: Slot): void {
  const k = pool.indexOf(slot);
  if (k >= 0) pool.splice(k, 1);
  for (const job of slot.jobs.values()) job.resolve({ end: "unsupported", copied: job.copied });
  slot.jobs.clear();
  try {
    slot.worker.terminate();
  } catch {
    // already gone
  }
}

function spawn(): Slot | null {
  let worker: Worker;
  try {
    worker = new Worker(new URL("./copy-range-worker.ts", import.meta.url).href);
  } catch {
    return null;
  }
  const slot: Slot = { worker, jobs: new Map() };
  worker.onmessage = (e: MessageEvent) => {
    const m = e.data as { id: number; n?: number; end?: "done" | "stopped" | "error"; copied?: number; errno?: number };
    const job = slot.jobs.get(m.id);
    if (!job) return;
    if (m.end === undefined) {
      job.copied += m.n!;
      job.onBytes(m.n!);
      return;
    }
    slot.jobs.delete(m.id);
    if (slot.jobs.size === 0) worker.unref();
    const copied = m.copied!;
    if (m.end === "error") {
      const errno = m.errno!;
      // refused (even part-way, which a filesystem may do for a range it cannot take): the caller
      // goes on from `copied` another way
      job.resolve(rangeRefused(errno) ? { end: "unsupported", copied } : { end: "error", copied, errno });
    } else {
      job.resolve({ end: m.end, copied });
    }
  };
  worker.onerror = () => lose(slot);
  worker.addEventListener("close", () => lose(slot));
  pool.push(slot);
  return slot;
}

/** The idle worker, else a new one while the pool may grow, else the least busy. */
function pick(): Slot | null {
  let best: Slot | null = null;
  for (const s of pool) if (!best || s.jobs.size < best.jobs.size) best = s;
  if (best && best.jobs.size === 0) return best;
  if (pool.length < MAX_WORKERS) return spawn() ?? best;
  return best;
}

/**
 * Copy `length` bytes at `offset` from `sfd` to the same offset of `dfd` with copy_file_range on a
 * worker thread (`preallocate`: fallocate the range first, sizing the file). `onBytes` hears of every chunk as it lands; `stop` is polled at each, and a true
 * answer ends the job after the chunk in flight. Both fds must stay open until the promise
 * settles (it always settles: a worker that dies ends its jobs as "unsupported").
 */
export function copyRange(
  sfd: number,
  dfd: number,
  offset: number,
  length: number,
  onBytes: (n: number) => void,
  stop: () => boolean,
  preallocate = false,
): Promise<RangeResult> {
  const slot = pick();
  if (!slot) return Promise.resolve({ end: "unsupported", copied: 0 });
  const id = nextId++;
  jobsStarted++;
  const ctl = new Int32Array(new SharedArrayBuffer(4));
  return new Promise<RangeResult>((resolve) => {
    slot.jobs.set(id, {
      onBytes: (n) => {
        onBytes(n);
        if (stop()) Atomics.store(ctl, 0, 1);
      },
      resolve,
      copied: 0,
    });
    slot.worker.ref();
    if (stop()) Atomics.store(ctl, 0, 1);
    slot.worker.postMessage({ id, sfd, dfd, offset, length, chunk: RANGE_CHUNK, ctl, preallocate } satisfies RangeJobMessage);
  });
}

/** How many range workers are running, and how many jobs they were given in this process (tests). */
export function rangeStats(): { workers: number; jobs: number } {
  return { workers: pool.length, jobs: jobsStarted };
}
