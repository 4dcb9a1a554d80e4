/**
 * libc through `bun:ffi`: the only symbols bun-uring takes from C.
 *
 * The C prototype is written beside each symbol. Nothing here knows about
 * io_uring beyond the syscall numbers; `lib/` builds on top of it.
 *
 * ## The one ABI assumption
 *
 * `long syscall(long number, ...)` is variadic. We call it through
 * fixed-signature trampolines (one `CFunction` per io_uring syscall, all
 * built from the one `syscall` pointer): the number as `i64`, ints as
 * `i32`/`u32`, pointers as `ptr`, sizes as `i64`, and the result read as
 * `i32`. On x86_64 and aarch64 Linux, variadic integer and pointer arguments
 * travel in the same registers as fixed ones (rdi, rsi, rdx, rcx, r8, r9 and
 * the 7th on the stack; x0–x7), and the kernel's syscall wrappers truncate
 * each argument to its declared C type, so a 32-bit int whose upper register
 * half is garbage is still read correctly. The io_uring syscalls return
 * an int (an fd, a count or -1), so reading the `long` result as `i32` loses
 * nothing. This does NOT hold on every ABI (it fails on some 32-bit ones and
 * on Apple arm64, where variadic arguments go on the stack); bun-uring is
 * Linux x86_64/aarch64 only, like io_uring's users.
 */
import { CFunction, dlopen, FFIType, type Pointer, read } from "bun:ffi";

const lib = dlopen("libc.so.6", {
  /** long syscall(long number, ...); — only its address is used, see below */
  syscall: { args: [FFIType.i64], returns: FFIType.i32 },
  /** void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset);
   *  `i64_fast` so MAP_FAILED (-1) comes back as the number -1, not a BigInt. */
  mmap: {
    args: [FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.i32, FFIType.i32, FFIType.i64],
    returns: FFIType.i64_fast,
  },
  /** int munmap(void *addr, size_t length); */
  munmap: { args: [FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  /** int close(int fd); */
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  /** int eventfd(unsigned int initval, int flags); */
  eventfd: { args: [FFIType.u32, FFIType.i32], returns: FFIType.i32 },
  /** int *__errno_location(void); — the calling thread's errno */
  __errno_location: { args: [], returns: FFIType.ptr },
  /** char *strerror(int errnum); — used only to word error messages */
  strerror: { args: [FFIType.i32], returns: FFIType.cstring },
  /** int setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen); */
  setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  /** int getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen); */
  getsockname: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  /** off_t lseek(int fd, off_t offset, int whence); — SEEK_DATA/SEEK_HOLE for sparse files */
  lseek: { args: [FFIType.i32, FFIType.i64, FFIType.i32], returns: FFIType.i64_fast },
  /** int fchmod(int fd, mode_t mode); */
  fchmod: { args: [FFIType.i32, FFIType.u32], returns: FFIType.i32 },
  /** int fchownat(int dirfd, const char *path, uid_t owner, gid_t group, int flags); */
  fchownat: { args: [FFIType.i32, FFIType.ptr, FFIType.u32, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
  /** int utimensat(int dirfd, const char *path, const struct timespec times[2], int flags); */
  utimensat: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  /** int futimens(int fd, const struct timespec times[2]); */
  futimens: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  /** int fchown(int fd, uid_t owner, gid_t group); */
  fchown: { args: [FFIType.i32, FFIType.u32, FFIType.u32], returns: FFIType.i32 },
  /** int pipe2(int pipefd[2], int flags); */
  pipe2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  /** int fcntl(int fd, int cmd, int arg); — F_SETPIPE_SZ here */
  fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  /** int getrlimit(int resource, struct rlimit *rlim); */
  getrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  /** int setrlimit(int resource, const struct rlimit *rlim); */
  setrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  /** int epoll_create1(int flags); */
  epoll_create1: { args: [FFIType.i32], returns: FFIType.i32 },
  /** int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf); — glibc ≥ 2.28 */
  statx: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.u32, FFIType.ptr], returns: FFIType.i32 },
  /** int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags); — glibc ≥ 2.28 */
  renameat2: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  /** int openat(int dirfd, const char *path, int flags, ...); — the variadic mode_t travels like a fixed unsigned int (see the ABI note) */
  openat: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.u32], returns: FFIType.i32 },
  /** ssize_t read(int fd, void *buf, size_t count); — read as i32: callers pass count < 2 GiB */
  read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  /** ssize_t write(int fd, const void *buf, size_t count); — read as i32: callers pass count < 2 GiB */
  write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  /** int unlinkat(int dirfd, const char *path, int flags); */
  unlinkat: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  /** int fsync(int fd); */
  fsync: { args: [FFIType.i32], returns: FFIType.i32 },
});

