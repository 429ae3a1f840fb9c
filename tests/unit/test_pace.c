// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the reader's pace (user/live/pace.c): a row is a sequence
 * of backlogs after reads, and after each one the priority the kernel
 * reports for the thread (getpriority(): the witness, not the module's own
 * flag) and the boosts counted. Each row runs in a child of its own, so
 * that a priority it leaves behind is not the next row's start; the
 * refused row runs as nobody (no CAP_SYS_NICE, RLIMIT_NICE 0: a raise is
 * refused, a fall back to the start is not needed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "live/pace.h"

#define SIZE	(16u << 20)
#define STEPS	6

struct step {
	__u64 pending;
	int nice_delta;		/* expected nice, from where the row began */
	__u64 boosts;
};

static const struct row {
	const char *what;
	int as_nobody;
	int start_nice;		/* set before the pace starts */
	int n;
	struct step s[STEPS];
	__u64 refused;
} rows[] = {
	{ "keeps up: never raised", 0, 0, 3, {
		{ 0, 0, 0 }, { SIZE / 8, 0, 0 }, { SIZE / 4, 0, 0 } } },
	{ "behind, then caught up: raised 10, back", 0, 0, 5, {
		{ SIZE / 4 + 1, -10, 1 }, { SIZE / 2, -10, 1 }, { SIZE / 32, -10, 1 },
		{ SIZE / 32 - 1, 0, 1 }, { SIZE / 64, 0, 1 } } },
	{ "behind twice: counted twice", 0, 0, 4, {
		{ SIZE - 1, -10, 1 }, { 0, 0, 1 }, { SIZE / 2, -10, 2 }, { 100, 0, 2 } } },
	{ "started at nice 5: raised to -5", 0, 5, 2, {
		{ SIZE / 2, -10, 1 }, { 0, 0, 1 } } },
	{ "started at nice -15: raised to -20, no further", 0, -15, 2, {
		{ SIZE / 2, -5, 1 }, { 0, 0, 1 } } },
	{ "refused (nobody): nice unchanged, refusals counted", 1, 0, 3, {
		{ SIZE / 2, 0, 0 }, { SIZE / 2, 0, 0 }, { 0, 0, 0 } }, 2 },
};

static int nice_now(void)
{
	errno = 0;
	return getpriority(PRIO_PROCESS, 0);
}

/* The row in this process (a child): 0 if every step is as expected. */
static int run_row(const struct row *r)
{
	struct ia_pace p;
	int bad = 0, base;

	if (setpriority(PRIO_PROCESS, 0, r->start_nice)) {
		printf("#   cannot start at nice %d: %m\n", r->start_nice);
		return 1;
	}
	if (r->as_nobody && geteuid() == 0 && setuid(65534)) {
		printf("#   cannot become nobody: %m\n");
		return 1;
	}
	base = nice_now();
	ia_pace_init(&p);
	for (int k = 0; k < r->n; k++) {
		const struct step *s = &r->s[k];
		int got;

		ia_pace_update(&p, s->pending, SIZE);
		got = nice_now() - base;
		if (got != s->nice_delta || p.boosts != s->boosts) {
			printf("#   step %d (pending %llu of %u): nice %+d (expected %+d), "
			       "boosts %llu (expected %llu)\n", k, (unsigned long long)s->pending,
			       SIZE, got, s->nice_delta, (unsigned long long)p.boosts,
			       (unsigned long long)s->boosts);
			bad = 1;
		}
	}
	if (p.refused != r->refused) {
		printf("#   refused %llu (expected %llu)\n", (unsigned long long)p.refused,
		       (unsigned long long)r->refused);
		bad = 1;
	}
	ia_pace_end(&p);
	if (nice_now() != base) {
		printf("#   after the end: nice %d (expected %d)\n", nice_now(), base);
		bad = 1;
	}
	return bad;
}

static void test_rows(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		int st = 0;
		pid_t pid;

		fflush(stdout);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			int b = run_row(r);

			fflush(stdout);
			_exit(b);
		}
		assert_int_equal(waitpid(pid, &st, 0), pid);
		printf("%s - %s\n", WIFEXITED(st) && !WEXITSTATUS(st) ? "ok" : "not ok", r->what);
		bad += !(WIFEXITED(st) && !WEXITSTATUS(st));
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
