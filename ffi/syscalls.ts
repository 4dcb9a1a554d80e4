/**
 * Kernel-style wrappers: every function returns a result ≥ 0, or -errno read
 * from `__errno_location()` right after the call failed. No exceptions here;
 * `lib/errors.ts` is the one place where -errno becomes an Error.
 *
 * Pointer arguments are numbers (addresses) or `null`. Callers own the
 * memory behind them and must keep it alive for as long as the kernel may
 * use it; for these syscalls that is only the duration of the call, except
 * where io_uring itself keeps the address (rings, registered buffers).
 */
import type { Pointer } from "bun:ffi";
import {
  c_epoll_create1,
  c_fcntl,
  c_pipe2,
  c_fchown,
  c_futimens,
  c_fchmod,
  c_fchownat,
  c_getsockname,
  c_lseek,
  c_utimensat,
  c_setsockopt,
  c_statx,
  c_renameat2,
  c_openat,
  c_read,
  c_write,
  c_unlinkat,
  c_fsync,
  close,
  errno,
  eventfd,
  mmap,
  munmap,
  sys_io_uring_enter,
  sys_io_uring_enter_noarg,
  sys_io_uring_register,
  sys_io_uring_setup,
} from "./libc.ts";

/** Syscall numbers, identical on x86_64 and aarch64 (the unified table since Linux 5.1). */
export const NR_io_uring_setup = 425;
export const NR_io_uring_enter = 426;
export const NR_io_uring_register = 427;

/** An address for `bun:ffi`: a number from `ptr()`, or null for NULL. */
export type Addr = number | null;

const asPtr = (a: Addr) => a as Pointer | null;

/** io_uring_setup(2): a ring fd, or -errno. `params` is the address of a 120-byte struct io_uring_params. */
export function ioUringSetup(entries: number, params: Addr): number {
  const r = sys_io_uring_setup(NR_io_uring_setup, entries, asPtr(params));
  return r < 0 ? -errno() : r;
}

/** io_uring_enter(2): SQEs consumed, or -errno. `argp`/`argsz` carry a sigset or, with
 *  IORING_ENTER_EXT_ARG, a struct io_uring_getevents_arg. */
export function ioUringEnter(
  fd: number,
  toSubmit: number,
  minComplete: number,
  flags: number,
  argp: Addr,
  argsz: number,
): number {
  // without an argument (the hot path), the all-32-bit-integer trampoline: see sys_io_uring_enter_noarg
  const r =
    argp === null && argsz === 0
      ? sys_io_uring_enter_noarg(NR_io_uring_enter, fd, toSubmit, minComplete, flags, 0, 0)
      : sys_io_uring_enter(NR_io_uring_enter, fd, toSubmit, minComplete, flags, asPtr(argp), argsz);
  return r < 0 ? -errno() : r;
}

/** io_uring_register(2): an opcode-specific result ≥ 0, or -errno. */
export function ioUringRegister(fd: number, opcode: number, arg: Addr, nrArgs: number): number {
  const r = sys_io_uring_register(NR_io_uring_register, fd, opcode, asPtr(arg), nrArgs);
  return r < 0 ? -errno() : r;
}

/** mmap(2) of a shared, read/write, prefaulted region of `fd` at `offset`: the address, or -errno. */
export function mmapShared(length: number, fd: number, offset: number): number {
  const PROT_READ_WRITE = 0x1 | 0x2;
  const MAP_SHARED_POPULATE = 0x01 | 0x8000;
  const r = Number(mmap(null, length, PROT_READ_WRITE, MAP_SHARED_POPULATE, fd, offset));
  return r === -1 ? -errno() : r;
}

/** munmap(2): 0 or -errno. */
export function munmapRegion(addr: number, length: number): number {
  const r = munmap(addr as Pointer, length);
  return r < 0 ? -errno() : r;
}

/** close(2): 0 or -errno. */
export function closeFd(fd: number): number {
  const r = close(fd);
  return r < 0 ? -errno() : r;
}

/** eventfd(2) with the given EFD_* flags: an fd, or -errno. */
export function eventfdCreate(initval: number, flags: number): number {
  const r = eventfd(initval, flags);
  return r < 0 ? -errno() : r;
}

/** setsockopt(2): 0 or -errno. `optval` is the address of `optlen` bytes. */
export function setsockopt(fd: number, level: number, optname: number, optval: Addr, optlen: number): number {
  const r = c_setsockopt(fd, level, optname, asPtr(optval), optlen);
  return r < 0 ? -errno() : r;
}

/** getsockname(2): 0 or -errno; writes the sockaddr at `addr` and its length at `addrlen`. */
export function getsockname(fd: number, addr: Addr, addrlen: Addr): number {
  const r = c_getsockname(fd, asPtr(addr), asPtr(addrlen));
  return r < 0 ? -errno() : r;
}

