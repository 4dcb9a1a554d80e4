/**
 * The memory copyTree's worker threads share with the main thread: one SharedArrayBuffer set,
 * made once per process by lib/copy-workers.ts and handed to each worker (lib/copy-worker.ts).
 *
 * - `ctl`: the queue's counters and the copy's options (C_* below).
 * - chunks: CHUNK_SLOTS slots of up to CHUNK_FILES files of one directory. Chunk number `seq`
 *   (free-running) lives in slot `seq % CHUNK_SLOTS`; the main thread publishes it by moving
 *   C_TAIL past it, a worker claims it by moving C_HEAD (compare-exchange), and the main thread
 *   reuses the slot only after that chunk is settled.
 * - per chunk, a name arena: the chunk's names, NUL-terminated, one after the other (one
 *   encodeInto per chunk on the main thread; the worker finds where each starts).
 * - per file (slot × CHUNK_FILES + k): its name's offset in the arena and length (written by the
 *   worker when it claims the chunk), its size once stat'ed (-1 before), and its result (R_* or a
 *   failure, see fail()). The worker stores the result last (release); the main thread reads it
 *   after the worker's "chunk done" message.
 *
 * Imported by the worker, so it imports nothing.
 */

/** Files per chunk at most: a directory with more is split (its chunks may run on two threads). */
export const CHUNK_FILES = 128;
/** Chunks published and not yet settled at most (16,384 files). */
export const CHUNK_SLOTS = 128;
/**
 * Name arena bytes per chunk: its names, each NUL-terminated, one after the other (each ≤ NAME_MAX
 * = 255 bytes + NUL; a longer one is written as 256 × "x", which fails with ENAMETOOLONG).
 */
export const CHUNK_NAME_BYTES = CHUNK_FILES * 257 + 64;
/** Words per chunk: srcFd, dstFd, count, staged, owner (worker id + 1 once claimed), seq, first temporary-name N, files copied, their bytes. */
export const CHUNK_WORDS = 12;
export const K_SRC = 0;
export const K_DST = 1;
export const K_COUNT = 2;
export const K_STAGED = 3;
export const K_OWNER = 4;
export const K_SEQ = 5;
export const K_TMPSEQ = 6;
/**
 * Written by the worker when the chunk is done: files copied (R_COPIED), and their bytes — up to
 * CHUNK_FILES × WORKER_MAX_FILE = 2 GiB, past an Int32's range: read it unsigned (`>>> 0`).
 */
export const K_COPIED = 7;
export const K_BYTES = 8;

/**
 * The largest file a worker copies (dense files over 64 KiB by copy_file_range, lib/copy-worker-core.ts);
 * larger ones go to the main thread's general path. A file's size fits its Int32 word, and a
 * chunk's bytes (K_BYTES) fit 32 bits unsigned.
 */
export const WORKER_MAX_FILE = 16 * 1024 * 1024;

// ctl words
/** Chunks published (free-running). */
export const C_TAIL = 0;
/** Chunks claimed (free-running). */
export const C_HEAD = 1;
/** 1 while a copy is using the workers: they sleep on C_TAIL between chunks; 0 sends them back to their event loop. */
export const C_OPEN = 2;
/** 1: the copy has failed or been aborted — start no new file. */
export const C_STOP = 3;
export const C_FSYNC = 4;
export const C_NOCLOBBER = 5;
export const C_PRESERVE_MODE = 6;
export const C_PRESERVE_LINKS = 7;
export const C_UMASK = 8;
/** Test hook: > 0 makes a worker throw (crash) when it starts that many-th file of a copy. */
export const C_FAULT = 9;
/** Files started over all workers in this copy (for C_FAULT). */
export const C_STARTED = 10;
export const CTL_WORDS = 16;

