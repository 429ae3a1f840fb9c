// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Every BPF program and link the guest kernel holds, walked by id
 * (BPF_PROG_GET_NEXT_ID, BPF_LINK_GET_NEXT_ID), whoever holds them: the
 * kernel's own list, the witness the signal tests (tests/vm/cases/signals.sh)
 * compare with what the tool held, read apart from the tool and from libbpf.
 * One line each: "prog ID TYPE NAME" and "link ID TYPE PROG_ID". Raw bpf()
 * syscalls: static, the guest has no libc or libbpf. Exit 1 when the walk
 * itself fails (not root, no bpf()).
 *
 * usage: ia-bpfobjs
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* The id after id of this kind (BPF_PROG_ or BPF_LINK_GET_NEXT_ID): 0 at the end, -1 error. */
static long next_id(int cmd, __u32 id)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.start_id = id;
	if (sys_bpf(cmd, &a))
		return errno == ENOENT ? 0 : -1;
	return a.next_id;
}

/* The info of the object of that id (gone since the walk: 1), into info. */
static int info_of(int get_fd_cmd, __u32 id, void *info, __u32 len)
{
	union bpf_attr a;
	int fd, ret;

	memset(&a, 0, sizeof(a));
	if (get_fd_cmd == BPF_PROG_GET_FD_BY_ID)
		a.prog_id = id;
	else
		a.link_id = id;
	fd = (int)sys_bpf(get_fd_cmd, &a);
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = fd;
	a.info.info_len = len;
	a.info.info = (__u64)(unsigned long)info;
	ret = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) ? -1 : 0;
	close(fd);
	return ret;
}

static void print_prog(const void *info)
{
	const struct bpf_prog_info *pi = info;

	printf("prog %u %u %s\n", pi->id, pi->type, pi->name[0] ? pi->name : "-");
}

static void print_link(const void *info)
{
	const struct bpf_link_info *li = info;

	printf("link %u %u %u\n", li->id, li->type, li->prog_id);
}

/* Every object of one kind, printed; -1 when the walk fails. */
static int walk(int next_cmd, int fd_cmd, void *info, __u32 len, void (*print)(const void *))
{
	long id = 0;

	while ((id = next_id(next_cmd, id)) > 0) {
		int r;

		memset(info, 0, len);
		r = info_of(fd_cmd, id, info, len);
		if (r < 0)
			return -1;
		if (!r)	/* (1: gone since the walk saw it) */
			print(info);
	}
	return id < 0 ? -1 : 0;
}

int main(void)
{
	struct bpf_prog_info pi;
	struct bpf_link_info li;

	if (walk(BPF_PROG_GET_NEXT_ID, BPF_PROG_GET_FD_BY_ID, &pi, sizeof(pi), print_prog) ||
	    walk(BPF_LINK_GET_NEXT_ID, BPF_LINK_GET_FD_BY_ID, &li, sizeof(li), print_link)) {
		fprintf(stderr, "ia-bpfobjs: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