/** lseek(2): the new offset, or -errno (ENXIO: no data/hole at or after `offset`). */
export function lseek(fd: number, offset: number, whence: number): number {
  const r = Number(c_lseek(fd, offset, whence));
  return r === -1 ? -errno() : r;
}

/** fchmod(2): 0 or -errno. */
export function fchmod(fd: number, mode: number): number {
  const r = c_fchmod(fd, mode);
  return r < 0 ? -errno() : r;
}

/** fchownat(2) (AT_EMPTY_PATH with an fd and an empty path; AT_SYMLINK_NOFOLLOW for a link): 0 or -errno. */
export function fchownat(dirfd: number, path: Addr, uid: number, gid: number, flags: number): number {
  const r = c_fchownat(dirfd, asPtr(path), uid, gid, flags);
  return r < 0 ? -errno() : r;
}

/** utimensat(2): `times` is the address of two struct timespec (atime, mtime). 0 or -errno. */
export function utimensat(dirfd: number, path: Addr, times: Addr, flags: number): number {
  const r = c_utimensat(dirfd, asPtr(path), asPtr(times), flags);
  return r < 0 ? -errno() : r;
}

/** futimens(2): `times` is the address of two struct timespec (atime, mtime). 0 or -errno. */
export function futimens(fd: number, times: Addr): number {
  const r = c_futimens(fd, asPtr(times));
  return r < 0 ? -errno() : r;
}

/** fchown(2): 0 or -errno. */
export function fchown(fd: number, uid: number, gid: number): number {
  const r = c_fchown(fd, uid, gid);
  return r < 0 ? -errno() : r;
}

/** pipe2(2) with O_CLOEXEC: [read end, write end], or -errno. `fds` is the address of an int[2]. */
export function pipe2(fds: Addr): number {
  const r = c_pipe2(asPtr(fds), 0o2000000);
  return r < 0 ? -errno() : r;
}

/** fcntl(2) with an int argument: the result, or -errno. */
export function fcntl(fd: number, cmd: number, arg: number): number {
  const r = c_fcntl(fd, cmd, arg);
  return r < 0 ? -errno() : r;
}

/** epoll_create1(2) with EPOLL_CLOEXEC: an epoll fd, or -errno. */
export function epollCreate1(): number {
  const r = c_epoll_create1(0o2000000);
  return r < 0 ? -errno() : r;
}

/**
 * statx(2) on `path` (a NUL-terminated string at that address) relative to `dirfd`: 0 or -errno;
 * the kernel fills the 256-byte struct statx at `buf`. Synchronous: for callers that need the
 * answer before they can queue the next step (the tree copy's small-file engine).
 */
export function statxSync(dirfd: number, path: Addr, flags: number, mask: number, buf: Addr): number {
  const r = c_statx(dirfd, asPtr(path), flags, mask, asPtr(buf));
  return r < 0 ? -errno() : r;
}

/** renameat2(2) (RENAME_NOREPLACE = 1, …): 0 or -errno. Both paths are NUL-terminated strings at those addresses. */
export function renameat2Sync(olddirfd: number, oldpath: Addr, newdirfd: number, newpath: Addr, flags: number): number {
  const r = c_renameat2(olddirfd, asPtr(oldpath), newdirfd, asPtr(newpath), flags);
  return r < 0 ? -errno() : r;
}

/**
 * openat(2): an fd, or -errno. Synchronous, like the rest below: for the tree copy's worker
 * threads (lib/copy-worker.ts), where each step is one plain syscall (see there for why not the ring).
 */
export function openatSync(dirfd: number, path: Addr, flags: number, mode: number): number {
  const r = c_openat(dirfd, asPtr(path), flags, mode);
  return r < 0 ? -errno() : r;
}

/** read(2) of up to `count` (< 2 GiB) bytes into `buf`: bytes read, or -errno. */
export function readFd(fd: number, buf: Addr, count: number): number {
  const r = c_read(fd, asPtr(buf), count);
  return r < 0 ? -errno() : r;
}

/** write(2) of `count` (< 2 GiB) bytes from `buf`: bytes written, or -errno. */
export function writeFd(fd: number, buf: Addr, count: number): number {
  const r = c_write(fd, asPtr(buf), count);
  return r < 0 ? -errno() : r;
}

/** unlinkat(2) (AT_REMOVEDIR = 0x200): 0 or -errno. */
export function unlinkatSync(dirfd: number, path: Addr, flags: number): number {
  const r = c_unlinkat(dirfd, asPtr(path), flags);
  return r < 0 ? -errno() : r;
}

/** fsync(2): 0 or -errno. */
export function fsyncFd(fd: number): number {
  const r = c_fsync(fd);
  return r < 0 ? -errno() : r;
}
