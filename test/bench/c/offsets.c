/*
 * Prints sizeof/offsetof of the io_uring ABI structs, as the system's kernel
 * headers define them, one "TABLE.key value" line each. TABLE and key are the
 * names lib/layout.ts uses, so test/layout.test.ts can compare line by line.
 *
 * Built and run by test/layout.test.ts (into a temp dir, outside the repo)
 * when a C compiler is present:  cc -std=gnu11 -Wall -Werror offsets.c
 *
 * Field names that changed between header versions are chosen by
 * LINUX_VERSION_CODE of the installed uapi headers; the offsets did not move.
 */
#include <stddef.h>
#include <stdio.h>
#include <sys/uio.h>
#include <linux/io_uring.h>
#include <linux/stat.h>
#include <linux/time_types.h>
#include <linux/version.h>

#define SIZE(table, type) printf(#table ".SIZE %zu\n", sizeof(type))
#define OFF(table, type, field) printf(#table "." #field " %zu\n", offsetof(type, field))
#define OFF_AS(table, key, type, field) printf(#table "." #key " %zu\n", offsetof(type, field))

int main(void)
{
	SIZE(SQE, struct io_uring_sqe);
	OFF(SQE, struct io_uring_sqe, opcode);
	OFF(SQE, struct io_uring_sqe, flags);
	OFF(SQE, struct io_uring_sqe, ioprio);
	OFF(SQE, struct io_uring_sqe, fd);
	OFF(SQE, struct io_uring_sqe, off);
	OFF(SQE, struct io_uring_sqe, addr);
	OFF(SQE, struct io_uring_sqe, len);
	OFF_AS(SQE, op_flags, struct io_uring_sqe, rw_flags);
	OFF(SQE, struct io_uring_sqe, user_data);
	OFF(SQE, struct io_uring_sqe, buf_index);
	OFF(SQE, struct io_uring_sqe, personality);
	OFF(SQE, struct io_uring_sqe, file_index);
	OFF(SQE, struct io_uring_sqe, addr3);
	OFF_AS(SQE, pad2, struct io_uring_sqe, __pad2);
	/* the aliases lib/layout.ts documents in its comments */
	OFF_AS(SQE_ALIAS, off, struct io_uring_sqe, addr2);
	OFF_AS(SQE_ALIAS, off, struct io_uring_sqe, cmd_op);
	OFF_AS(SQE_ALIAS, addr, struct io_uring_sqe, splice_off_in);
	OFF_AS(SQE_ALIAS, op_flags, struct io_uring_sqe, fsync_flags);
	OFF_AS(SQE_ALIAS, op_flags, struct io_uring_sqe, poll32_events);
	OFF_AS(SQE_ALIAS, op_flags, struct io_uring_sqe, open_flags);
	OFF_AS(SQE_ALIAS, op_flags, struct io_uring_sqe, msg_flags);
	OFF_AS(SQE_ALIAS, op_flags, struct io_uring_sqe, timeout_flags);
	OFF_AS(SQE_ALIAS, op_flags, struct io_uring_sqe, accept_flags);
	OFF_AS(SQE_ALIAS, op_flags, struct io_uring_sqe, statx_flags);
	OFF_AS(SQE_ALIAS, buf_index, struct io_uring_sqe, buf_group);
	OFF_AS(SQE_ALIAS, file_index, struct io_uring_sqe, splice_fd_in);
	OFF_AS(SQE_ALIAS, file_index, struct io_uring_sqe, addr_len);

	SIZE(CQE, struct io_uring_cqe);
	OFF(CQE, struct io_uring_cqe, user_data);
	OFF(CQE, struct io_uring_cqe, res);
	OFF(CQE, struct io_uring_cqe, flags);
	OFF(CQE, struct io_uring_cqe, big_cqe);

	SIZE(SQ_OFF, struct io_sqring_offsets);
	OFF(SQ_OFF, struct io_sqring_offsets, head);
	OFF(SQ_OFF, struct io_sqring_offsets, tail);
	OFF(SQ_OFF, struct io_sqring_offsets, ring_mask);
	OFF(SQ_OFF, struct io_sqring_offsets, ring_entries);
	OFF(SQ_OFF, struct io_sqring_offsets, flags);
	OFF(SQ_OFF, struct io_sqring_offsets, dropped);
	OFF(SQ_OFF, struct io_sqring_offsets, array);
	OFF(SQ_OFF, struct io_sqring_offsets, resv1);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	OFF(SQ_OFF, struct io_sqring_offsets, user_addr);
#else
	OFF_AS(SQ_OFF, user_addr, struct io_sqring_offsets, resv2);
#endif

	SIZE(CQ_OFF, struct io_cqring_offsets);
	OFF(CQ_OFF, struct io_cqring_offsets, head);
	OFF(CQ_OFF, struct io_cqring_offsets, tail);
	OFF(CQ_OFF, struct io_cqring_offsets, ring_mask);
	OFF(CQ_OFF, struct io_cqring_offsets, ring_entries);
	OFF(CQ_OFF, struct io_cqring_offsets, overflow);
	OFF(CQ_OFF, struct io_cqring_offsets, cqes);
	OFF(CQ_OFF, struct io_cqring_offsets, flags);
	OFF(CQ_OFF, struct io_cqring_offsets, resv1);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	OFF(CQ_OFF, struct io_cqring_offsets, user_addr);
#else
	OFF_AS(CQ_OFF, user_addr, struct io_cqring_offsets, resv2);
#endif

	SIZE(PARAMS, struct io_uring_params);
	OFF(PARAMS, struct io_uring_params, sq_entries);
	OFF(PARAMS, struct io_uring_params, cq_entries);
	OFF(PARAMS, struct io_uring_params, flags);
	OFF(PARAMS, struct io_uring_params, sq_thread_cpu);
	OFF(PARAMS, struct io_uring_params, sq_thread_idle);
	OFF(PARAMS, struct io_uring_params, features);
	OFF(PARAMS, struct io_uring_params, wq_fd);
	OFF(PARAMS, struct io_uring_params, resv);
	OFF(PARAMS, struct io_uring_params, sq_off);
	OFF(PARAMS, struct io_uring_params, cq_off);

	SIZE(PROBE, struct io_uring_probe);
	OFF(PROBE, struct io_uring_probe, last_op);
	OFF(PROBE, struct io_uring_probe, ops_len);
	OFF(PROBE, struct io_uring_probe, ops);
	printf("PROBE.OP_SIZE %zu\n", sizeof(struct io_uring_probe_op));
	OFF_AS(PROBE, op_op, struct io_uring_probe_op, op);
	OFF_AS(PROBE, op_flags, struct io_uring_probe_op, flags);

	SIZE(IOVEC, struct iovec);
	OFF(IOVEC, struct iovec, iov_base);
	OFF(IOVEC, struct iovec, iov_len);

	SIZE(TIMESPEC, struct __kernel_timespec);
	OFF(TIMESPEC, struct __kernel_timespec, tv_sec);
	OFF(TIMESPEC, struct __kernel_timespec, tv_nsec);

	SIZE(GETEVENTS_ARG, struct io_uring_getevents_arg);
	OFF(GETEVENTS_ARG, struct io_uring_getevents_arg, sigmask);
	OFF(GETEVENTS_ARG, struct io_uring_getevents_arg, sigmask_sz);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	OFF(GETEVENTS_ARG, struct io_uring_getevents_arg, min_wait_usec);
#else
	OFF_AS(GETEVENTS_ARG, min_wait_usec, struct io_uring_getevents_arg, pad);
#endif
	OFF(GETEVENTS_ARG, struct io_uring_getevents_arg, ts);

	SIZE(RSRC_REGISTER, struct io_uring_rsrc_register);
	OFF(RSRC_REGISTER, struct io_uring_rsrc_register, nr);
	OFF(RSRC_REGISTER, struct io_uring_rsrc_register, flags);
	OFF(RSRC_REGISTER, struct io_uring_rsrc_register, resv2);
	OFF(RSRC_REGISTER, struct io_uring_rsrc_register, data);
	OFF(RSRC_REGISTER, struct io_uring_rsrc_register, tags);

	SIZE(RSRC_UPDATE, struct io_uring_rsrc_update);
	OFF(RSRC_UPDATE, struct io_uring_rsrc_update, offset);
	OFF(RSRC_UPDATE, struct io_uring_rsrc_update, resv);
	OFF(RSRC_UPDATE, struct io_uring_rsrc_update, data);
	/* io_uring_files_update shares RSRC_UPDATE (its data field is called fds) */
	printf("RSRC_UPDATE_ALIAS.SIZE %zu\n", sizeof(struct io_uring_files_update));
	OFF_AS(RSRC_UPDATE_ALIAS, offset, struct io_uring_files_update, offset);
	OFF_AS(RSRC_UPDATE_ALIAS, resv, struct io_uring_files_update, resv);
	OFF_AS(RSRC_UPDATE_ALIAS, data, struct io_uring_files_update, fds);

	SIZE(STATX, struct statx);
	OFF(STATX, struct statx, stx_mask);
	OFF(STATX, struct statx, stx_blksize);
	OFF(STATX, struct statx, stx_attributes);
	OFF(STATX, struct statx, stx_nlink);
	OFF(STATX, struct statx, stx_uid);
	OFF(STATX, struct statx, stx_gid);
	OFF(STATX, struct statx, stx_mode);
	OFF(STATX, struct statx, stx_ino);
	OFF(STATX, struct statx, stx_size);
	OFF(STATX, struct statx, stx_blocks);
	OFF(STATX, struct statx, stx_attributes_mask);
	OFF(STATX, struct statx, stx_atime);
	OFF(STATX, struct statx, stx_btime);
	OFF(STATX, struct statx, stx_ctime);
	OFF(STATX, struct statx, stx_mtime);
	OFF(STATX, struct statx, stx_rdev_major);
	OFF(STATX, struct statx, stx_rdev_minor);
	OFF(STATX, struct statx, stx_dev_major);
	OFF(STATX, struct statx, stx_dev_minor);
	/* struct statx_timestamp: 16 bytes, tv_sec then tv_nsec */
	printf("STATX_TIMESTAMP.SIZE %zu\n", sizeof(struct statx_timestamp));
	OFF(STATX_TIMESTAMP, struct statx_timestamp, tv_sec);
	OFF(STATX_TIMESTAMP, struct statx_timestamp, tv_nsec);

	return 0;
}
