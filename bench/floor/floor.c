// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * floor: count the calls of the given hooks with BPF programs that do
 * nothing else, while a command runs, then print the count. The cost of a
 * mode over this is the cost of what its programs do (docs/benchmarks.md).
 *
 * usage: floor [--work WORK] KIND:TARGET... -- COMMAND [ARG...]
 *   KIND: fentry, fexit or tp (a tp_btf tracepoint), e.g.
 *   floor fentry:iommu_dma_map_page fexit:__iommu_map tp:map -- sh -c ...
 *   --work: what each program does besides counting (floor.bpf.c): count
 *   (the default), clock (one clock read), record (one 96-byte record into
 *   a ring buffer shared by all the programs and drained here)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

#define MAX_HOOKS 64

enum { WORK_COUNT, WORK_CLOCK, WORK_RECORD, WORK_PROBE, WORK_DIRECT, WORK_LRU,
       WORK_TASKSTORE, WORK_ARRAY, WORK_CAS, WORK_WIN8, WORK_WIN32 };

/* --work's names, in enum order (floor.bpf.c says what each adds) */
static const char *const work_names[] = {
	"count", "clock", "record", "probe", "direct", "lru", "taskstore", "array", "cas", "win8", "win32",
};
#define NR_WORK (sizeof(work_names) / sizeof(work_names[0]))

/* ring_fd: the ring of the first program loaded (-1 before), shared by the
 * others */
static int attach_one(const char *spec, __u32 work, int *ring_fd,
		      struct floor_bpf **out, struct bpf_link **link)
{
	const char *colon = strchr(spec, ':');
	struct floor_bpf *o;
	struct bpf_program *keep;

	if (!colon)
		return -EINVAL;
	o = floor_bpf__open();
	if (!o)
		return -errno;
	if (!strncmp(spec, "fentry:", 7))
		keep = o->progs.on_fentry;
	else if (!strncmp(spec, "fexit:", 6))
		keep = o->progs.on_fexit;
	else if (!strncmp(spec, "tp:", 3))
		keep = o->progs.on_tp;
	else {
		floor_bpf__destroy(o);
		return -EINVAL;
	}
	bpf_program__set_autoload(o->progs.on_fentry, keep == o->progs.on_fentry);
	bpf_program__set_autoload(o->progs.on_fexit, keep == o->progs.on_fexit);
	bpf_program__set_autoload(o->progs.on_tp, keep == o->progs.on_tp);
	o->rodata->work = work;
	if (work != WORK_RECORD)	/* unused: the smallest ring */
		bpf_map__set_max_entries(o->maps.ring, 4096);
	if (*ring_fd >= 0 && bpf_map__reuse_fd(o->maps.ring, *ring_fd)) {
		int err = -errno;

		floor_bpf__destroy(o);
		return err;
	}
	if (bpf_program__set_attach_target(keep, 0, colon + 1) || floor_bpf__load(o) ||
	    !(*link = bpf_program__attach(keep))) {
		int err = -errno;

		floor_bpf__destroy(o);
		return err ? err : -EINVAL;
	}
	if (*ring_fd < 0)
		*ring_fd = bpf_map__fd(o->maps.ring);
	*out = o;
	return 0;
}

static int drained(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	(*(unsigned long long *)ctx)++;
	return 0;
}

static unsigned long long total(struct floor_bpf *o)
{
	int ncpu = libbpf_num_possible_cpus();
	unsigned long long sum = 0, v[1024];
	__u32 k = 0;

	if (ncpu <= 0 || ncpu > 1024 ||
	    bpf_map__lookup_elem(o->maps.calls, &k, sizeof(k), v, sizeof(v[0]) * ncpu, 0))
		return 0;
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}

int main(int argc, char **argv)
{
	struct floor_bpf *objs[MAX_HOOKS];
	struct bpf_link *links[MAX_HOOKS];
	unsigned long long calls = 0, records = 0;
	struct ring_buffer *rb = NULL;
	int n = 0, i = 1, st, ret = 1, ring_fd = -1;
	__u32 work = WORK_COUNT;
	pid_t pid, done;

	if (argc > 2 && !strcmp(argv[1], "--work")) {
		while (work < NR_WORK && strcmp(argv[2], work_names[work]))
			work++;
		if (work == NR_WORK) {
			fprintf(stderr, "floor: --work: count, clock, record, probe, direct, lru, taskstore, array, cas, win8 or win32, not %s\n",
				argv[2]);
			return 2;
		}
		i = 3;
	}
	for (; i < argc && strcmp(argv[i], "--"); i++) {
		int err = n < MAX_HOOKS ? attach_one(argv[i], work, &ring_fd, &objs[n], &links[n])
					: -E2BIG;

		if (err) {
			fprintf(stderr, "floor: %s: %s\n", argv[i], strerror(-err));
			goto out;
		}
		n++;
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "usage: floor [--work WORK] KIND:TARGET... -- COMMAND [ARG...]\n");
		goto out;
	}
	if (work == WORK_RECORD && !(rb = ring_buffer__new(ring_fd, drained, &records, NULL))) {
		fprintf(stderr, "floor: ring buffer: %s\n", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid == 0) {
		execvp(argv[i + 1], argv + i + 1);
		_exit(127);
	}
	if (pid < 0)
		goto out;
	/* drained on a timeout, as iommu-audit's reader (no wakeups) */
	while ((done = waitpid(pid, &st, rb ? WNOHANG : 0)) == 0)
		ring_buffer__poll(rb, 100);
	if (done != pid)
		goto out;
	if (rb)
		ring_buffer__consume(rb);
	for (int k = 0; k < n; k++)
		calls += total(objs[k]);
	fprintf(stderr, "floor: %d programs, %llu calls, %llu records\n", n, calls, records);
	ret = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
out:
	ring_buffer__free(rb);
	for (int k = 0; k < n; k++) {
		bpf_link__destroy(links[k]);
		floor_bpf__destroy(objs[k]);
	}
	return ret;
}
