/**
 * io_uring ABI constants, plus the few libc/kernel constants the library needs.
 *
 * Names keep their C spelling so they can be grepped against the kernel
 * headers and the man pages. Source of truth for the io_uring part:
 * Linux 6.18 `include/uapi/linux/io_uring.h` (the header as of the v6.18
 * release; constants added in 6.19 and later, such as IORING_OP_NOP128 or
 * IORING_SETUP_SQE_MIXED, are deliberately absent). The other constants are
 * the x86_64 Linux values, which aarch64 shares except where noted.
 *
 * All values are plain numbers. Flags at bit 31 are written as `0x80000000`
 * (not `1 << 31`, which is negative in JavaScript) so they stay positive; use
 * `>>> 0` after combining them with `|`/`&` to get an unsigned result back.
 * "Linux ≥ X.Y" notes give the release that introduced a constant, where known.
 *
 * @module
 */

// ---------------------------------------------------------------------------
// Syscall numbers
// ---------------------------------------------------------------------------

/** io_uring_setup(2). Same number on x86_64 and aarch64 (the unified syscall table). Linux ≥ 5.1. */
export const __NR_io_uring_setup = 425;
/** io_uring_enter(2). Same number on x86_64 and aarch64 (the unified syscall table). Linux ≥ 5.1. */
export const __NR_io_uring_enter = 426;
/** io_uring_register(2). Same number on x86_64 and aarch64 (the unified syscall table). Linux ≥ 5.1. */
export const __NR_io_uring_register = 427;

// ---------------------------------------------------------------------------
// sqe->attr_type_mask, sqe->file_index
// ---------------------------------------------------------------------------

/** sqe->attr_type_mask flag: PI attribute information (struct io_uring_attr_pi). Linux ≥ 6.15. */
export const IORING_RW_ATTR_FLAG_PI = 1 << 0;

/**
 * If sqe->file_index is set to this for opcodes that instantiate a new direct
 * descriptor (like openat/openat2/accept), io_uring allocates an available
 * direct descriptor; it is returned in cqe->res, or -ENFILE if the space is full.
 * (`~0U` in C.)
 */
export const IORING_FILE_INDEX_ALLOC = 0xffffffff;

// ---------------------------------------------------------------------------
// sqe->flags (enum io_uring_sqe_flags_bit, IOSQE_*)
// ---------------------------------------------------------------------------

/** Bit number of IOSQE_FIXED_FILE. */
export const IOSQE_FIXED_FILE_BIT = 0;
/** Bit number of IOSQE_IO_DRAIN. */
export const IOSQE_IO_DRAIN_BIT = 1;
/** Bit number of IOSQE_IO_LINK. */
export const IOSQE_IO_LINK_BIT = 2;
/** Bit number of IOSQE_IO_HARDLINK. */
export const IOSQE_IO_HARDLINK_BIT = 3;
/** Bit number of IOSQE_ASYNC. */
export const IOSQE_ASYNC_BIT = 4;
/** Bit number of IOSQE_BUFFER_SELECT. */
export const IOSQE_BUFFER_SELECT_BIT = 5;
/** Bit number of IOSQE_CQE_SKIP_SUCCESS. */
export const IOSQE_CQE_SKIP_SUCCESS_BIT = 6;

/** Use fixed fileset (sqe->fd is an index into the registered files). Linux ≥ 5.1. */
export const IOSQE_FIXED_FILE = 1 << IOSQE_FIXED_FILE_BIT;
/** Issue after inflight IO. Linux ≥ 5.2. */
export const IOSQE_IO_DRAIN = 1 << IOSQE_IO_DRAIN_BIT;
/** Links next sqe. Linux ≥ 5.3. */
export const IOSQE_IO_LINK = 1 << IOSQE_IO_LINK_BIT;
/** Like LINK, but stronger (the chain is not broken by a failure). Linux ≥ 5.5. */
export const IOSQE_IO_HARDLINK = 1 << IOSQE_IO_HARDLINK_BIT;
/** Always go async. Linux ≥ 5.6. */
export const IOSQE_ASYNC = 1 << IOSQE_ASYNC_BIT;
/** Select buffer from sqe->buf_group. Linux ≥ 5.7. */
export const IOSQE_BUFFER_SELECT = 1 << IOSQE_BUFFER_SELECT_BIT;
/** Don't post CQE if request succeeded. Linux ≥ 5.17. */
export const IOSQE_CQE_SKIP_SUCCESS = 1 << IOSQE_CQE_SKIP_SUCCESS_BIT;

// ---------------------------------------------------------------------------
// io_uring_setup() flags (io_uring_params.flags)
// ---------------------------------------------------------------------------

/** io_context is polled. Linux ≥ 5.1. */
export const IORING_SETUP_IOPOLL = 1 << 0;
/** SQ poll thread. Linux ≥ 5.1. */
export const IORING_SETUP_SQPOLL = 1 << 1;
/** sq_thread_cpu is valid. Linux ≥ 5.1. */
export const IORING_SETUP_SQ_AFF = 1 << 2;
/** App defines CQ size. Linux ≥ 5.5. */
export const IORING_SETUP_CQSIZE = 1 << 3;
/** Clamp SQ/CQ ring sizes. Linux ≥ 5.6. */
export const IORING_SETUP_CLAMP = 1 << 4;
/** Attach to existing wq. Linux ≥ 5.6. */
export const IORING_SETUP_ATTACH_WQ = 1 << 5;
/** Start with ring disabled. Linux ≥ 5.10. */
export const IORING_SETUP_R_DISABLED = 1 << 6;
/** Continue submit on error. Linux ≥ 5.18. */
export const IORING_SETUP_SUBMIT_ALL = 1 << 7;
/** Cooperative task running: do completion work when the task transitions anyway, instead of an IPI. Linux ≥ 5.19. */
export const IORING_SETUP_COOP_TASKRUN = 1 << 8;
/** With COOP_TASKRUN, set IORING_SQ_TASKRUN in the sq ring flags when task work needs a kernel transition. Linux ≥ 5.19. */
export const IORING_SETUP_TASKRUN_FLAG = 1 << 9;
/** SQEs are 128 byte. Linux ≥ 5.19. */
export const IORING_SETUP_SQE128 = 1 << 10;
/** CQEs are 32 byte. Linux ≥ 5.19. */
export const IORING_SETUP_CQE32 = 1 << 11;
/** Only one task is allowed to submit requests. Linux ≥ 6.0. */
export const IORING_SETUP_SINGLE_ISSUER = 1 << 12;
/** Defer running task work to get events, just before it is needed. Linux ≥ 6.1. */
export const IORING_SETUP_DEFER_TASKRUN = 1 << 13;
/** Application provides the memory for the rings. Linux ≥ 6.5. */
export const IORING_SETUP_NO_MMAP = 1 << 14;
/** Register the ring fd in itself for use with IORING_REGISTER_USE_REGISTERED_RING; return a registered fd index rather than an fd. Linux ≥ 6.5. */
export const IORING_SETUP_REGISTERED_FD_ONLY = 1 << 15;
/** Removes indirection through the SQ index array. Linux ≥ 6.6. */
export const IORING_SETUP_NO_SQARRAY = 1 << 16;
/** Use hybrid poll in iopoll process. Linux ≥ 6.13. */
export const IORING_SETUP_HYBRID_IOPOLL = 1 << 17;
/** Allow both 16b and 32b CQEs; a 32b CQE has IORING_CQE_F_32 set in cqe->flags. Linux ≥ 6.18. */
export const IORING_SETUP_CQE_MIXED = 1 << 18;

