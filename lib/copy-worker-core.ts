/**
 * What a copyTree worker thread does (lib/copy-worker.ts is the Worker's entry; the main thread
 * runs the same code between its own tasks, see lib/copy-workers.ts): claim chunks of one
 * directory's regular files from the shared queue (lib/copy-worker-shared.ts) and copy each
 * with plain syscalls through bun:ffi:
 *
 *   statx → openat(src) → read → close → openat(dst, O_CREAT|O_EXCL) → write → [fsync] → close
 *   [→ renameat2(tmp, name)]
 *
 * Why plain syscalls and not this thread's own ring (measured, 10,000 × 4 KiB on tmpfs, fresh
 * processes, interleaved, medians): every create-type op (the O_CREAT open, statx, renameat) is
 * forced onto io-wq by the kernel (REQ_F_FORCE_ASYNC) — ~16 µs of CPU per file against ~7 µs for
 * the same steps as syscalls — so those stay syscalls in any design. What the ring could still
 * take are the steps that complete inline: the source open (LOOKUP_CACHED), and the closes — one
 * io_uring_enter per 128 opens and one per 256 closes (a SINGLE_ISSUER|DEFER_TASKRUN ring per
 * thread; perf showed every one of those ops completing inline, none punted). On one thread
 * that measured 71.4 ms against 69.8 ms all-syscalls (no gain: an open or a close costs the same
 * inside the ring, and a page-cache read or write on tmpfs is punted to io-wq, so those stay
 * syscalls too); on two threads 66.3 ms against 50.0 ms (127 against 76 in a noisier run: the
 * batched form holds 128 files open per thread). So every step is a syscall here; the ring keeps
 * the jobs it is faster at (big files and the general path).
 *
 * Guarantees are the in-process engine's (lib/copy-engine.ts): in a directory that existed the
 * file is written as `.NAME.bun-uring-PID-N.tmp` (N reserved by the main thread) and renamed into
 * place; in a staged directory it is written under its own name. A file that fails after its
 * destination was created is unlinked before its result is stored. The result word is stored
 * last; R_STARTED marks a file whose destination may exist, so the main thread can remove it
 * if this thread dies.
 */
import { ptr } from "bun:ffi";
import { noFTL } from "bun:jsc";
import { copyFileRange } from "../ffi/range.ts";
import { closeFd, fsyncFd, openatSync, readFd, renameat2Sync, statxSync, unlinkatSync, writeFd } from "../ffi/syscalls.ts";
import { addShared, casShared, loadShared, storeShared, waitShared } from "./barrier.ts";
import {
  C_FAULT,
  C_FSYNC,
  C_HEAD,
  C_NOCLOBBER,
  C_OPEN,
  C_PRESERVE_LINKS,
  C_PRESERVE_MODE,
  C_STARTED,
  C_STOP,
  C_TAIL,
  C_UMASK,
  CHUNK_FILES,
  CHUNK_SLOTS,
  CHUNK_WORDS,
  fail,
  CHUNK_NAME_BYTES,
  K_BYTES,
  WORKER_MAX_FILE,
  rangeRefused,
  writeSideErrno,
  K_COPIED,
  K_COUNT,
  K_DST,
  K_OWNER,
  K_SRC,
  K_STAGED,
  K_TMPSEQ,
  R_COPIED,
  R_RETRY,
  R_SKIPPED,
  R_STARTED,
  S_CLOSE_SRC,
  S_CLOSE_TMP,
  S_FSYNC,
  S_OPEN_SRC,
  S_OPEN_TMP,
  S_READ,
  S_RENAME,
  S_STATX,
  S_WRITE,
  type SharedState,
  viewsOf,
} from "./copy-worker-shared.ts";

/** Files up to this size are read and written through the scratch buffer (the engine's limit, lib/copy-engine.ts ENGINE_MAX_FILE). */
const MAX_FILE = 64 * 1024;
// Dense files over MAX_FILE and up to WORKER_MAX_FILE (lib/copy-worker-shared.ts) are copied here
// too, by copy_file_range(2) (read and write through the scratch buffer where the kernel refuses
// the pair): one call, no trip through the main thread's general path. Larger ones go there
// (lib/copy-range.ts: progress and abort between 16 MiB calls). Measured on the bench's mixed tree
// (2,000 files, 384 of them 64 KiB – 8 MiB): 108–128 ms → 88–92 ms on tmpfs.
const AT_SYMLINK_NOFOLLOW = 0x100;
const STATX_BASIC_STATS = 0x7ff;
const O_RDONLY = 0;
const O_WRONLY = 1;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_NOFOLLOW = 0o400000;
const O_CLOEXEC = 0o2000000;
const RENAME_NOREPLACE = 1;
const EEXIST = 17;
const ENAMETOOLONG = 36;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
/** How long one futex sleep lasts while the copy is open and the queue empty (ms). */
const IDLE_WAIT_MS = 50;

