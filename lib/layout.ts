/**
 * Byte offsets of the io_uring ABI structs (include/uapi/linux/io_uring.h),
 * and the word (u32) indexes bun-uring uses to reach them through
 * `Uint32Array` views. 64-bit fields are written as two u32 halves, low word
 * first (x86_64 and aarch64 are little-endian).
 *
 * Kernel-free: `test/layout.test.ts` pins every number here.
 */

/** struct io_uring_sqe — 64 bytes (128 with IORING_SETUP_SQE128). */
export const SQE = {
  SIZE: 64,
  opcode: 0, //      __u8
  flags: 1, //       __u8   IOSQE_*
  ioprio: 2, //      __u16
  fd: 4, //          __s32
  off: 8, //         __u64  (also addr2, cmd_op)
  addr: 16, //       __u64  (also splice_off_in, level/optname)
  len: 24, //        __u32
  op_flags: 28, //   __u32  rw_flags, fsync_flags, poll32_events, open_flags, msg_flags, timeout_flags, …
  user_data: 32, //  __u64
  buf_index: 40, //  __u16  (also buf_group)
  personality: 42, // __u16
  file_index: 44, // __u32  (also splice_fd_in, optlen; addr_len is the low __u16)
  addr3: 48, //      __u64  (also optval)
  pad2: 56, //       __u64
} as const;

/** struct io_uring_cqe — 16 bytes (32 with IORING_SETUP_CQE32: big_cqe[2] follows). */
export const CQE = {
  SIZE: 16,
  user_data: 0, // __u64
  res: 8, //       __s32
  flags: 12, //    __u32  IORING_CQE_F_*
  big_cqe: 16, //  __u64[2] with CQE32
} as const;

/** struct io_sqring_offsets — 40 bytes: where the kernel put each SQ field in the ring region. */
export const SQ_OFF = {
  SIZE: 40,
  head: 0,
  tail: 4,
  ring_mask: 8,
  ring_entries: 12,
  flags: 16,
  dropped: 20,
  array: 24,
  resv1: 28,
  user_addr: 32, // __u64, in: SQE memory with IORING_SETUP_NO_MMAP
} as const;

/** struct io_cqring_offsets — 40 bytes. */
export const CQ_OFF = {
  SIZE: 40,
  head: 0,
  tail: 4,
  ring_mask: 8,
  ring_entries: 12,
  overflow: 16,
  cqes: 20,
  flags: 24,
  resv1: 28,
  user_addr: 32, // __u64, in: ring memory with IORING_SETUP_NO_MMAP
} as const;

/** struct io_uring_params — 120 bytes. */
export const PARAMS = {
  SIZE: 120,
  sq_entries: 0,
  cq_entries: 4,
  flags: 8,
  sq_thread_cpu: 12,
  sq_thread_idle: 16,
  features: 20,
  wq_fd: 24,
  resv: 28, // __u32[3]
  sq_off: 40, // struct io_sqring_offsets
  cq_off: 80, // struct io_cqring_offsets
} as const;

/** struct io_uring_probe — 16-byte header, then io_uring_probe_op[] of 8 bytes each. */
export const PROBE = { SIZE: 16, last_op: 0, ops_len: 1, ops: 16, OP_SIZE: 8, op_op: 0, op_flags: 2 } as const;

/** struct iovec — 16 bytes: iov_base (void *), iov_len (size_t). */
export const IOVEC = { SIZE: 16, iov_base: 0, iov_len: 8 } as const;

/** struct __kernel_timespec — 16 bytes: tv_sec (s64), tv_nsec (long long). */
export const TIMESPEC = { SIZE: 16, tv_sec: 0, tv_nsec: 8 } as const;

/** struct io_uring_getevents_arg — 24 bytes: sigmask, sigmask_sz, min_wait_usec, ts. */
export const GETEVENTS_ARG = { SIZE: 24, sigmask: 0, sigmask_sz: 8, min_wait_usec: 12, ts: 16 } as const;

/** struct io_uring_rsrc_register — 32 bytes (IORING_REGISTER_FILES2 / BUFFERS2). */
export const RSRC_REGISTER = { SIZE: 32, nr: 0, flags: 4, resv2: 8, data: 16, tags: 24 } as const;

/** struct io_uring_files_update / io_uring_rsrc_update — 16 bytes: offset, resv, data (u64). */
export const RSRC_UPDATE = { SIZE: 16, offset: 0, resv: 4, data: 8 } as const;

/** struct io_uring_buf_reg — 40 bytes (IORING_REGISTER_PBUF_RING). */
export const BUF_REG = { SIZE: 40, ring_addr: 0, ring_entries: 8, bgid: 12, flags: 14, resv: 16 } as const;

/** struct io_uring_buf — 16 bytes, one provided buffer; the ring's u16 tail overlays bytes 14–15 of entry 0. */
export const BUF = { SIZE: 16, addr: 0, len: 8, bid: 12, resv: 14, RING_TAIL: 14 } as const;

/** struct statx — 256 bytes; the fields bun-uring reads. */
export const STATX = {
  SIZE: 256,
  stx_mask: 0, // __u32
  stx_blksize: 4, // __u32
  stx_attributes: 8, // __u64
  stx_nlink: 16, // __u32
  stx_uid: 20, // __u32
  stx_gid: 24, // __u32
  stx_mode: 28, // __u16
  stx_ino: 32, // __u64
  stx_size: 40, // __u64
  stx_blocks: 48, // __u64
  stx_attributes_mask: 56, // __u64
  stx_atime: 64, // struct statx_timestamp { __s64 tv_sec; __u32 tv_nsec; __s32 __reserved; } — 16 bytes
  stx_btime: 80,
  stx_ctime: 96,
  stx_mtime: 112,
  stx_rdev_major: 128, // __u32
  stx_rdev_minor: 132,
  stx_dev_major: 136,
  stx_dev_minor: 140,
} as const;

/** Word (u32) index of a byte offset. */
export const w = (byteOffset: number) => byteOffset >>> 2;

/** Page size on x86_64 and on the usual aarch64 configurations. */
export const PAGE_SIZE = 4096;

/** Round `n` up to a multiple of the page size. */
export const pageAlign = (n: number) => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;

/** The smallest power of two ≥ n (n ≥ 1), as io_uring_setup() rounds ring sizes. */
export function roundupPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