// ---------------------------------------------------------------------------
// Opcodes (enum io_uring_op)
// ---------------------------------------------------------------------------

/** No-op. Linux ≥ 5.1. */
export const IORING_OP_NOP = 0;
/** preadv2(2). Linux ≥ 5.1. */
export const IORING_OP_READV = 1;
/** pwritev2(2). Linux ≥ 5.1. */
export const IORING_OP_WRITEV = 2;
/** fsync(2) / fdatasync(2). Linux ≥ 5.1. */
export const IORING_OP_FSYNC = 3;
/** Read into a registered buffer. Linux ≥ 5.1. */
export const IORING_OP_READ_FIXED = 4;
/** Write from a registered buffer. Linux ≥ 5.1. */
export const IORING_OP_WRITE_FIXED = 5;
/** Poll an fd for events. Linux ≥ 5.1. */
export const IORING_OP_POLL_ADD = 6;
/** Remove/update a poll request. Linux ≥ 5.1. */
export const IORING_OP_POLL_REMOVE = 7;
/** sync_file_range(2). Linux ≥ 5.2. */
export const IORING_OP_SYNC_FILE_RANGE = 8;
/** sendmsg(2). Linux ≥ 5.3. */
export const IORING_OP_SENDMSG = 9;
/** recvmsg(2). Linux ≥ 5.3. */
export const IORING_OP_RECVMSG = 10;
/** Timeout. Linux ≥ 5.4. */
export const IORING_OP_TIMEOUT = 11;
/** Remove/update a timeout. Linux ≥ 5.5. */
export const IORING_OP_TIMEOUT_REMOVE = 12;
/** accept4(2). Linux ≥ 5.5. */
export const IORING_OP_ACCEPT = 13;
/** Cancel an in-flight request. Linux ≥ 5.5. */
export const IORING_OP_ASYNC_CANCEL = 14;
/** Timeout for the previous linked request. Linux ≥ 5.5. */
export const IORING_OP_LINK_TIMEOUT = 15;
/** connect(2). Linux ≥ 5.5. */
export const IORING_OP_CONNECT = 16;
/** fallocate(2). Linux ≥ 5.6. */
export const IORING_OP_FALLOCATE = 17;
/** openat(2). Linux ≥ 5.6. */
export const IORING_OP_OPENAT = 18;
/** close(2). Linux ≥ 5.6. */
export const IORING_OP_CLOSE = 19;
/** Update registered files. Linux ≥ 5.6. */
export const IORING_OP_FILES_UPDATE = 20;
/** statx(2). Linux ≥ 5.6. */
export const IORING_OP_STATX = 21;
/** pread(2)-like read. Linux ≥ 5.6. */
export const IORING_OP_READ = 22;
/** pwrite(2)-like write. Linux ≥ 5.6. */
export const IORING_OP_WRITE = 23;
/** posix_fadvise(2). Linux ≥ 5.6. */
export const IORING_OP_FADVISE = 24;
/** madvise(2). Linux ≥ 5.6. */
export const IORING_OP_MADVISE = 25;
/** send(2). Linux ≥ 5.6. */
export const IORING_OP_SEND = 26;
/** recv(2). Linux ≥ 5.6. */
export const IORING_OP_RECV = 27;
/** openat2(2). Linux ≥ 5.6. */
export const IORING_OP_OPENAT2 = 28;
/** epoll_ctl(2). Linux ≥ 5.6. */
export const IORING_OP_EPOLL_CTL = 29;
/** splice(2). Linux ≥ 5.7. */
export const IORING_OP_SPLICE = 30;
/** Provide buffers for buffer selection. Linux ≥ 5.7. */
export const IORING_OP_PROVIDE_BUFFERS = 31;
/** Remove provided buffers. Linux ≥ 5.7. */
export const IORING_OP_REMOVE_BUFFERS = 32;
/** tee(2). Linux ≥ 5.8. */
export const IORING_OP_TEE = 33;
/** shutdown(2). Linux ≥ 5.11. */
export const IORING_OP_SHUTDOWN = 34;
/** renameat2(2). Linux ≥ 5.11. */
export const IORING_OP_RENAMEAT = 35;
/** unlinkat(2). Linux ≥ 5.11. */
export const IORING_OP_UNLINKAT = 36;
/** mkdirat(2). Linux ≥ 5.15. */
export const IORING_OP_MKDIRAT = 37;
/** symlinkat(2). Linux ≥ 5.15. */
export const IORING_OP_SYMLINKAT = 38;
/** linkat(2). Linux ≥ 5.15. */
export const IORING_OP_LINKAT = 39;
/** Post a CQE to (or pass a file to) another ring. Linux ≥ 5.18. */
export const IORING_OP_MSG_RING = 40;
/** fsetxattr(2). Linux ≥ 5.19. */
export const IORING_OP_FSETXATTR = 41;
/** setxattr(2). Linux ≥ 5.19. */
export const IORING_OP_SETXATTR = 42;
/** fgetxattr(2). Linux ≥ 5.19. */
export const IORING_OP_FGETXATTR = 43;
/** getxattr(2). Linux ≥ 5.19. */
export const IORING_OP_GETXATTR = 44;
/** socket(2). Linux ≥ 5.19. */
export const IORING_OP_SOCKET = 45;
/** Driver/file-specific passthrough command. Linux ≥ 5.19. */
export const IORING_OP_URING_CMD = 46;
/** Zero-copy send. Linux ≥ 6.0. */
export const IORING_OP_SEND_ZC = 47;
/** Zero-copy sendmsg. Linux ≥ 6.1. */
export const IORING_OP_SENDMSG_ZC = 48;
/** Multishot read with provided buffers. Linux ≥ 6.7. */
export const IORING_OP_READ_MULTISHOT = 49;
/** waitid(2). Linux ≥ 6.7. */
export const IORING_OP_WAITID = 50;
/** futex wait. Linux ≥ 6.7. */
export const IORING_OP_FUTEX_WAIT = 51;
/** futex wake. Linux ≥ 6.7. */
export const IORING_OP_FUTEX_WAKE = 52;
/** futex_waitv(2). Linux ≥ 6.7. */
export const IORING_OP_FUTEX_WAITV = 53;
/** Install a direct descriptor into the normal file table. Linux ≥ 6.8. */
export const IORING_OP_FIXED_FD_INSTALL = 54;
/** ftruncate(2). Linux ≥ 6.9. */
export const IORING_OP_FTRUNCATE = 55;
/** bind(2). Linux ≥ 6.11. */
export const IORING_OP_BIND = 56;
/** listen(2). Linux ≥ 6.11. */
export const IORING_OP_LISTEN = 57;
/** Zero-copy receive. Linux ≥ 6.15. */
export const IORING_OP_RECV_ZC = 58;
/** epoll_wait(2). Linux ≥ 6.15. */
export const IORING_OP_EPOLL_WAIT = 59;
/** Vectored read with registered buffers. Linux ≥ 6.15. */
export const IORING_OP_READV_FIXED = 60;
/** Vectored write with registered buffers. Linux ≥ 6.15. */
export const IORING_OP_WRITEV_FIXED = 61;
/** pipe2(2). Linux ≥ 6.16. */
export const IORING_OP_PIPE = 62;
/** This goes last, obviously: one past the highest opcode (Linux 6.18). */
export const IORING_OP_LAST = 63;

