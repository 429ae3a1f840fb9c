// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Run a command on hostile ground (tests/vm/cases/hostile.sh), what busybox
 * cannot do (its setpriv changes no uid):
 *   nobpf    the bpf() system call refused (EPERM) by a seccomp filter, as
 *            a container's default profile refuses it (Docker's, Podman's),
 *            even to root
 *   nobody   as user and group 65534, no supplementary groups
 * Static: the guest has no libc.
 *
 * usage: ia-drop nobpf|nobody COMMAND [ARGS...]
 */
#define _GNU_SOURCE	/* setresuid */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <grp.h>
#include <sys/syscall.h>
#include <unistd.h>

static int no_bpf(void)
{
	struct sock_filter f[] = {
		/* another architecture's calls: refused too, never misread */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_bpf, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	       syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static int nobody(void)
{
	return setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	       setresuid(65534, 65534, 65534);
}

int main(int argc, char **argv)
{
	int bad;

	if (argc < 3 || (strcmp(argv[1], "nobpf") && strcmp(argv[1], "nobody"))) {
		fprintf(stderr, "usage: ia-drop nobpf|nobody COMMAND [ARGS...]\n");
		return 2;
	}
	bad = !strcmp(argv[1], "nobpf") ? no_bpf() : nobody();
	if (bad) {
		fprintf(stderr, "ia-drop: %s: %s\n", argv[1], strerror(errno));
		return 125;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "ia-drop: %s: %s\n", argv[2], strerror(errno));
	return 127;
}