// results
/** Not started (the copy stopped first): settles as nothing. */
export const R_PENDING = 0;
/** The destination is being written: if the worker dies now, the main thread removes it. */
export const R_STARTED = 1;
export const R_COPIED = 2;
/** Hand it back to the general path (not regular after all, too big, a link, a mode openat cannot set, changed size). */
export const R_RETRY = 3;
/** The destination exists and noClobber is set. */
export const R_SKIPPED = 4;

// steps, for failures (as in lib/copy-engine.ts)
export const S_STATX = 0;
export const S_OPEN_SRC = 1;
export const S_READ = 2;
export const S_CLOSE_SRC = 3;
export const S_OPEN_TMP = 4;
export const S_WRITE = 5;
export const S_FSYNC = 6;
export const S_CLOSE_TMP = 7;
export const S_RENAME = 8;
export const STEP_SYSCALL = ["statx", "open", "read", "close", "open", "write", "fsync", "close", "rename"] as const;
export const STEP_ON_DEST = [false, false, false, false, true, true, true, true, true] as const;

/** A failure as a result word: -((step + 1) × 65536 + errno), errno > 0. */
export function fail(step: number, errno: number): number {
  return -((step + 1) * 65536 + errno);
}
/** The step of a failure result. */
export function failStep(res: number): number {
  return ((-res >>> 16) - 1) | 0;
}
/** The errno (positive) of a failure result. */
export function failErrno(res: number): number {
  return -res & 0xffff;
}

/** The shared buffers (structured-cloned to each worker: the same memory). */
export interface SharedState {
  ctl: SharedArrayBuffer;
  chunks: SharedArrayBuffer;
  /** Per file: name offset, name length, size, result — four Int32Arrays of CHUNK_SLOTS × CHUNK_FILES. */
  files: SharedArrayBuffer;
  names: SharedArrayBuffer;
}

export const FILE_SLOTS = CHUNK_SLOTS * CHUNK_FILES;

export function makeSharedState(): SharedState {
  return {
    ctl: new SharedArrayBuffer(CTL_WORDS * 4),
    chunks: new SharedArrayBuffer(CHUNK_SLOTS * CHUNK_WORDS * 4),
    files: new SharedArrayBuffer(FILE_SLOTS * 4 * 4),
    names: new SharedArrayBuffer(CHUNK_SLOTS * CHUNK_NAME_BYTES),
  };
}

// ---------------------------------------------------------------- copy_file_range's answers
// Read the same way by both kinds of copy worker: the tree's (lib/copy-worker-core.ts) and the
// large-file pool's (lib/copy-range.ts, on the main thread).

/**
 * Whether copy_file_range(2) failed with `errno` (either sign) because it will not take this pair
 * of files — another filesystem, a file or flag it refuses, no such call — so the copy goes on from
 * where it stopped another way (read/write, or the ring's splices).
 */
export function rangeRefused(errno: number): boolean {
  const e = Math.abs(errno);
  return e === 18 /* EXDEV */ || e === 22 /* EINVAL */ || e === 95 /* EOPNOTSUPP */ || e === 38 /* ENOSYS */ || e === 9; /* EBADF */
}

/** Whether `errno` (either sign) is the destination's: it is reported as a write's, like every other copy path's. */
export function writeSideErrno(errno: number): boolean {
  const e = Math.abs(errno);
  return e === 28 /* ENOSPC */ || e === 27 /* EFBIG */ || e === 122; /* EDQUOT */
}

/** Typed views over a SharedState (each thread makes its own). */
export function viewsOf(s: SharedState) {
  return {
    ctl: new Int32Array(s.ctl),
    chunks: new Int32Array(s.chunks),
    nameAt: new Int32Array(s.files, 0, FILE_SLOTS),
    nameLen: new Int32Array(s.files, FILE_SLOTS * 4, FILE_SLOTS),
    size: new Int32Array(s.files, FILE_SLOTS * 8, FILE_SLOTS),
    res: new Int32Array(s.files, FILE_SLOTS * 12, FILE_SLOTS),
    names: new Uint8Array(s.names),
  };
}
