// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of kallsyms loading and symbolization (user/lib/ksyms.c), on small
 * files in the /proc/kallsyms format written to a temporary directory.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "event/ia_events.h"
#include "lib/ksyms.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

static char tmpdir[64];
static struct ia_ksyms *g_ks;	/* released by the teardown after a failure */

static const char *tpath(const char *name)
{
	static char buf[4][sizeof(tmpdir) + 1 + 256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

static int group_setup(void **state)
{
	strcpy(tmpdir, "/tmp/test_ksyms.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlink(tpath(e->d_name));
	closedir(d);
	return rmdir(tmpdir);
}

static int teardown(void **state)
{
	ia_ksyms_free(g_ks);
	g_ks = NULL;
	return 0;
}

static const char *spit(const char *name, const char *text)
{
	const char *path = tpath(name);
	FILE *f = fopen(path, "w");

	if (!f)
		fail_msg("fopen(%s): %s", path, strerror(errno));
	fputs(text, f);
	if (fclose(f))
		fail_msg("writing %s: %s", path, strerror(errno));
	return path;
}

static struct ia_ksyms *load(const char *path)
{
	struct ia_ksyms *ks;

	errno = 0;
	ks = ia_ksyms_load(path);
	if (!ks)
		fail_msg("ia_ksyms_load(%s): NULL, errno %d (%s)", path, errno, strerror(errno));
	return ks;
}

struct sym_case {
	__u64 ip;
	int ret;
	const char *want;
};

static void check_cases(const char *what, const struct ia_ksyms *ks,
			const struct sym_case *cases, size_t n)
{
	char buf[IA_SYM_LEN];

	for (size_t i = 0; i < n; i++) {
		int ret;

		memset(buf, 'X', sizeof(buf));	/* must be overwritten, even on a miss */
		buf[sizeof(buf) - 1] = 0;
		ret = ia_ksyms_symbolize(ks, cases[i].ip, buf, sizeof(buf));
		if (ret != cases[i].ret || strcmp(buf, cases[i].want))
			fail_msg("%s: case ip 0x%llx: got %d \"%s\", want %d \"%s\"", what,
				 (unsigned long long)cases[i].ip, ret, buf, cases[i].ret,
				 cases[i].want);
	}
}

/* ---- tests ---- */

/* Unsorted, mixed types, modules, hidden and junk lines. */
static const char kallsyms[] =
	"ffffffff81002000 t func\n"
	"ffffffff81000000 T _stext\n"
	"ffffffffc0002000 T e1000_xmit_frame\t[e1000e]\n"
	"ffffffff82000000 D data_sym\n"
	"ffffffff81001000 T startup_64\n"
	"ffffffff81001800 d local_data\n"
	"ffffffff81003000 b bss_sym\n"
	"ffffffff81003800 B bss_global\n"
	"ffffffff81003c00 r rodata_sym\n"
	"ffffffff81003e00 R rodata_global\n"
	"ffffffff81003f00 A abs_sym\n"
	"ffffffff81004000 W weak_fn\n"
	"ffffffffc0001000 t nvme_queue_rq\t[nvme]\n"
	"ffffffffc0000000 t nvme_init\t[nvme]\n"
	"ffffffffc0001800 d nvme_data\t[nvme]\n"
	"0000000000000000 T hidden_fn\n"
	"\n"
	"not a symbol line\n"
	"ffffffff81005000 T last_fn\n";

static void test_symbolize(void **state)
{
	static const struct sym_case cases[] = {
		{ 0xffffffff81002010ULL, 1, "func+0x10" },
		{ 0xffffffff81002000ULL, 1, "func+0x0" },
		{ 0xffffffff81000000ULL, 1, "_stext+0x0" },
		{ 0xffffffff81000fffULL, 1, "_stext+0xfff" },
		{ 0xffffffff81001000ULL, 1, "startup_64+0x0" },
		/* data symbols in between are not functions */
		{ 0xffffffff81001810ULL, 1, "startup_64+0x810" },
		{ 0xffffffff81003004ULL, 1, "func+0x1004" },
		{ 0xffffffff81003f10ULL, 1, "func+0x1f10" },
		{ 0xffffffff81004008ULL, 1, "weak_fn+0x8" },
		{ 0xffffffff81005000ULL, 1, "last_fn+0x0" },
		{ 0xffffffff82000010ULL, 1, "last_fn+0xffb010" },
		{ 0xffffffffc0000004ULL, 1, "nvme_init+0x4 [nvme]" },
		{ 0xffffffffc0001004ULL, 1, "nvme_queue_rq+0x4 [nvme]" },
		{ 0xffffffffc0001810ULL, 1, "nvme_queue_rq+0x810 [nvme]" },
		{ 0xffffffffc0002abcULL, 1, "e1000_xmit_frame+0xabc [e1000e]" },
		/* before the first symbol */
		{ 0xffffffff80ffffffULL, 0, "" },
		{ 0x1000, 0, "" },
		{ 0, 0, "" },
	};

	g_ks = load(spit("kallsyms", kallsyms));
	check_cases("kallsyms", g_ks, cases, N(cases));
}

/* A buffer too small: truncated, still NUL-terminated. */
static void test_small_buffer(void **state)
{
	static const struct {
		size_t len;
		const char *want;
	} cases[] = {
		{ 64, "nvme_queue_rq+0x4 [nvme]" },
		{ 25, "nvme_queue_rq+0x4 [nvme]" },
		{ 24, "nvme_queue_rq+0x4 [nvme" },
		{ 8, "nvme_qu" },
		{ 1, "" },
	};
	char buf[64];

	g_ks = load(spit("kallsyms", kallsyms));
	for (size_t i = 0; i < N(cases); i++) {
		int ret;

		memset(buf, 'X', sizeof(buf));
		ret = ia_ksyms_symbolize(g_ks, 0xffffffffc0001004ULL, buf, cases[i].len);
		if (ret != 1 || strcmp(buf, cases[i].want))
			fail_msg("case len %zu: got %d \"%s\", want 1 \"%s\"", cases[i].len, ret,
				 buf, cases[i].want);
		if (cases[i].len < sizeof(buf) && buf[cases[i].len] != 'X')
			fail_msg("case len %zu: wrote past the buffer", cases[i].len);
	}
}

/* kptr_restrict: every address is zero; nothing symbolizes. */
static void test_hidden(void **state)
{
	static const struct sym_case cases[] = {
		{ 0xffffffff81002010ULL, 0, "" },
		{ 0, 0, "" },
		{ ~0ULL, 0, "" },
	};

	g_ks = load(spit("hidden",
			 "0000000000000000 T _stext\n"
			 "0000000000000000 t func\n"
			 "0000000000000000 t nvme_queue_rq\t[nvme]\n"));
	check_cases("hidden", g_ks, cases, N(cases));
}

static void test_empty_file(void **state)
{
	static const struct sym_case cases[] = {
		{ 0xffffffff81002010ULL, 0, "" },
	};

	g_ks = load(spit("empty", ""));
	check_cases("empty", g_ks, cases, N(cases));
	ia_ksyms_free(g_ks);
	/* only data symbols */
	g_ks = load(spit("data-only", "ffffffff82000000 D data_sym\n"
				      "ffffffff82001000 b bss\n"));
	check_cases("data only", g_ks, cases, N(cases));
}

/* No table at all (loading failed): no symbol, empty string. */
static void test_null_table(void **state)
{
	static const struct sym_case cases[] = {
		{ 0xffffffff81002010ULL, 0, "" },
	};

	check_cases("NULL table", NULL, cases, N(cases));
	ia_ksyms_free(NULL);
}

static void test_missing_file(void **state)
{
	struct ia_ksyms *ks;

	errno = 0;
	ks = ia_ksyms_load(tpath("does-not-exist"));
	if (ks) {
		ia_ksyms_free(ks);
		fail_msg("missing file: got a table, want NULL");
	}
	if (errno != ENOENT)
		fail_msg("missing file: errno %d (%s), want ENOENT", errno, strerror(errno));
	/* errno left over from before must not hide the real one */
	errno = EAGAIN;
	ks = ia_ksyms_load(tpath("does-not-exist"));
	if (ks) {
		ia_ksyms_free(ks);
		fail_msg("missing file (2): got a table, want NULL");
	}
	if (errno != ENOENT)
		fail_msg("missing file (2): errno %d (%s), want ENOENT", errno, strerror(errno));
}

/*
 * More symbols than the first allocation (65536), written in descending
 * order so that the sort matters.
 */
static void test_many_symbols(void **state)
{
	const unsigned n = 70000;
	const __u64 base = 0xffffffff90000000ULL;
	const char *path = tpath("many");
	FILE *f = fopen(path, "w");
	struct sym_case cases[6];
	char want[6][32];

	if (!f)
		fail_msg("fopen(%s): %s", path, strerror(errno));
	for (unsigned i = n; i-- > 0;)
		fprintf(f, "%016llx %c s%u\n", (unsigned long long)(base + i * 0x40ULL),
			i % 3 ? 't' : 'T', i);
	fclose(f);
	g_ks = load(path);
	const unsigned idx[] = { 0, 1, 12345, 65535, 65536, n - 1 };
	for (size_t k = 0; k < N(idx); k++) {
		snprintf(want[k], sizeof(want[k]), "s%u+0x3f", idx[k]);
		cases[k] = (struct sym_case){ base + idx[k] * 0x40ULL + 0x3f, 1, want[k] };
	}
	check_cases("many", g_ks, cases, N(cases));
	{
		static const struct sym_case before[] = { { 0xffffffff8fffffffULL, 0, "" } };

		check_cases("many, before the first", g_ks, before, N(before));
	}
}

/*
 * ia_ksyms_lookup(): the loader's one pass for the kernel data the BPF
 * programs read. Witness: the lines themselves (which one is vmlinux's
 * first, hidden or a module's), not the scanner.
 */
static void test_lookup(void **state)
{
	static const char text[] =
		"ffffffff82b27698 D vmemmap_base\n"
		"ffffffffc0000100 d max_pfn\t[evil]\n"	/* a module's: not it */
		"ffffffff83000000 B max_pfn\n"
		"ffffffff83000008 B max_pfn\n"		/* the first one wins */
		"ffffffff81000000 T _text_end\n"	/* a longer name: not _text */
		"ffffffff81000000 T _tex\n"		/* a shorter one */
		"0000000000000000 D page_offset_base\n"	/* hidden: not found */
		"ffffffff8100000 T _text\n"
		"zzzz T _end\n"				/* junk: skipped */
		"ffffffff84000000 B _end\n";
	static const char *const names[] = {
		"vmemmap_base", "max_pfn", "_text", "_end", "page_offset_base", "phys_base",
	};
	static const __u64 want[] = {
		0xffffffff82b27698ull, 0xffffffff83000000ull, 0xffffffff8100000ull,
		0xffffffff84000000ull, 0, 0,
	};
	__u64 got[N(names)];
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");
	int ret;

	assert_non_null(f);
	ret = ia_ksyms_lookup(f, names, got, N(names));
	fclose(f);
	for (size_t i = 0; i < N(names); i++)
		if (got[i] != want[i])
			fail_msg("%s: got 0x%llx, want 0x%llx", names[i],
				 (unsigned long long)got[i], (unsigned long long)want[i]);
	if (ret != 4)
		fail_msg("found: got %d, want 4", ret);
}

/*
 * A line longer than any buffer: a 1530-character symbol whose tail reads
 * like a line of its own ("aaaa x vmemmap_base": a hex address, a type, the
 * name). Read in 512-byte pieces, the tail was taken for vmemmap_base at
 * 0xaaaa...; the line is one line, and vmemmap_base is the next one's.
 */
static void test_lookup_long_line(void **state)
{
	static const char *const names[] = { "vmemmap_base" };
	/* 492 + 2 * 511 + 16: a 512-byte buffer's fourth piece starts with
	 * 16 hex digits */
	size_t n = 1530;
	char *text = malloc(n + 128);
	__u64 got[1];
	FILE *f;
	int ret;

	assert_non_null(text);
	memcpy(text, "ffffffff81000000 T ", 19);
	memset(text + 19, 'a', n);
	strcpy(text + 19 + n, " x vmemmap_base\nffffffff82b27698 D vmemmap_base\n");
	f = fmemopen(text, strlen(text), "r");
	assert_non_null(f);
	ret = ia_ksyms_lookup(f, names, got, 1);
	fclose(f);
	free(text);
	assert_int_equal(ret, 1);
	if (got[0] != 0xffffffff82b27698ull)
		fail_msg("vmemmap_base: got 0x%llx, want 0xffffffff82b27698",
			 (unsigned long long)got[0]);
}

/* A read error (a directory) is -1, not "none found". */
static void test_lookup_unreadable(void **state)
{
	static const char *const names[] = { "vmemmap_base" };
	__u64 got[1] = { 1 };
	FILE *f = fopen(tmpdir, "r");

	assert_non_null(f);
	errno = 0;
	if (ia_ksyms_lookup(f, names, got, 1) != -1 || !errno)
		fail_msg("a directory: want -1 and errno set, got errno %d", errno);
	fclose(f);
	assert_int_equal(got[0], 0);
}

/*
 * /proc/modules' digest (what makes a live run read the symbols again):
 * the same modules at the same addresses give the same digest whatever
 * their use counts and users, and a module loaded, unloaded or moved
 * gives another. Each row: two listings, and whether their digests are
 * equal; both are printed when a row fails.
 */
static __u64 digest_of(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	__u64 h;

	assert_non_null(f);
	h = ia_modules_digest(f);
	fclose(f);
	return h;
}

static void test_modules_digest(void **state)
{
	static const char base[] =
		"nvme 57344 2 - Live 0xffffffffc0300000\n"
		"nvme_core 139264 3 nvme, Live 0xffffffffc0200000\n";
	static const struct {
		const char *name, *other;
		bool equal;
	} rows[] = {
		{ "the same listing", base, true },
		{ "use counts and users moved",
		  "nvme 57344 5 - Live 0xffffffffc0300000\n"
		  "nvme_core 139264 1 nvme,ia_fixture, Live 0xffffffffc0200000\n", true },
		{ "a line without six fields among them",
		  "nvme 57344 2 - Live 0xffffffffc0300000\ngarbage\n\n"
		  "nvme_core 139264 3 nvme, Live 0xffffffffc0200000\n", true },
		{ "a module loaded",
		  "ia_fixture 65536 0 - Live 0xffffffffc0400000 (OE)\n"
		  "nvme 57344 2 - Live 0xffffffffc0300000\n"
		  "nvme_core 139264 3 nvme, Live 0xffffffffc0200000\n", false },
		{ "a module unloaded", "nvme_core 139264 3 nvme, Live 0xffffffffc0200000\n", false },
		{ "a module loaded again elsewhere",
		  "nvme 57344 2 - Live 0xffffffffc0500000\n"
		  "nvme_core 139264 3 nvme, Live 0xffffffffc0200000\n", false },
		{ "name and address not run together",
		  "nvm 57344 2 - Live e0xffffffffc0300000\n"
		  "nvme_core 139264 3 nvme, Live 0xffffffffc0200000\n", false },
		{ "nothing listed", "", false },
	};
	__u64 want = digest_of(base);
	char users[1200];
	__u64 got;

	(void)state;
	/* nvme_core used by 100 modules: its address is 1000 bytes in */
	snprintf(users, sizeof(users), "nvme 57344 2 - Live 0xffffffffc0300000\n"
		 "nvme_core 139264 100 ");
	for (int i = 0; i < 100; i++)
		strcat(users, "user_mod_");
	strcat(users, " Live 0xffffffffc0200000\n");
	got = digest_of(users);
	if (got != want)
		fail_msg("a long line of users: digests %#llx and %#llx, expected equal",
			 (unsigned long long)want, (unsigned long long)got);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		got = digest_of(rows[i].other);
		if ((got == want) != rows[i].equal)
			fail_msg("%s: digests %#llx and %#llx, expected %s", rows[i].name,
				 (unsigned long long)want, (unsigned long long)got,
				 rows[i].equal ? "equal" : "different");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_symbolize, teardown),
		cmocka_unit_test_teardown(test_small_buffer, teardown),
		cmocka_unit_test_teardown(test_hidden, teardown),
		cmocka_unit_test_teardown(test_empty_file, teardown),
		cmocka_unit_test_teardown(test_null_table, teardown),
		cmocka_unit_test_teardown(test_missing_file, teardown),
		cmocka_unit_test_teardown(test_many_symbols, teardown),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_lookup_unreadable),
		cmocka_unit_test(test_lookup_long_line),
		cmocka_unit_test(test_modules_digest),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