// ---------------------------------------------------------------------------
// sqe->uring_cmd_flags (top 8 bits aren't available for userspace)
// ---------------------------------------------------------------------------

/** Use registered buffer; pass this flag along with setting sqe->buf_index. */
export const IORING_URING_CMD_FIXED = 1 << 0;
/** Must be used with buffer select, like other multishot commands; not compatible with IORING_URING_CMD_FIXED, for now. Linux ≥ 6.18. */
export const IORING_URING_CMD_MULTISHOT = 1 << 1;
/** All valid sqe->uring_cmd_flags. */
export const IORING_URING_CMD_MASK = IORING_URING_CMD_FIXED | IORING_URING_CMD_MULTISHOT;

// ---------------------------------------------------------------------------
// sqe->fsync_flags
// ---------------------------------------------------------------------------

/** fdatasync(2) semantics instead of fsync(2). */
export const IORING_FSYNC_DATASYNC = 1 << 0;

// ---------------------------------------------------------------------------
// sqe->timeout_flags
// ---------------------------------------------------------------------------

/** The timespec is absolute, not relative. */
export const IORING_TIMEOUT_ABS = 1 << 0;
/** TIMEOUT_REMOVE: update an existing timeout instead of removing it. */
export const IORING_TIMEOUT_UPDATE = 1 << 1;
/** Use CLOCK_BOOTTIME. */
export const IORING_TIMEOUT_BOOTTIME = 1 << 2;
/** Use CLOCK_REALTIME. */
export const IORING_TIMEOUT_REALTIME = 1 << 3;
/** TIMEOUT_REMOVE: update an existing linked timeout. */
export const IORING_LINK_TIMEOUT_UPDATE = 1 << 4;
/** Complete an expired timeout with success (0) instead of -ETIME. */
export const IORING_TIMEOUT_ETIME_SUCCESS = 1 << 5;
/** Multishot timeout. */
export const IORING_TIMEOUT_MULTISHOT = 1 << 6;
/** Clock selection bits of sqe->timeout_flags. */
export const IORING_TIMEOUT_CLOCK_MASK = IORING_TIMEOUT_BOOTTIME | IORING_TIMEOUT_REALTIME;
/** Update selection bits of sqe->timeout_flags. */
export const IORING_TIMEOUT_UPDATE_MASK = IORING_TIMEOUT_UPDATE | IORING_LINK_TIMEOUT_UPDATE;

// ---------------------------------------------------------------------------
// sqe->splice_flags (extends splice(2) flags)
// ---------------------------------------------------------------------------

/** The last bit of __u32: splice_fd_in is a registered (fixed) file. (`1U << 31` in C.) */
export const SPLICE_F_FD_IN_FIXED = 0x80000000;

// ---------------------------------------------------------------------------
// POLL_ADD command flags (stored in sqe->len; sqe->poll_events holds the events)
// ---------------------------------------------------------------------------

/** Multishot poll. Sets IORING_CQE_F_MORE if the poll handler will continue to report CQEs on behalf of the same SQE. */
export const IORING_POLL_ADD_MULTI = 1 << 0;
/** Update existing poll request events, matching sqe->addr as the old user_data field. */
export const IORING_POLL_UPDATE_EVENTS = 1 << 1;
/** Update existing poll request user_data, matching sqe->addr as the old user_data field. */
export const IORING_POLL_UPDATE_USER_DATA = 1 << 2;
/** Level triggered poll. */
export const IORING_POLL_ADD_LEVEL = 1 << 3;

// ---------------------------------------------------------------------------
// ASYNC_CANCEL flags (sqe->cancel_flags)
// ---------------------------------------------------------------------------

/** Cancel all requests that match the given key. */
export const IORING_ASYNC_CANCEL_ALL = 1 << 0;
/** Key off 'fd' for cancelation rather than the request 'user_data'. */
export const IORING_ASYNC_CANCEL_FD = 1 << 1;
/** Match any request. */
export const IORING_ASYNC_CANCEL_ANY = 1 << 2;
/** 'fd' passed in is a fixed descriptor. */
export const IORING_ASYNC_CANCEL_FD_FIXED = 1 << 3;
/** Match on user_data, default for no other key. */
export const IORING_ASYNC_CANCEL_USERDATA = 1 << 4;
/** Match request based on opcode. */
export const IORING_ASYNC_CANCEL_OP = 1 << 5;

// ---------------------------------------------------------------------------
// send/sendmsg and recv/recvmsg flags (sqe->ioprio)
// ---------------------------------------------------------------------------

/** Arm poll upfront and skip the initial transfer attempt, instead of trying first and arming poll on -EAGAIN. */
export const IORING_RECVSEND_POLL_FIRST = 1 << 0;
/** Multishot recv. Sets IORING_CQE_F_MORE if the handler will continue to report CQEs on behalf of the same SQE. */
export const IORING_RECV_MULTISHOT = 1 << 1;
/** Use registered buffers, the index is stored in the buf_index field. */
export const IORING_RECVSEND_FIXED_BUF = 1 << 2;
/** SEND[MSG]_ZC reports the zerocopy usage in cqe.res of the IORING_CQE_F_NOTIF cqe. */
export const IORING_SEND_ZC_REPORT_USAGE = 1 << 3;
/** With IOSQE_BUFFER_SELECT: send or recv as many buffers from the group as possible in one go. Linux ≥ 6.10. */
export const IORING_RECVSEND_BUNDLE = 1 << 4;
/** SEND[_ZC] takes a pointer to an iovec array, for vectorized sends. */
export const IORING_SEND_VECTORIZED = 1 << 5;

/**
 * cqe.res for IORING_CQE_F_NOTIF if IORING_SEND_ZC_REPORT_USAGE was requested:
 * data was copied (at least partially). Treat it as a flag; all other bits of
 * cqe.res are reserved. (`1U << 31` in C; compare with `(res >>> 0) & ...`.)
 */
export const IORING_NOTIF_USAGE_ZC_COPIED = 0x80000000;

// ---------------------------------------------------------------------------
// accept flags (sqe->ioprio)
// ---------------------------------------------------------------------------

/** Multishot accept. */
export const IORING_ACCEPT_MULTISHOT = 1 << 0;
/** Don't wait: fail with -EAGAIN instead of arming poll. */
export const IORING_ACCEPT_DONTWAIT = 1 << 1;
/** Arm poll before the first accept attempt. */
export const IORING_ACCEPT_POLL_FIRST = 1 << 2;

// ---------------------------------------------------------------------------
// IORING_OP_MSG_RING command types (sqe->addr) and flags (sqe->msg_ring_flags)
// ---------------------------------------------------------------------------

/** Pass sqe->len as 'res' and off as user_data. */
export const IORING_MSG_DATA = 0;
/** Send a registered fd to another ring. */
export const IORING_MSG_SEND_FD = 1;

/** Don't post a CQE to the target ring. Not applicable for IORING_MSG_DATA, obviously. */
export const IORING_MSG_RING_CQE_SKIP = 1 << 0;
/** Pass through the flags from sqe->file_index to cqe->flags. */
export const IORING_MSG_RING_FLAGS_PASS = 1 << 1;

