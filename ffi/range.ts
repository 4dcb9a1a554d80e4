/**
 * copy_file_range(2) and fallocate(2) for the copy worker threads (lib/copy-range-worker.ts,
 * lib/copy-worker-core.ts), in a libc binding of its own: a Worker loads every module afresh, and dlopen's per-symbol trampolines are most of a
 * worker's start-up — with ffi/libc.ts's ~25 symbols a worker took ~7 ms to come up, with these two
 * ~3.5 ms. Same conventions as ffi/syscalls.ts: ≥ 0, or -errno read right after the call.
 */
import { dlopen, FFIType, type Pointer, read } from "bun:ffi";

const lib = dlopen("libc.so.6", {
  /** ssize_t copy_file_range(int fd_in, off64_t *off_in, int fd_out, off64_t *off_out, size_t len, unsigned int flags); — glibc ≥ 2.27
   *  `i64_fast`: a count (or -1) comes back as a number. */
  copy_file_range: {
    args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.u32],
    returns: FFIType.i64_fast,
  },
  /** int fallocate(int fd, int mode, off_t offset, off_t len); */
  fallocate: { args: [FFIType.i32, FFIType.i32, FFIType.i64, FFIType.i64], returns: FFIType.i32 },
  /** int *__errno_location(void); — this thread's errno */
  __errno_location: { args: [], returns: FFIType.ptr },
});

const errnoLocation = lib.symbols.__errno_location();
if (!errnoLocation) throw new Error("bun-uring: __errno_location() returned NULL");
const errnoPtr = errnoLocation as Pointer;

/** fallocate(2): 0 or -errno. */
export function fallocate(fd: number, mode: number, offset: number, len: number): number {
  const r = lib.symbols.fallocate(fd, mode, offset, len);
  return r < 0 ? -read.i32(errnoPtr, 0) : r;
}

/**
 * copy_file_range(2): the bytes copied (0 at the source's EOF), or -errno. `offIn`/`offOut` are the
 * addresses of 64-bit offsets the kernel reads and advances (0: NULL, the file positions). It
 * blocks for as long as the kernel copies: call it on a worker thread, never on the event loop's.
 */
export function copyFileRange(fdIn: number, offIn: number, fdOut: number, offOut: number, len: number, flags: number): number {
  const r = Number(lib.symbols.copy_file_range(fdIn, offIn as Pointer, fdOut, offOut as Pointer, len, flags));
  return r < 0 ? -read.i32(errnoPtr, 0) : r;
}
