/**
 * bun-uring — Linux io_uring for Bun, in TypeScript over bun:ffi.
 *
 * - The raw tier mirrors liburing: `IoUring` (struct io_uring), `Sqe`/`Cqe`, and one `prep*`
 *   helper per io_uring_prep_*(). Constants keep their C names.
 * - The safe tier: `Uring`, Promise methods named like node:fs/promises, on Bun's event loop.
 * - Copies: `copyFile`, `copyTree` (and the `bun-uring cp` command).
 */
export { IoUring, Probe, type Restriction, type RingCounters, type RingMemoryInfo, type SharedRing, type SharedRole } from "./ring.ts";
export { Cqe, Sqe, type U64 } from "./sqe.ts";
export * from "./prep.ts";
export { IoVecs, Timespec } from "./structs.ts";
export { OpenHow, MsgHdr, FutexWaitv, EpollEvents, EPOLL_EVENT_SIZE, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLIN, EPOLLOUT, POLLIN, POLLOUT, POLLERR, POLLHUP, P_ALL, P_PID, WEXITED, SIGINFO_SIZE, FUTEX2_SIZE_U32, FUTEX2_PRIVATE, FUTEX_BITSET_MATCH_ANY } from "./structs.ts";
export { BufferRing } from "./bufring.ts";
export * from "./constants.ts";
export { UringError, errnoName, errnoNumber, errnoMessage, type UringErrorDetails } from "./errors.ts";
export type { IoUringOptions } from "./options.ts";
export { addressOf, type MemoryMode, type Region } from "./memory.ts";
export { Uring, UringFile, parseOpenFlags, type LinkStep, type OpOptions, type UringOptions } from "./uring.ts";
export { UringStats, parseStatx } from "./stats.ts";
export { sockaddr, sockaddrUnix, parseSockaddr, SOCKADDR_STORAGE_SIZE, type SocketAddress } from "./sockaddr.ts";
export { copyFile, copyTree, COPY_DEFAULTS, type CopyOptions, type CopySummary, type CopyProgress, type CopyError } from "./copy.ts";
export {
  formatTraceEvent,
  traceWriter,
  type TraceEvent,
  type TraceOption,
  type SetupEvent,
  type SqeEvent,
  type SqTailEvent,
  type EnterEvent,
  type SqHeadEvent,
  type CqTailEvent,
  type CqeEvent,
  type CqHeadEvent,
  type RegisterEvent,
} from "./trace.ts";
export { course, renderText, renderSvg, type RingPicture, type SlotPicture } from "./learn.ts";