// ---------------------------------------------------------------------------
// IORING_OP_FIXED_FD_INSTALL flags (sqe->install_fd_flags)
// ---------------------------------------------------------------------------

/** Don't mark the fd as O_CLOEXEC. */
export const IORING_FIXED_FD_NO_CLOEXEC = 1 << 0;

// ---------------------------------------------------------------------------
// IORING_OP_NOP flags (sqe->nop_flags)
// ---------------------------------------------------------------------------

/** Inject result from sqe->result. */
export const IORING_NOP_INJECT_RESULT = 1 << 0;
/** Look up sqe->fd as a file. */
export const IORING_NOP_FILE = 1 << 1;
/** The file is a registered (fixed) file. */
export const IORING_NOP_FIXED_FILE = 1 << 2;
/** Import the registered buffer at sqe->buf_index. */
export const IORING_NOP_FIXED_BUFFER = 1 << 3;
/** Complete via task work. */
export const IORING_NOP_TW = 1 << 4;
/** Post a 32b CQE (on an IORING_SETUP_CQE_MIXED ring). Linux ≥ 6.18. */
export const IORING_NOP_CQE32 = 1 << 5;

// ---------------------------------------------------------------------------
// cqe->flags
// ---------------------------------------------------------------------------

/** If set, the upper 16 bits are the buffer ID. Linux ≥ 5.7. */
export const IORING_CQE_F_BUFFER = 1 << 0;
/** If set, parent SQE will generate more CQE entries. Linux ≥ 5.13. */
export const IORING_CQE_F_MORE = 1 << 1;
/** If set, more data to read after socket recv. Linux ≥ 5.19. */
export const IORING_CQE_F_SOCK_NONEMPTY = 1 << 2;
/** Set for notification CQEs. Can be used to distinct them from sends. Linux ≥ 6.0. */
export const IORING_CQE_F_NOTIF = 1 << 3;
/** If set, the buffer ID set in the completion will get more completions (incremental consumption, IOU_PBUF_RING_INC). Linux ≥ 6.12. */
export const IORING_CQE_F_BUF_MORE = 1 << 4;
/** If set, the application/liburing must ignore this CQE; it only fills a gap before the ring wraps. Linux ≥ 6.18. */
export const IORING_CQE_F_SKIP = 1 << 5;
/** If set, this is a 32b/big-cqe posting (rings set up with IORING_SETUP_CQE_MIXED). Linux ≥ 6.18. */
export const IORING_CQE_F_32 = 1 << 15;

/** Shift of the buffer ID in cqe->flags when IORING_CQE_F_BUFFER is set. */
export const IORING_CQE_BUFFER_SHIFT = 16;

// ---------------------------------------------------------------------------
// Magic offsets for the application to mmap the data it needs.
// 64-bit values in C (ULL); they all fit exactly in a number. Combine them with
// `+`, not `|` (which would truncate to a signed 32-bit value).
// ---------------------------------------------------------------------------

/** mmap offset of the SQ ring. */
export const IORING_OFF_SQ_RING = 0;
/** mmap offset of the CQ ring. */
export const IORING_OFF_CQ_RING = 0x8000000;
/** mmap offset of the SQE array. */
export const IORING_OFF_SQES = 0x10000000;
/** mmap offset of a kernel-allocated provided-buffer ring: IORING_OFF_PBUF_RING | (bgid << IORING_OFF_PBUF_SHIFT). Linux ≥ 6.4. */
export const IORING_OFF_PBUF_RING = 0x80000000;
/** Shift of the buffer group ID in an IORING_OFF_PBUF_RING offset. Linux ≥ 6.4. */
export const IORING_OFF_PBUF_SHIFT = 16;
/** Mask selecting the mapping type of an mmap offset. Linux ≥ 6.4. */
export const IORING_OFF_MMAP_MASK = 0xf8000000;

// ---------------------------------------------------------------------------
// sq_ring->flags, cq_ring->flags
// ---------------------------------------------------------------------------

/** Needs io_uring_enter wakeup. */
export const IORING_SQ_NEED_WAKEUP = 1 << 0;
/** CQ ring is overflown. */
export const IORING_SQ_CQ_OVERFLOW = 1 << 1;
/** Task should enter the kernel. Linux ≥ 5.19. */
export const IORING_SQ_TASKRUN = 1 << 2;

/** Disable eventfd notifications. Linux ≥ 5.8. */
export const IORING_CQ_EVENTFD_DISABLED = 1 << 0;

// ---------------------------------------------------------------------------
// io_uring_enter(2) flags
// ---------------------------------------------------------------------------

/** Wait for min_complete events. Linux ≥ 5.1. */
export const IORING_ENTER_GETEVENTS = 1 << 0;
/** Wake up the SQPOLL thread. Linux ≥ 5.1. */
export const IORING_ENTER_SQ_WAKEUP = 1 << 1;
/** Wait for SQ ring space (SQPOLL). Linux ≥ 5.10. */
export const IORING_ENTER_SQ_WAIT = 1 << 2;
/** argp is a struct io_uring_getevents_arg. Linux ≥ 5.11. */
export const IORING_ENTER_EXT_ARG = 1 << 3;
/** fd is a registered ring index. Linux ≥ 5.18. */
export const IORING_ENTER_REGISTERED_RING = 1 << 4;
/** The wait timeout is absolute. Linux ≥ 6.12. */
export const IORING_ENTER_ABS_TIMER = 1 << 5;
/** argp is an index into a registered wait region (struct io_uring_reg_wait). Linux ≥ 6.13. */
export const IORING_ENTER_EXT_ARG_REG = 1 << 6;
/** Don't account the wait as iowait. Linux ≥ 6.15. */
export const IORING_ENTER_NO_IOWAIT = 1 << 7;

// ---------------------------------------------------------------------------
// io_uring_params->features flags
// ---------------------------------------------------------------------------