export interface Views extends ReturnType<typeof viewsOf> {
  namesAddr: number;
}

const encoder = new TextEncoder();
// one file at a time: one buffer (+1 byte, to see a file that grew), one statx, one temporary name
/**
 * The address of a view on a SharedArrayBuffer: shared memory never moves or shrinks, so ptr()
 * needs none of memory.ts's addressOf checks (and the worker does not load memory.ts, errors.ts
 * and layout.ts: ~2.5 ms of its ~7 ms start-up).
 */
const sharedAddress = (view: Uint8Array): number => ptr(view) as unknown as number;

// Scratch for one file at a time, in a SharedArrayBuffer: memory that no collector moves or frees.
// (Module-level typed arrays — a 64 KiB Uint8Array read() into, a 256-byte one statx() fills —
// crashed Bun 1.4.4 about one run in eight, SIGSEGV at 0x0 or file data in a heap pointer, when a
// Worker started during a copy; with this buffer: 0 in 100 runs.)
const scratch = new SharedArrayBuffer(256 + 1024 + MAX_FILE + 1);
const stx = new Uint8Array(scratch, 0, 256);
const stxAddr = sharedAddress(stx);
const stxWords = new Uint32Array(scratch, 0, 64);
const tmp = new Uint8Array(scratch, 256, 1024);
const tmpAddr = sharedAddress(tmp);
const data = new Uint8Array(scratch, 1280, MAX_FILE + 1);
const dataAddr = sharedAddress(data);


let inWorker = false;
/** Called by the worker entry (lib/copy-worker.ts): the fault hook fires only there, never on the main thread. */
export function markWorkerThread(): void {
  inWorker = true;
}

/**
 * The destination of file f: the final name in a staged directory, else a temporary name beside
 * it. Its address, or a result word (negative: a failure) when the name is too long.
 */
function destOf(w: Views, f: number, seq: number, staged: boolean): { addr: number } | { res: number } {
  const at = w.nameAt[f]!;
  const len = w.nameLen[f]!;
  if (staged) return { addr: w.namesAddr + at };
  tmp[0] = 0x2e; // "."
  tmp.set(w.names.subarray(at, at + len), 1);
  const tail = encoder.encodeInto(`.bun-uring-${process.pid}-${seq}.tmp`, tmp.subarray(1 + len, tmp.length - 1)).written;
  tmp[1 + len + tail] = 0;
  if (1 + len + tail > 255) return { res: fail(S_OPEN_TMP, ENAMETOOLONG) };
  return { addr: tmpAddr };
}

/**
 * A dense file over MAX_FILE (its source open as `src`, closed here): created like a small one,
 * its bytes moved by copy_file_range — or through the scratch buffer where the kernel refuses
 * the pair — then closed and renamed as a small one is. A source that ends early: R_RETRY.
 */
