/*
 * nop.c — the C yardstick for test/bench/nop.bench.ts: an io_uring NOP round
 * trip written against raw syscalls (no liburing), so the TypeScript loop can
 * be measured against "the same loop in C" in the same run.
 *
 * It is a ruler, never part of the library: nothing in lib/ or ffi/ uses it.
 * test/bench/nop.bench.ts builds it with the system compiler (cc -O2) into
 * test/bench/.build/ and runs it once per batch size.
 *
 * Usage: nop BATCH [WARMUP_MS [TIME_MS [CHUNK [ENTRIES [SETUP_FLAGS]]]]]
 *   BATCH        NOPs per io_uring_enter (1 … ENTRIES)
 *   WARMUP_MS    run the loop this long, unmeasured, first        (default 400)
 *   TIME_MS      then measure chunks for at least this long       (default 1500)
 *   CHUNK        NOPs per timed sample, rounded up to whole batches (default 1024)
 *   ENTRIES      SQ size passed to io_uring_setup                  (default 128)
 *   SETUP_FLAGS  IORING_SETUP_* bits, decimal or 0x hex. Default: try
 *                IORING_SETUP_NO_SQARRAY and fall back without it on EINVAL,
 *                as bun-uring does.
 * Prints one JSON object on stdout; ops/s figures are per NOP (median, mean,
 * min, max over the per-chunk samples); mad_fraction is the median absolute
 * deviation of the chunk times over their median, as tinybench computes it. Exits 1 with a message on stderr on
 * any failure.
 *
 * The loop is the protocol bun-uring follows (and test/bench/nop.bench.ts
 * runs): fill BATCH NOP SQEs (space checked per SQE, like io_uring_get_sqe),
 * publish the SQ tail once with a release store, one
 * io_uring_enter(to_submit=BATCH, min_complete=BATCH, GETEVENTS), read every
 * CQE (acquire on the CQ tail), then advance the CQ head once with a release
 * store. Minimum kernel: 5.4 (IORING_FEAT_SINGLE_MMAP); NO_SQARRAY needs 6.6.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Newer than the 6.1 uapi header in /usr/include. */
#ifndef IORING_SETUP_NO_SQARRAY
#define IORING_SETUP_NO_SQARRAY (1U << 16) /* Linux 6.6 */
#endif
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#define __NR_io_uring_enter 426
#endif

struct ring {
	int fd;
	unsigned flags;
	unsigned sq_entries, cq_entries;
	/* the kernel writes these (liburing's k prefix) */
	unsigned *sq_khead, *sq_ktail, *cq_khead, *cq_ktail;
	unsigned sq_mask, cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	/* private mirror: the next SQE to hand out */
	unsigned sqe_tail;
	void *ring_ptr;
	size_t ring_sz;
	void *sqes_ptr;
	size_t sqes_sz;
};

static void die(const char *what, int err)
{
	fprintf(stderr, "nop: %s: %s\n", what, strerror(err));
	exit(1);
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int setup(struct ring *r, unsigned entries, unsigned flags)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	p.flags = flags;
	int fd = (int)syscall(__NR_io_uring_setup, entries, &p);
	if (fd < 0)
		return -errno;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
		close(fd);
		return -EINVAL;
	}
	int has_array = !(p.flags & IORING_SETUP_NO_SQARRAY);
	size_t sq_sz = has_array ? p.sq_off.array + p.sq_entries * sizeof(unsigned) : 0;
	size_t cq_sz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	r->ring_sz = sq_sz > cq_sz ? sq_sz : cq_sz;
	r->ring_ptr = mmap(NULL, r->ring_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
			   IORING_OFF_SQ_RING);
	if (r->ring_ptr == MAP_FAILED)
		die("mmap(rings)", errno);
	r->sqes_sz = p.sq_entries * sizeof(struct io_uring_sqe);
	r->sqes_ptr = mmap(NULL, r->sqes_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
			   IORING_OFF_SQES);
	if (r->sqes_ptr == MAP_FAILED)
		die("mmap(sqes)", errno);

	char *base = r->ring_ptr;
	r->fd = fd;
	r->flags = p.flags;
	r->sq_entries = p.sq_entries;
	r->cq_entries = p.cq_entries;
	r->sq_khead = (unsigned *)(base + p.sq_off.head);
	r->sq_ktail = (unsigned *)(base + p.sq_off.tail);
	r->sq_mask = *(unsigned *)(base + p.sq_off.ring_mask);
	r->cq_khead = (unsigned *)(base + p.cq_off.head);
	r->cq_ktail = (unsigned *)(base + p.cq_off.tail);
	r->cq_mask = *(unsigned *)(base + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(base + p.cq_off.cqes);
	r->sqes = r->sqes_ptr;
	/* SQ index array identity-mapped once, as bun-uring does: slot i is entry i */
	if (has_array) {
		unsigned *array = (unsigned *)(base + p.sq_off.array);
		for (unsigned i = 0; i < p.sq_entries; i++)
			array[i] = i;
	}
	r->sqe_tail = *r->sq_ktail;
	return 0;
}