/** SQ and CQ rings can be mapped with a single mmap. Linux ≥ 5.4. */
export const IORING_FEAT_SINGLE_MMAP = 1 << 0;
/** CQEs are never dropped on overflow. Linux ≥ 5.5. */
export const IORING_FEAT_NODROP = 1 << 1;
/** Data for submitted requests is stable once submitted. Linux ≥ 5.5. */
export const IORING_FEAT_SUBMIT_STABLE = 1 << 2;
/** offset -1 means the current file position. Linux ≥ 5.6. */
export const IORING_FEAT_RW_CUR_POS = 1 << 3;
/** Requests use the submitter's credentials. Linux ≥ 5.6. */
export const IORING_FEAT_CUR_PERSONALITY = 1 << 4;
/** Internal poll-based retry instead of blocking workers. Linux ≥ 5.7. */
export const IORING_FEAT_FAST_POLL = 1 << 5;
/** poll32_events is supported. Linux ≥ 5.9. */
export const IORING_FEAT_POLL_32BITS = 1 << 6;
/** SQPOLL works without registered files. Linux ≥ 5.11. */
export const IORING_FEAT_SQPOLL_NONFIXED = 1 << 7;
/** IORING_ENTER_EXT_ARG is supported. Linux ≥ 5.11. */
export const IORING_FEAT_EXT_ARG = 1 << 8;
/** io-wq workers are native threads. Linux ≥ 5.12. */
export const IORING_FEAT_NATIVE_WORKERS = 1 << 9;
/** Resource tagging is supported. Linux ≥ 5.13. */
export const IORING_FEAT_RSRC_TAGS = 1 << 10;
/** IOSQE_CQE_SKIP_SUCCESS is supported. Linux ≥ 5.17. */
export const IORING_FEAT_CQE_SKIP = 1 << 11;
/** Linked requests' files are assigned at execution time. Linux ≥ 5.17. */
export const IORING_FEAT_LINKED_FILE = 1 << 12;
/** io_uring_register(2) accepts a registered ring fd. Linux ≥ 6.3. */
export const IORING_FEAT_REG_REG_RING = 1 << 13;
/** IORING_RECVSEND_BUNDLE is supported. Linux ≥ 6.10. */
export const IORING_FEAT_RECVSEND_BUNDLE = 1 << 14;
/** Minimum batch wait timeout is supported. Linux ≥ 6.12. */
export const IORING_FEAT_MIN_TIMEOUT = 1 << 15;
/** Read/write attributes (sqe->attr_ptr) are supported. Linux ≥ 6.15. */
export const IORING_FEAT_RW_ATTR = 1 << 16;
/** IORING_ENTER_NO_IOWAIT is supported. Linux ≥ 6.15. */
export const IORING_FEAT_NO_IOWAIT = 1 << 17;

// ---------------------------------------------------------------------------
// io_uring_register(2) opcodes and arguments (enum io_uring_register_op)
// ---------------------------------------------------------------------------

/** Register fixed buffers. Linux ≥ 5.1. */
export const IORING_REGISTER_BUFFERS = 0;
/** Unregister fixed buffers. Linux ≥ 5.1. */
export const IORING_UNREGISTER_BUFFERS = 1;
/** Register fixed files. Linux ≥ 5.1. */
export const IORING_REGISTER_FILES = 2;
/** Unregister fixed files. Linux ≥ 5.1. */
export const IORING_UNREGISTER_FILES = 3;
/** Register an eventfd for completion notifications. Linux ≥ 5.2. */
export const IORING_REGISTER_EVENTFD = 4;
/** Unregister the eventfd. Linux ≥ 5.2. */
export const IORING_UNREGISTER_EVENTFD = 5;
/** Update registered files. Linux ≥ 5.5. */
export const IORING_REGISTER_FILES_UPDATE = 6;
/** Register an eventfd notified only for async completions. Linux ≥ 5.6. */
export const IORING_REGISTER_EVENTFD_ASYNC = 7;
/** Probe supported opcodes (struct io_uring_probe). Linux ≥ 5.6. */
export const IORING_REGISTER_PROBE = 8;
/** Register the current credentials as a personality. Linux ≥ 5.6. */
export const IORING_REGISTER_PERSONALITY = 9;
/** Unregister a personality. Linux ≥ 5.6. */
export const IORING_UNREGISTER_PERSONALITY = 10;
/** Register restrictions (ring created with IORING_SETUP_R_DISABLED). Linux ≥ 5.10. */
export const IORING_REGISTER_RESTRICTIONS = 11;
/** Enable a ring created with IORING_SETUP_R_DISABLED. Linux ≥ 5.10. */
export const IORING_REGISTER_ENABLE_RINGS = 12;
/** Register files, extended with tagging. Linux ≥ 5.13. */
export const IORING_REGISTER_FILES2 = 13;
/** Update files, extended with tagging. Linux ≥ 5.13. */
export const IORING_REGISTER_FILES_UPDATE2 = 14;
/** Register buffers, extended with tagging. Linux ≥ 5.13. */
export const IORING_REGISTER_BUFFERS2 = 15;
/** Update buffers, extended with tagging. Linux ≥ 5.13. */
export const IORING_REGISTER_BUFFERS_UPDATE = 16;
/** Set io-wq thread affinities. Linux ≥ 5.14. */
export const IORING_REGISTER_IOWQ_AFF = 17;
/** Clear io-wq thread affinities. Linux ≥ 5.14. */
export const IORING_UNREGISTER_IOWQ_AFF = 18;
/** Set/get max number of io-wq workers. Linux ≥ 5.15. */
export const IORING_REGISTER_IOWQ_MAX_WORKERS = 19;
/** Register io_uring fds with the ring. Linux ≥ 5.18. */
export const IORING_REGISTER_RING_FDS = 20;
/** Unregister io_uring fds from the ring. Linux ≥ 5.18. */
export const IORING_UNREGISTER_RING_FDS = 21;
/** Register ring based provide buffer group. Linux ≥ 5.19. */
export const IORING_REGISTER_PBUF_RING = 22;
/** Unregister ring based provide buffer group. Linux ≥ 5.19. */
export const IORING_UNREGISTER_PBUF_RING = 23;
/** Sync cancelation API. Linux ≥ 6.0. */
export const IORING_REGISTER_SYNC_CANCEL = 24;
/** Register a range of fixed file slots for automatic slot allocation. Linux ≥ 6.0. */
export const IORING_REGISTER_FILE_ALLOC_RANGE = 25;
/** Return status information for a buffer group. Linux ≥ 6.8. */
export const IORING_REGISTER_PBUF_STATUS = 26;
/** Set busy poll settings. Linux ≥ 6.9. */
export const IORING_REGISTER_NAPI = 27;
/** Clear busy poll settings. Linux ≥ 6.9. */
export const IORING_UNREGISTER_NAPI = 28;
/** Set the clock used for waits (struct io_uring_clock_register). Linux ≥ 6.12. */
export const IORING_REGISTER_CLOCK = 29;
/** Clone registered buffers from source ring to current ring. Linux ≥ 6.12. */
export const IORING_REGISTER_CLONE_BUFFERS = 30;
/** Send MSG_RING without having a ring. Linux ≥ 6.13. */
export const IORING_REGISTER_SEND_MSG_RING = 31;
/** Register a netdev hw rx queue for zerocopy. Linux ≥ 6.15. */
export const IORING_REGISTER_ZCRX_IFQ = 32;
/** Resize CQ ring. Linux ≥ 6.13. */
export const IORING_REGISTER_RESIZE_RINGS = 33;
/** Register a memory region (struct io_uring_mem_region_reg). Linux ≥ 6.13. */
export const IORING_REGISTER_MEM_REGION = 34;
/** Query various aspects of io_uring, see linux/io_uring/query.h. Linux ≥ 6.18. */
export const IORING_REGISTER_QUERY = 35;
/** This goes last: one past the highest register opcode (Linux 6.18). */
export const IORING_REGISTER_LAST = 36;
/** Flag added to the opcode to use a registered ring fd. Linux ≥ 6.3. (`1U << 31` in C.) */
export const IORING_REGISTER_USE_REGISTERED_RING = 0x80000000;

// ---------------------------------------------------------------------------
// io-wq worker categories (enum io_wq_type)
// ---------------------------------------------------------------------------

/** Bounded io-wq workers (index 0 in IORING_REGISTER_IOWQ_MAX_WORKERS). */
export const IO_WQ_BOUND = 0;
/** Unbounded io-wq workers (index 1 in IORING_REGISTER_IOWQ_MAX_WORKERS). */
export const IO_WQ_UNBOUND = 1;

