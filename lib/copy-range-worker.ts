/**
 * The worker thread behind lib/copy-range.ts: runs copy_file_range(2) jobs, one at a time, in
 * chunks, so the blocking in-kernel copy never runs on the thread of Bun's event loop.
 *
 * A job message: `{ id, sfd, dfd, offset, length, chunk, ctl, preallocate }`. fds are the process's, shared by
 * every thread. `ctl` is an Int32Array over a SharedArrayBuffer: the main thread stores 1 in
 * `ctl[0]` to stop the job between two chunks. Replies, in order:
 * - `{ id, n }` after every chunk that moved bytes (`n` of them);
 * - then one of `{ id, end: "done", copied }` (`copied` < length: the source ended first),
 *   `{ id, end: "stopped", copied }`, or `{ id, end: "error", copied, errno }` (errno negative).
 * The offsets live in this thread's memory and are advanced by the kernel.
 */
import { ptr } from "bun:ffi";
import { copyFileRange, fallocate } from "../ffi/range.ts";

declare const self: Worker;

export interface RangeJobMessage {
  id: number;
  sfd: number;
  dfd: number;
  offset: number;
  length: number;
  chunk: number;
  ctl: Int32Array;
  /** fallocate the destination's range first (its size becomes offset + length). */
  preallocate: boolean;
}

// two loff_t, held for the life of the thread, in a SharedArrayBuffer, whose storage never moves
// (see statxBuf in lib/copy.ts)
const offView = new BigInt64Array(new SharedArrayBuffer(16));
const offInAddr = ptr(offView);
const offOutAddr = offInAddr + 8;

self.onmessage = (e: MessageEvent<RangeJobMessage>) => {
  const { id, sfd, dfd, offset, length, chunk, ctl, preallocate } = e.data;
  // best effort: a filesystem without it, or no room (then the copy itself reports ENOSPC)
  if (preallocate) fallocate(dfd, 0, offset, length);
  offView[0] = BigInt(offset);
  offView[1] = BigInt(offset);
  let copied = 0;
  while (copied < length) {
    if (Atomics.load(ctl, 0) !== 0) return postMessage({ id, end: "stopped", copied });
    const r = copyFileRange(sfd, offInAddr, dfd, offOutAddr, Math.min(chunk, length - copied), 0);
    if (r < 0) {
      if (r === -4) continue; // EINTR: nothing moved, the offsets did not either
      return postMessage({ id, end: "error", copied, errno: r });
    }
    if (r === 0) break; // the source ended before `length`
    copied += r;
    postMessage({ id, n: r });
  }
  postMessage({ id, end: "done", copied });
};
