// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The command line: an input is argv (arguments separated by NUL bytes,
 * at most 32), run through ia_dispatch() with parse_only set, so that every
 * command checks its arguments and stops before opening a file or loading
 * BPF. Properties: the exit code is 0 (arguments fine, or --help, -V) or 2;
 * once -j (or -p) is parsed, every exit 2 leaves exactly one JSON document with an
 * "error" member on stdout, which is captured in a memory file.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "cmd/cli.h"
#include "fuzz_util.h"

#define MAX_ARGS 32

static int null_fd = -1, err_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int out_fd = memfd_create("fuzz-stdout", 0);

	/* stdout is the memory file. stderr (usage texts, thousands a second)
	 * goes to /dev/null during a run, unless FUZZ_ARGS_STDERR is set (to
	 * see a crash report when replaying an input) */
	if (out_fd < 0 || dup2(out_fd, STDOUT_FILENO) < 0)
		abort();
	if (!getenv("FUZZ_ARGS_STDERR")) {
		null_fd = open("/dev/null", O_WRONLY);
		err_fd = dup(STDERR_FILENO);
		if (null_fd < 0 || err_fd < 0)
			abort();
	}
	return 0;
}

static void quiet(bool on)
{
	if (null_fd < 0)
		return;
	fflush(stderr);
	if (dup2(on ? null_fd : err_fd, STDERR_FILENO) < 0)
		abort();
}

/* What the run wrote on stdout, NUL-terminated (the caller frees it). */
static char *take_stdout(void)
{
	off_t n;
	char *buf;

	fflush(stdout);
	n = lseek(STDOUT_FILENO, 0, SEEK_CUR);
	buf = malloc((size_t)n + 1);
	if (!buf || pread(STDOUT_FILENO, buf, (size_t)n, 0) != n)
		abort();
	buf[n] = 0;
	if (ftruncate(STDOUT_FILENO, 0) || lseek(STDOUT_FILENO, 0, SEEK_SET))
		abort();
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *argv[MAX_ARGS + 2], *out;
	struct ia_cli cli = { .parse_only = true };
	int argc = 1, rc;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = 0;
	argv[0] = "iommu-audit";
	for (char *p = copy; p < copy + size && argc <= MAX_ARGS; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	quiet(true);
	rc = ia_dispatch(&cli, argc, argv);
	quiet(false);
	out = take_stdout();
	fz_require(rc == IA_EXIT_OK || rc == IA_EXIT_USAGE, "exit code 0 or 2 when parsing", out);
	/* cli.json: -j or -p was parsed before the error (an error in a
	 * cluster such as -vZj comes before the j) */
	if (rc == IA_EXIT_USAGE && cli.json) {
		fz_json_doc(out, "-j usage error: one JSON document");
		fz_require(strstr(out, "\"error\"") != NULL, "-j usage error: an error member", out);
	}
	free(out);
	free(copy);
	return 0;
}