/* io_uring_get_sqe(): NULL when the SQ is full. */
static inline struct io_uring_sqe *get_sqe(struct ring *r)
{
	/* acquire: slots the kernel consumed (head moved past) are free to refill */
	unsigned head = __atomic_load_n(r->sq_khead, __ATOMIC_ACQUIRE);
	if (r->sqe_tail - head >= r->sq_entries)
		return NULL;
	return &r->sqes[r->sqe_tail++ & r->sq_mask];
}

/* io_uring_prep_nop(): every field written, as io_uring_prep_rw() does; user_data 0. */
static inline void prep_nop(struct io_uring_sqe *sqe)
{
	sqe->opcode = IORING_OP_NOP;
	sqe->flags = 0;
	sqe->ioprio = 0;
	sqe->fd = -1;
	sqe->off = 0;
	sqe->addr = 0;
	sqe->len = 0;
	sqe->rw_flags = 0;
	sqe->user_data = 0;
	sqe->buf_index = 0;
	sqe->personality = 0;
	sqe->file_index = 0;
	sqe->addr3 = 0;
	sqe->__pad2[0] = 0;
}

static unsigned long long res_errors;

/* One round trip of `batch` NOPs. */
static inline void round_trip(struct ring *r, unsigned batch)
{
	for (unsigned k = 0; k < batch; k++) {
		struct io_uring_sqe *sqe = get_sqe(r);
		if (!sqe) {
			fprintf(stderr, "nop: SQ full\n");
			exit(1);
		}
		prep_nop(sqe);
	}
	/* release: the SQE bytes above are visible before the kernel sees the tail */
	__atomic_store_n(r->sq_ktail, r->sqe_tail, __ATOMIC_RELEASE);
	long ret = syscall(__NR_io_uring_enter, r->fd, batch, batch, IORING_ENTER_GETEVENTS, NULL, 0);
	if (ret < 0)
		die("io_uring_enter", errno);
	if ((unsigned)ret != batch) {
		fprintf(stderr, "nop: io_uring_enter submitted %ld of %u\n", ret, batch);
		exit(1);
	}
	unsigned head = *r->cq_khead; /* only this side writes it */
	/* acquire: the CQEs written before the kernel's tail store are visible */
	unsigned tail = __atomic_load_n(r->cq_ktail, __ATOMIC_ACQUIRE);
	unsigned n = tail - head;
	if (n != batch) {
		fprintf(stderr, "nop: %u CQEs ready after waiting for %u\n", n, batch);
		exit(1);
	}
	for (unsigned k = 0; k < n; k++) {
		const struct io_uring_cqe *cqe = &r->cqes[(head + k) & r->cq_mask];
		if (cqe->res < 0)
			res_errors++;
	}
	/* release: our reads of those CQEs are done before the kernel may reuse the slots */
	__atomic_store_n(r->cq_khead, head + n, __ATOMIC_RELEASE);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* the median of n sorted samples */
static double median(const double *v, size_t n)
{
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static unsigned long parse_num(const char *s, const char *name)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || *end || end == s) {
		fprintf(stderr, "nop: %s: not a number: %s\n", name, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 7) {
		fprintf(stderr, "usage: %s BATCH [WARMUP_MS [TIME_MS [CHUNK [ENTRIES [SETUP_FLAGS]]]]]\n", argv[0]);
		return 2;
	}
	unsigned batch = parse_num(argv[1], "BATCH");
	double warmup_ms = argc > 2 ? (double)parse_num(argv[2], "WARMUP_MS") : 400;
	double time_ms = argc > 3 ? (double)parse_num(argv[3], "TIME_MS") : 1500;
	unsigned chunk = argc > 4 ? parse_num(argv[4], "CHUNK") : 1024;
	unsigned entries = argc > 5 ? parse_num(argv[5], "ENTRIES") : 128;
	int fixed_flags = argc > 6;
	unsigned flags = fixed_flags ? parse_num(argv[6], "SETUP_FLAGS") : IORING_SETUP_NO_SQARRAY;
	if (batch < 1 || batch > entries || chunk < 1) {
		fprintf(stderr, "nop: need 1 <= BATCH <= ENTRIES and CHUNK >= 1\n");
		return 2;
	}

	struct ring r;
	int err = setup(&r, entries, flags);
	if (err == -EINVAL && !fixed_flags)
		err = setup(&r, entries, 0);
	if (err < 0)
		die("io_uring_setup", -err);

	unsigned rounds = (chunk + batch - 1) / batch; /* round trips per sample */
	unsigned long long ops_per_chunk = (unsigned long long)rounds * batch;

	double t0 = now_ns();
	while (now_ns() - t0 < warmup_ms * 1e6)
		for (unsigned i = 0; i < rounds; i++)
			round_trip(&r, batch);

	/* like tinybench: run until both the time budget and 64 samples are reached */
	size_t cap = 4096, n = 0;
	double *samples = malloc(cap * sizeof *samples);
	if (!samples)
		die("malloc", ENOMEM);
	double start = now_ns(), elapsed = 0;
	while (elapsed < time_ms * 1e6 || n < 64) {
		double a = now_ns();
		for (unsigned i = 0; i < rounds; i++)
			round_trip(&r, batch);
		double b = now_ns();
		if (n == cap) {
			cap *= 2;
			samples = realloc(samples, cap * sizeof *samples);
			if (!samples)
				die("realloc", ENOMEM);
		}
		samples[n++] = b - a;
		elapsed = b - start;
	}

	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += samples[i];
	qsort(samples, n, sizeof *samples, cmp_double);
	double med = median(samples, n);
	/* median absolute deviation, as tinybench reports it (unscaled) */
	double *dev = malloc(n * sizeof *dev);
	if (!dev)
		die("malloc", ENOMEM);
	for (size_t i = 0; i < n; i++)
		dev[i] = samples[i] > med ? samples[i] - med : med - samples[i];
	qsort(dev, n, sizeof *dev, cmp_double);
	double mad = median(dev, n);
	free(dev);
	double per_s = (double)ops_per_chunk * 1e9;
	printf("{\"batch\":%u,\"entries\":%u,\"setup_flags\":%u,\"chunk\":%llu,\"samples\":%zu,"
	       "\"warmup_ms\":%.0f,\"time_ms\":%.1f,\"median_ns_per_op\":%.3f,\"mad_fraction\":%.5f,"
	       "\"ops_per_s_median\":%.0f,\"ops_per_s_mean\":%.0f,\"ops_per_s_min\":%.0f,\"ops_per_s_max\":%.0f,"
	       "\"res_errors\":%llu}\n",
	       batch, r.sq_entries, r.flags, ops_per_chunk, n, warmup_ms, elapsed / 1e6,
	       med / (double)ops_per_chunk, mad / med, per_s / med, per_s * (double)n / sum, per_s / samples[n - 1],
	       per_s / samples[0], res_errors);

	free(samples);
	munmap(r.sqes_ptr, r.sqes_sz);
	munmap(r.ring_ptr, r.ring_sz);
	close(r.fd);
	return res_errors ? 1 : 0;
}