const syscallPtr = (lib.symbols.syscall as unknown as { ptr?: Pointer }).ptr;
if (!syscallPtr) throw new Error("bun-uring: libc.so.6 has no syscall() symbol");

/** int io_uring_setup(u32 entries, struct io_uring_params *p); — syscall(425, …) */
export const sys_io_uring_setup = CFunction({
  ptr: syscallPtr,
  args: [FFIType.i64, FFIType.u32, FFIType.ptr],
  returns: FFIType.i32,
});

/** int io_uring_enter(unsigned fd, u32 to_submit, u32 min_complete, u32 flags,
 *                     const void *argp, size_t argsz); — syscall(426, …) */
export const sys_io_uring_enter = CFunction({
  ptr: syscallPtr,
  args: [FFIType.i64, FFIType.i32, FFIType.u32, FFIType.u32, FFIType.u32, FFIType.ptr, FFIType.i64],
  returns: FFIType.i32,
});

/**
 * The same io_uring_enter(2) for the common call without an argument (argp = NULL, argsz = 0),
 * every argument a 32-bit integer: bun:ffi converts an `i32`/`u32` by unboxing it, while `i64`
 * and `ptr` take a slower generic conversion (~9 ns per call here, a tenth of the syscall). The
 * values passed are all ≥ 0 (the fd as `i32` is the one exception, and the kernel reads it as an
 * unsigned int): a 32-bit register write zero-extends on x86_64 and aarch64, so each reaches the
 * kernel as the same 64-bit value `long` / `size_t` / `void *` would carry — syscall number 426,
 * argp 0 (NULL), argsz 0. Calls that pass an argument use `sys_io_uring_enter`.
 */
export const sys_io_uring_enter_noarg = CFunction({
  ptr: syscallPtr,
  args: [FFIType.i32, FFIType.i32, FFIType.u32, FFIType.u32, FFIType.u32, FFIType.i32, FFIType.i32],
  returns: FFIType.i32,
});

/** int io_uring_register(unsigned fd, unsigned opcode, void *arg, unsigned nr_args); — syscall(427, …) */
export const sys_io_uring_register = CFunction({
  ptr: syscallPtr,
  args: [FFIType.i64, FFIType.i32, FFIType.u32, FFIType.ptr, FFIType.u32],
  returns: FFIType.i32,
});

export const { mmap, munmap, close, eventfd, strerror, getrlimit, setrlimit } = lib.symbols;
export const { epoll_create1: c_epoll_create1, statx: c_statx, renameat2: c_renameat2 } = lib.symbols;
export const { openat: c_openat, read: c_read, write: c_write, unlinkat: c_unlinkat, fsync: c_fsync } = lib.symbols;
const { setsockopt: c_setsockopt, getsockname: c_getsockname, lseek: c_lseek, fchmod: c_fchmod, fchownat: c_fchownat, utimensat: c_utimensat, futimens: c_futimens, fchown: c_fchown, pipe2: c_pipe2, fcntl: c_fcntl } = lib.symbols;
export { c_fcntl, c_pipe2, c_fchown, c_futimens, c_fchmod, c_fchownat, c_getsockname, c_lseek, c_setsockopt, c_utimensat };

/**
 * errno lives in thread-local storage; `__errno_location()` is stable for the
 * life of a thread, so it is fetched once per module instance (each Worker
 * loads its own copy of this module, and so gets its own pointer).
 */
const errnoPtr = lib.symbols.__errno_location();
if (!errnoPtr) throw new Error("bun-uring: __errno_location() returned NULL");

/** The calling thread's errno. Read it right after a call that returned -1. */
export function errno(): number {
  return read.i32(errnoPtr!, 0);
}