// ---------------------------------------------------------------------------
// Memory regions (IORING_REGISTER_MEM_REGION)
// ---------------------------------------------------------------------------

/** io_uring_region_desc.flags: initialise with user provided memory pointed by user_addr. */
export const IORING_MEM_REGION_TYPE_USER = 1;
/** io_uring_mem_region_reg.flags: expose the region as registered wait arguments. */
export const IORING_MEM_REGION_REG_WAIT_ARG = 1;

// ---------------------------------------------------------------------------
// Resources, probe
// ---------------------------------------------------------------------------

/** Register a fully sparse file space, rather than pass in an array of all -1 file descriptors. */
export const IORING_RSRC_REGISTER_SPARSE = 1 << 0;
/** Skip updating fd indexes set to this value in the fd table. */
export const IORING_REGISTER_FILES_SKIP = -2;
/** io_uring_probe_op.flags: the opcode is supported. */
export const IO_URING_OP_SUPPORTED = 1 << 0;

/** io_uring_clone_buffers.flags: src_fd is a registered ring index. */
export const IORING_REGISTER_SRC_REGISTERED = 1 << 0;
/** io_uring_clone_buffers.flags: replace existing buffers in the destination. */
export const IORING_REGISTER_DST_REPLACE = 1 << 1;

// ---------------------------------------------------------------------------
// Flags for IORING_REGISTER_PBUF_RING (enum io_uring_register_pbuf_ring_flags)
// ---------------------------------------------------------------------------

/** Kernel allocates the ring memory; mmap it at IORING_OFF_PBUF_RING | (bgid << IORING_OFF_PBUF_SHIFT). Linux ≥ 6.4. */
export const IOU_PBUF_RING_MMAP = 1;
/** Buffers consumed from this ring can be consumed incrementally. Linux ≥ 6.12. */
export const IOU_PBUF_RING_INC = 2;

// ---------------------------------------------------------------------------
// NAPI (IORING_(UN)REGISTER_NAPI)
// ---------------------------------------------------------------------------

/** enum io_uring_napi_op: register/unregister backward compatible opcode. */
export const IO_URING_NAPI_REGISTER_OP = 0;
/** enum io_uring_napi_op: add a napi id when static tracking is used. */
export const IO_URING_NAPI_STATIC_ADD_ID = 1;
/** enum io_uring_napi_op: delete a napi id when static tracking is used. */
export const IO_URING_NAPI_STATIC_DEL_ID = 2;

/** enum io_uring_napi_tracking_strategy: dynamic tracking (value must be 0 for backward compatibility). */
export const IO_URING_NAPI_TRACKING_DYNAMIC = 0;
/** enum io_uring_napi_tracking_strategy: static tracking. */
export const IO_URING_NAPI_TRACKING_STATIC = 1;
/** enum io_uring_napi_tracking_strategy: tracking inactive. */
export const IO_URING_NAPI_TRACKING_INACTIVE = 255;

// ---------------------------------------------------------------------------
// io_uring_restriction->opcode values (enum io_uring_register_restriction_op)
// ---------------------------------------------------------------------------

/** Allow an io_uring_register(2) opcode. */
export const IORING_RESTRICTION_REGISTER_OP = 0;
/** Allow an sqe opcode. */
export const IORING_RESTRICTION_SQE_OP = 1;
/** Allow sqe flags. */
export const IORING_RESTRICTION_SQE_FLAGS_ALLOWED = 2;
/** Require sqe flags (these flags must be set on each submission). */
export const IORING_RESTRICTION_SQE_FLAGS_REQUIRED = 3;
/** One past the highest restriction opcode. */
export const IORING_RESTRICTION_LAST = 4;

// ---------------------------------------------------------------------------
// Registered wait arguments (struct io_uring_reg_wait)
// ---------------------------------------------------------------------------

/** io_uring_reg_wait.flags: the ts field is valid. */
export const IORING_REG_WAIT_TS = 1 << 0;

// ---------------------------------------------------------------------------
// IORING_OP_URING_CMD on a socket (enum io_uring_socket_op, sqe->cmd_op)
// ---------------------------------------------------------------------------

/** Bytes available to read (SIOCINQ). */
export const SOCKET_URING_OP_SIOCINQ = 0;
/** Bytes not yet sent (SIOCOUTQ). */
export const SOCKET_URING_OP_SIOCOUTQ = 1;
/** getsockopt(2). */
export const SOCKET_URING_OP_GETSOCKOPT = 2;
/** setsockopt(2). */
export const SOCKET_URING_OP_SETSOCKOPT = 3;
/** Read TX timestamps from the error queue. */
export const SOCKET_URING_OP_TX_TIMESTAMP = 4;

/** SOCKET_URING_OP_TX_TIMESTAMP: the cqe->flags bit of IORING_CQE_F_TSTAMP_HW. */
export const IORING_TIMESTAMP_HW_SHIFT = 16;
/** The cqe->flags bit from which the timestamp type is stored. */
export const IORING_TIMESTAMP_TYPE_SHIFT = IORING_TIMESTAMP_HW_SHIFT + 1;
/** The cqe->flags flag signifying whether it's a hardware timestamp. */
export const IORING_CQE_F_TSTAMP_HW = 1 << IORING_TIMESTAMP_HW_SHIFT;

// ---------------------------------------------------------------------------
// Zero copy receive
// ---------------------------------------------------------------------------

/** The bit from which area id is encoded into offsets. */
export const IORING_ZCRX_AREA_SHIFT = 48;
/** enum io_uring_zcrx_area_flags: the area is a dma-buf (io_uring_zcrx_area_reg.dmabuf_fd). */
export const IORING_ZCRX_AREA_DMABUF = 1;

// ---------------------------------------------------------------------------
// Non-io_uring constants the library needs (x86_64 Linux values; aarch64
// shares them except O_DIRECTORY, O_NOFOLLOW and O_TMPFILE, see below).
// ---------------------------------------------------------------------------

const isArm64 = typeof process !== "undefined" && process.arch === "arm64";

/** Special dirfd: the current working directory. */
export const AT_FDCWD = -100;
/** Do not follow symbolic links. */
export const AT_SYMLINK_NOFOLLOW = 0x100;
/** unlinkat(2): remove a directory (rmdir semantics). */
export const AT_REMOVEDIR = 0x200;
/** Allow an empty pathname (operate on dirfd itself). */
export const AT_EMPTY_PATH = 0x1000;
/** statx(2): do whatever stat(2) does. */
export const AT_STATX_SYNC_AS_STAT = 0;

/** statx(2) mask: the fields of struct stat. */
export const STATX_BASIC_STATS = 0x7ff;
/** statx(2) mask: BASIC_STATS plus btime (deprecated in the kernel header; kept for compatibility). */
export const STATX_ALL = 0xfff;
/** statx(2) mask bit: stx_btime (birth time). */
export const STATX_BTIME = 0x800;