function copyLarge(w: Views, src: number, dfd: number, staged: boolean, f: number, seq: number, size: number, mode: number): number {
  const ctl = w.ctl;
  const nameAddr = w.namesAddr + w.nameAt[f]!;
  const d = destOf(w, f, seq, staged);
  if ("res" in d) {
    closeFd(src);
    return d.res;
  }
  storeShared(w.res, f, R_STARTED);
  const dst = openatSync(dfd, d.addr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (dst < 0) {
    closeFd(src);
    return fail(S_OPEN_TMP, -dst);
  }
  let res = R_COPIED;
  let done = 0;
  let kernel = true;
  while (done < size) {
    const want = size - done;
    let n: number;
    if (kernel) {
      n = copyFileRange(src, 0, dst, 0, want, 0);
      if (n < 0 && rangeRefused(n)) {
        kernel = false; // the file positions are where the last call left them
        continue;
      }
      if (n < 0) {
        res = fail(writeSideErrno(n) ? S_WRITE : S_READ, -n);
        break;
      }
    } else {
      n = readFd(src, dataAddr, Math.min(want, MAX_FILE));
      if (n < 0) {
        res = fail(S_READ, -n);
        break;
      }
      if (n > 0) {
        const wrote = writeFd(dst, dataAddr, n);
        if (wrote < 0) {
          res = fail(S_WRITE, -wrote);
          break;
        }
        if (wrote !== n) {
          res = R_RETRY; // a short write: the general path reports why
          break;
        }
      }
    }
    if (n === 0) {
      res = R_RETRY; // the source ended first: the general path copies what is there
      break;
    }
    done += n;
  }
  const r = closeFd(src);
  if (res === R_COPIED && r < 0) res = fail(S_CLOSE_SRC, -r);
  return settle(ctl, res, dst, dfd, d.addr, nameAddr, staged);
}

/** Copy one file (index f of the shared file arrays); returns its result word. */
function copyOne(w: Views, sfd: number, dfd: number, staged: boolean, f: number, seq: number): number {
  const ctl = w.ctl;
  const at = w.nameAt[f]!;
  const nameLen = w.nameLen[f]!;
  const nameAddr = w.namesAddr + at;
  if (nameLen > 255) return fail(S_STATX, ENAMETOOLONG);
  let r = statxSync(sfd, nameAddr, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, stxAddr);
  if (r < 0) return fail(S_STATX, -r);
  const mode = stxWords[7]! & 0xffff; // stx_mode at byte 28
  const nlink = stxWords[4]!; // stx_nlink at 16
  const size = stxWords[10]!; // stx_size at 40 (low word; the high one must be 0)
  const perm = mode & 0o7777;
  const preserveMode = ctl[C_PRESERVE_MODE] === 1;
  const large = size > MAX_FILE;
  if (
    (mode & S_IFMT) !== S_IFREG ||
    stxWords[11] !== 0 ||
    size > WORKER_MAX_FILE ||
    // a sparse file (fewer blocks than its size; stx_blocks at 48) keeps its holes on the general path
    (large && stxWords[12]! * 512 < size) ||
    (ctl[C_PRESERVE_LINKS] === 1 && nlink > 1) ||
    (preserveMode && (perm & ~ctl[C_UMASK]!) !== perm)
  ) {
    return R_RETRY;
  }
  w.size[f] = size;
  const src = openatSync(sfd, nameAddr, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (src < 0) return fail(S_OPEN_SRC, -src);
  if (large) return copyLarge(w, src, dfd, staged, f, seq, size, preserveMode ? perm : mode & 0o777);
  const n = readFd(src, dataAddr, size + 1);
  r = closeFd(src);
  if (n < 0) return fail(S_READ, -n);
  if (n !== size) return R_RETRY; // changed under the copy: the general path copies what is there
  if (r < 0) return fail(S_CLOSE_SRC, -r);
  const d = destOf(w, f, seq, staged);
  if ("res" in d) return d.res;
  const destAddr = d.addr;
  storeShared(w.res, f, R_STARTED);
  const dst = openatSync(dfd, destAddr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, preserveMode ? perm : mode & 0o777);
  if (dst < 0) return fail(S_OPEN_TMP, -dst);
  // test hook (worker threads only): die here, the destination created and empty (the main thread must remove it)
  const fault = ctl[C_FAULT]!;
  if (fault > 0 && inWorker && addShared(ctl, C_STARTED, 1) + 1 >= fault) {
    closeFd(dst);
    throw new Error("bun-uring: copy worker fault injected (test)");
  }
  let res = R_COPIED;
  if (size > 0) {
    const wrote = writeFd(dst, dataAddr, size);
    if (wrote < 0) res = fail(S_WRITE, -wrote);
    else if (wrote !== size) res = R_RETRY; // a short write: the general path reports why
  }
  return settle(ctl, res, dst, dfd, destAddr, nameAddr, staged);
}

/**
 * The end of a file whose data step gave `res`: [fsync,] close the destination, rename it into
 * place outside a staged directory; what failed leaves no file behind (the temporary, or the
 * final name inside a staged directory). The file's result word.
 */
function settle(ctl: Int32Array, res: number, dst: number, dfd: number, destAddr: number, nameAddr: number, staged: boolean): number {
  let r: number;
  if (res === R_COPIED && ctl[C_FSYNC] === 1) {
    r = fsyncFd(dst);
    if (r < 0) res = fail(S_FSYNC, -r);
  }
  r = closeFd(dst);
  if (res === R_COPIED && r < 0) res = fail(S_CLOSE_TMP, -r);
  if (res === R_COPIED && !staged) {
    const noClobber = ctl[C_NOCLOBBER] === 1;
    r = renameat2Sync(dfd, destAddr, dfd, nameAddr, noClobber ? RENAME_NOREPLACE : 0);
    if (r < 0) res = r === -EEXIST && noClobber ? R_SKIPPED : fail(S_RENAME, -r);
  }
  if (res !== R_COPIED) unlinkatSync(dfd, destAddr, 0);
  return res;
}

/**
 * Claim the next published chunk for `owner` (a worker's id + 1; the main thread is 0x7fff):
 * its number, or -1 when the queue is empty.
 */
export function claimChunk(w: Views, owner: number): number {
  const ctl = w.ctl;
  for (;;) {
    const head = loadShared(ctl, C_HEAD);
    if (head === loadShared(ctl, C_TAIL)) return -1;
    if (casShared(ctl, C_HEAD, head, (head + 1) | 0) !== head) continue;
    storeShared(w.chunks, ((head >>> 0) % CHUNK_SLOTS) * CHUNK_WORDS + K_OWNER, owner);
    return head;
  }
}

/**
 * Copy every file of claimed chunk `seq`, storing each result (the files after a stop stay
 * R_PENDING), then the chunk's count of copied files and their bytes.
 */
export function copyChunk(w: Views, seq: number): void {
  const slot = (seq >>> 0) % CHUNK_SLOTS;
  const c = slot * CHUNK_WORDS;
  const chunks = w.chunks;
  const sfd = chunks[c + K_SRC]!;
  const dfd = chunks[c + K_DST]!;
  const count = chunks[c + K_COUNT]!;
  const staged = chunks[c + K_STAGED] === 1;
  const tmpSeq = chunks[c + K_TMPSEQ]!;
  const base = slot * CHUNK_FILES;
  // where each name starts: the arena holds them NUL-terminated, one after the other
  const names = w.names;
  let at = slot * CHUNK_NAME_BYTES;
  for (let k = 0; k < count; k++) {
    const end = names.indexOf(0, at);
    w.nameAt[base + k] = at;
    w.nameLen[base + k] = end - at;
    at = end + 1;
  }
  let copied = 0;
  let bytes = 0;
  for (let k = 0; k < count; k++) {
    if (w.ctl[C_STOP] === 1) break;
    const res = copyOne(w, sfd, dfd, staged, base + k, tmpSeq + k);
    storeShared(w.res, base + k, res);
    if (res === R_COPIED) {
      copied++;
      bytes += w.size[base + k]!;
    }
  }
  chunks[c + K_BYTES] = bytes;
  storeShared(chunks, c + K_COPIED, copied); // (release: read after the chunk's message)
}

/** A worker's loop: claim and copy chunks, posting each number back, until the copy closes (C_OPEN = 0) with the queue empty. */
export function runWorker(w: Views, id: number, post: (seq: number) => void): void {
  const ctl = w.ctl;
  for (;;) {
    const tail = loadShared(ctl, C_TAIL);
    const seq = claimChunk(w, id + 1);
    if (seq !== -1) {
      copyChunk(w, seq);
      post(seq);
    } else if (loadShared(ctl, C_OPEN) === 0) return;
    else waitShared(ctl, C_TAIL, tail, IDLE_WAIT_MS);
  }
}

/**
 * The copy loop and its syscall wrappers stay out of JSC's top tier (FTL). A cold copy is CPU-bound
 * on every core (two threads copying, JSC's compiler threads beside them), and compiling these
 * functions once more with FTL, on each thread, cost more CPU than it saved: FTL compiles of the
 * wrappers alone were reported at ~7 ms (BUN_JSC_reportCompileTimes), on a loop whose time is
 * ~85 % syscalls. Measured on the 10,000 × 4 KiB tree on tmpfs, cold call, 10 interleaved rounds:
 * 55.8 ms median (min 53.3) against 57.6 (55.8) without, `cp -r` 72.0 (68.9). DFG still compiles them.
 */
for (const f of [copyOne, copyLarge, settle, copyChunk, statxSync, openatSync, readFd, writeFd, closeFd, renameat2Sync]) noFTL(f as (...a: unknown[]) => unknown);

/** Views over the shared state, with the name arena's address. */
export function attach(s: SharedState): Views {
  const views = viewsOf(s);
  return { ...views, namesAddr: sharedAddress(views.names) };
}