/** open(2): read only. */
export const O_RDONLY = 0;
/** open(2): write only. */
export const O_WRONLY = 1;
/** open(2): read/write. */
export const O_RDWR = 2;
/** open(2): create the file if it does not exist. */
export const O_CREAT = 0o100;
/** open(2): with O_CREAT, fail if the file exists. */
export const O_EXCL = 0o200;
/** open(2): truncate to length 0. */
export const O_TRUNC = 0o1000;
/** open(2): append mode. */
export const O_APPEND = 0o2000;
/** open(2): non-blocking mode. */
export const O_NONBLOCK = 0o4000;
/** open(2): fail if not a directory. 0o200000 on x86_64, 0o40000 on aarch64. */
export const O_DIRECTORY: number = isArm64 ? 0o40000 : 0o200000;
/** open(2): do not follow a trailing symlink. 0o400000 on x86_64, 0o100000 on aarch64. */
export const O_NOFOLLOW: number = isArm64 ? 0o100000 : 0o400000;
/** open(2): close on exec. */
export const O_CLOEXEC = 0o2000000;
/** open(2): unnamed temporary file (__O_TMPFILE | O_DIRECTORY). 0o20200000 on x86_64, 0o20040000 on aarch64. */
export const O_TMPFILE: number = isArm64 ? 0o20040000 : 0o20200000;

/** eventfd(2): non-blocking. */
export const EFD_NONBLOCK = 0o4000;
/** eventfd(2): close on exec. */
export const EFD_CLOEXEC = 0o2000000;

/** mmap(2): pages may be read. */
export const PROT_READ = 1;
/** mmap(2): pages may be written. */
export const PROT_WRITE = 2;
/** mmap(2): share the mapping. */
export const MAP_SHARED = 1;
/** mmap(2): prefault the mapping. */
export const MAP_POPULATE = 0x8000;

/** socket(2): stream socket. */
export const SOCK_STREAM = 1;
/** socket(2): datagram socket. */
export const SOCK_DGRAM = 2;
/** socket(2) type flag: non-blocking. */
export const SOCK_NONBLOCK = 0o4000;
/** socket(2) type flag: close on exec. */
export const SOCK_CLOEXEC = 0o2000000;

/** Address family: local (Unix domain) sockets. */
export const AF_UNIX = 1;
/** Address family: IPv4. */
export const AF_INET = 2;
/** Address family: IPv6. */
export const AF_INET6 = 10;

/** shutdown(2): further receptions disallowed. */
export const SHUT_RD = 0;
/** shutdown(2): further transmissions disallowed. */
export const SHUT_WR = 1;
/** shutdown(2): both. */
export const SHUT_RDWR = 2;

/** recv(2): peek at incoming data. */
export const MSG_PEEK = 2;
/** recv(2): return the real length even if truncated / report truncation. */
export const MSG_TRUNC = 0x20;
/** send/recv(2): non-blocking operation. */
export const MSG_DONTWAIT = 0x40;
/** recv(2): wait for the full request. */
export const MSG_WAITALL = 0x100;
/** send(2): don't raise SIGPIPE. */
export const MSG_NOSIGNAL = 0x4000;

// ---------------------------------------------------------------------------
// Opcode table and decode helpers (for tracing)
// ---------------------------------------------------------------------------

/** Opcodes by name without the `IORING_OP_` prefix (IORING_OP_LAST excluded). */
export const IoringOp = {
  NOP: IORING_OP_NOP,
  READV: IORING_OP_READV,
  WRITEV: IORING_OP_WRITEV,
  FSYNC: IORING_OP_FSYNC,
  READ_FIXED: IORING_OP_READ_FIXED,
  WRITE_FIXED: IORING_OP_WRITE_FIXED,
  POLL_ADD: IORING_OP_POLL_ADD,
  POLL_REMOVE: IORING_OP_POLL_REMOVE,
  SYNC_FILE_RANGE: IORING_OP_SYNC_FILE_RANGE,
  SENDMSG: IORING_OP_SENDMSG,
  RECVMSG: IORING_OP_RECVMSG,
  TIMEOUT: IORING_OP_TIMEOUT,
  TIMEOUT_REMOVE: IORING_OP_TIMEOUT_REMOVE,
  ACCEPT: IORING_OP_ACCEPT,
  ASYNC_CANCEL: IORING_OP_ASYNC_CANCEL,
  LINK_TIMEOUT: IORING_OP_LINK_TIMEOUT,
  CONNECT: IORING_OP_CONNECT,
  FALLOCATE: IORING_OP_FALLOCATE,
  OPENAT: IORING_OP_OPENAT,
  CLOSE: IORING_OP_CLOSE,
  FILES_UPDATE: IORING_OP_FILES_UPDATE,
  STATX: IORING_OP_STATX,
  READ: IORING_OP_READ,
  WRITE: IORING_OP_WRITE,
  FADVISE: IORING_OP_FADVISE,
  MADVISE: IORING_OP_MADVISE,
  SEND: IORING_OP_SEND,
  RECV: IORING_OP_RECV,
  OPENAT2: IORING_OP_OPENAT2,
  EPOLL_CTL: IORING_OP_EPOLL_CTL,
  SPLICE: IORING_OP_SPLICE,
  PROVIDE_BUFFERS: IORING_OP_PROVIDE_BUFFERS,
  REMOVE_BUFFERS: IORING_OP_REMOVE_BUFFERS,
  TEE: IORING_OP_TEE,
  SHUTDOWN: IORING_OP_SHUTDOWN,
  RENAMEAT: IORING_OP_RENAMEAT,
  UNLINKAT: IORING_OP_UNLINKAT,
  MKDIRAT: IORING_OP_MKDIRAT,
  SYMLINKAT: IORING_OP_SYMLINKAT,
  LINKAT: IORING_OP_LINKAT,
  MSG_RING: IORING_OP_MSG_RING,
  FSETXATTR: IORING_OP_FSETXATTR,
  SETXATTR: IORING_OP_SETXATTR,
  FGETXATTR: IORING_OP_FGETXATTR,
  GETXATTR: IORING_OP_GETXATTR,
  SOCKET: IORING_OP_SOCKET,
  URING_CMD: IORING_OP_URING_CMD,
  SEND_ZC: IORING_OP_SEND_ZC,
  SENDMSG_ZC: IORING_OP_SENDMSG_ZC,
  READ_MULTISHOT: IORING_OP_READ_MULTISHOT,
  WAITID: IORING_OP_WAITID,
  FUTEX_WAIT: IORING_OP_FUTEX_WAIT,
  FUTEX_WAKE: IORING_OP_FUTEX_WAKE,
  FUTEX_WAITV: IORING_OP_FUTEX_WAITV,
  FIXED_FD_INSTALL: IORING_OP_FIXED_FD_INSTALL,
  FTRUNCATE: IORING_OP_FTRUNCATE,
  BIND: IORING_OP_BIND,
  LISTEN: IORING_OP_LISTEN,
  RECV_ZC: IORING_OP_RECV_ZC,
  EPOLL_WAIT: IORING_OP_EPOLL_WAIT,
  READV_FIXED: IORING_OP_READV_FIXED,
  WRITEV_FIXED: IORING_OP_WRITEV_FIXED,
  PIPE: IORING_OP_PIPE,
} as const;

/** An opcode name without the `IORING_OP_` prefix, e.g. "READ_FIXED". */
export type IoringOpName = keyof typeof IoringOp;

/** OPCODE_NAMES[op] is the name of opcode `op` without the `IORING_OP_` prefix; length IORING_OP_LAST. */
export const OPCODE_NAMES: readonly string[] = (() => {
  const names = new Array<string>(IORING_OP_LAST);
  for (const [name, op] of Object.entries(IoringOp)) names[op] = name;
  return Object.freeze(names);
})();

/** A flag decode table: `[mask, name]` pairs, names without their group prefix. */
export type FlagNames = readonly (readonly [number, string])[];

/** sqe->flags (IOSQE_*), names without the `IOSQE_` prefix. */
export const IOSQE_FLAG_NAMES: FlagNames = Object.freeze([
  [IOSQE_FIXED_FILE, "FIXED_FILE"],
  [IOSQE_IO_DRAIN, "IO_DRAIN"],
  [IOSQE_IO_LINK, "IO_LINK"],
  [IOSQE_IO_HARDLINK, "IO_HARDLINK"],
  [IOSQE_ASYNC, "ASYNC"],
  [IOSQE_BUFFER_SELECT, "BUFFER_SELECT"],
  [IOSQE_CQE_SKIP_SUCCESS, "CQE_SKIP_SUCCESS"],
] as const);

/** io_uring_enter(2) flags, names without the `IORING_ENTER_` prefix. */
export const IORING_ENTER_FLAG_NAMES: FlagNames = Object.freeze([
  [IORING_ENTER_GETEVENTS, "GETEVENTS"],
  [IORING_ENTER_SQ_WAKEUP, "SQ_WAKEUP"],
  [IORING_ENTER_SQ_WAIT, "SQ_WAIT"],
  [IORING_ENTER_EXT_ARG, "EXT_ARG"],
  [IORING_ENTER_REGISTERED_RING, "REGISTERED_RING"],
  [IORING_ENTER_ABS_TIMER, "ABS_TIMER"],
  [IORING_ENTER_EXT_ARG_REG, "EXT_ARG_REG"],
  [IORING_ENTER_NO_IOWAIT, "NO_IOWAIT"],
] as const);

/**
 * cqe->flags, names without the `IORING_CQE_F_` prefix. When IORING_CQE_F_BUFFER
 * is set the upper 16 bits hold the buffer ID, so decode `flags & 0xffff` then.
 */
export const IORING_CQE_F_NAMES: FlagNames = Object.freeze([
  [IORING_CQE_F_BUFFER, "BUFFER"],
  [IORING_CQE_F_MORE, "MORE"],
  [IORING_CQE_F_SOCK_NONEMPTY, "SOCK_NONEMPTY"],
  [IORING_CQE_F_NOTIF, "NOTIF"],
  [IORING_CQE_F_BUF_MORE, "BUF_MORE"],
  [IORING_CQE_F_SKIP, "SKIP"],
  [IORING_CQE_F_32, "32"],
] as const);

/** io_uring_setup(2) flags, names without the `IORING_SETUP_` prefix. */
export const IORING_SETUP_FLAG_NAMES: FlagNames = Object.freeze([
  [IORING_SETUP_IOPOLL, "IOPOLL"],
  [IORING_SETUP_SQPOLL, "SQPOLL"],
  [IORING_SETUP_SQ_AFF, "SQ_AFF"],
  [IORING_SETUP_CQSIZE, "CQSIZE"],
  [IORING_SETUP_CLAMP, "CLAMP"],
  [IORING_SETUP_ATTACH_WQ, "ATTACH_WQ"],
  [IORING_SETUP_R_DISABLED, "R_DISABLED"],
  [IORING_SETUP_SUBMIT_ALL, "SUBMIT_ALL"],
  [IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN"],
  [IORING_SETUP_TASKRUN_FLAG, "TASKRUN_FLAG"],
  [IORING_SETUP_SQE128, "SQE128"],
  [IORING_SETUP_CQE32, "CQE32"],
  [IORING_SETUP_SINGLE_ISSUER, "SINGLE_ISSUER"],
  [IORING_SETUP_DEFER_TASKRUN, "DEFER_TASKRUN"],
  [IORING_SETUP_NO_MMAP, "NO_MMAP"],
  [IORING_SETUP_REGISTERED_FD_ONLY, "REGISTERED_FD_ONLY"],
  [IORING_SETUP_NO_SQARRAY, "NO_SQARRAY"],
  [IORING_SETUP_HYBRID_IOPOLL, "HYBRID_IOPOLL"],
  [IORING_SETUP_CQE_MIXED, "CQE_MIXED"],
] as const);

/** IORING_FEAT_* bits io_uring_setup(2) reports, names without the `IORING_FEAT_` prefix. */
export const IORING_FEAT_FLAG_NAMES: FlagNames = Object.freeze([
  [IORING_FEAT_SINGLE_MMAP, "SINGLE_MMAP"],
  [IORING_FEAT_NODROP, "NODROP"],
  [IORING_FEAT_SUBMIT_STABLE, "SUBMIT_STABLE"],
  [IORING_FEAT_RW_CUR_POS, "RW_CUR_POS"],
  [IORING_FEAT_CUR_PERSONALITY, "CUR_PERSONALITY"],
  [IORING_FEAT_FAST_POLL, "FAST_POLL"],
  [IORING_FEAT_POLL_32BITS, "POLL_32BITS"],
  [IORING_FEAT_SQPOLL_NONFIXED, "SQPOLL_NONFIXED"],
  [IORING_FEAT_EXT_ARG, "EXT_ARG"],
  [IORING_FEAT_NATIVE_WORKERS, "NATIVE_WORKERS"],
  [IORING_FEAT_RSRC_TAGS, "RSRC_TAGS"],
  [IORING_FEAT_CQE_SKIP, "CQE_SKIP"],
  [IORING_FEAT_LINKED_FILE, "LINKED_FILE"],
  [IORING_FEAT_REG_REG_RING, "REG_REG_RING"],
  [IORING_FEAT_RECVSEND_BUNDLE, "RECVSEND_BUNDLE"],
  [IORING_FEAT_MIN_TIMEOUT, "MIN_TIMEOUT"],
  [IORING_FEAT_RW_ATTR, "RW_ATTR"],
  [IORING_FEAT_NO_IOWAIT, "NO_IOWAIT"],
] as const);

/**
 * Names of the flags set in `value` according to `table`, in table order,
 * followed by `0x…` (hex) for any remaining bits the table does not know.
 * `value` is treated as an unsigned 32-bit integer; 0 gives [].
 *
 * @example decodeFlags(IOSQE_IO_LINK | 0x100, IOSQE_FLAG_NAMES) // ["IO_LINK", "0x100"]
 */
export function decodeFlags(value: number, table: readonly (readonly [number, string])[]): string[] {
  // no errors.ts import here (constants stay dependency-free): plain TypeErrors with Node's code
  if (!Number.isInteger(value)) throw Object.assign(new TypeError(`decodeFlags: expected an integer flag word; got ${String(value)}`), { code: "ERR_INVALID_ARG_TYPE" });
  if (!Array.isArray(table)) throw Object.assign(new TypeError("decodeFlags: expected a table of [mask, name] pairs (e.g. IOSQE_FLAG_NAMES)"), { code: "ERR_INVALID_ARG_TYPE" });
  const v = value >>> 0;
  let rest = v;
  const out: string[] = [];
  for (const [mask, name] of table) {
    const m = mask >>> 0;
    if (m !== 0 && (v & m) >>> 0 === m) {
      out.push(name);
      rest = (rest & ~m) >>> 0;
    }
  }
  if (rest !== 0) out.push(`0x${rest.toString(16)}`);
  return out;
}
