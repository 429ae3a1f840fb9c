// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Comparing two runs (user/out/rundiff.c, `iommu-audit diff`): each case runs
 * an OLD and a NEW event stream into checkers of their own, compares them,
 * and asserts the exact classification of every finding (new, fixed,
 * changed, unchanged; failing or not), and per device its pairing, the
 * context changes and the deltas of its totals.
 *
 * The numbers, worked out as in test_inv_exposure.c: a 200-byte buffer at
 * offset 100 of a 4K page, mapped by one 4K write, exposes 3896 bytes
 * (MAP1); an allocation of one page inside a 16K granule maps 16K and
 * exposes the 3 other pages, 12288 bytes (ALLOC).
 */
#define _GNU_SOURCE
#include "ev_builder.h"
#include "lib/json.h"
#include "json_valid.h"
#include "out/rundiff.h"

#define P	0x200000000ULL
#define EB_DEV_C	0xffff888100c0c000ULL	/* named EB_NAME_A too (eb_ev_device) */
#define EB_DOM_C	0xffff888200003000ULL

/* a sub-page buffer at call site n, and its unmap */
#define MAP1(n)		S_MAP(.site = (n), .phys = P + 100, .size = 200, .dma = 0xfffff064)
#define UNMAP1		S_UNMAP(.dma = 0xfffff064, .size = 200)
#define MAP1_B		S_MAP(.dev = EB_DEV_B, .site = 1, .phys = P + 100, .size = 200,	\
			      .dma = 0xfffff064)
#define UNMAP1_B	S_UNMAP(.dev = EB_DEV_B, .dma = 0xfffff064, .size = 200)
/* one page allocated at P+0x5000, freed */
#define ALLOC		S_ALLOC(.site = 2, .phys = P + 0x5000, .size = 0x1000, .dma = 0xfff01000)
#define FREE		S_UNMAP(.kind = IA_REQ_FREE, .dma = 0xfff01000, .size = 0x1000)

#define SUB		"exposure.sub_page"
#define UNREL		"exposure.unrelated_pages"
#define SIZE_MISMATCH	"lifecycle.size_mismatch"

struct want_finding {
	enum ia_diff_status st;
	const char *code;	/* NULL: end of the list */
	const char *device;	/* NULL: EB_NAME_A */
	bool fails;
	__u64 old_count, new_count;	/* compared when that run has it */
};

struct want_dev {
	const char *name;	/* NULL: end of the list */
	bool in_old, in_new, differs;
	__u32 changed;
	__s64 maps, req, mapped, exposed, pages;	/* NEW - OLD */
	__u64 old_granule, new_granule;
};

struct diff_case {
	const char *name;
	struct eb_step old[EB_MAX_STEPS], new[EB_MAX_STEPS];
	__u64 new_lost;		/* events the NEW run lost */
	const char *fail_on;	/* NULL: error */
	const char *only[2];	/* --device */
	struct want_finding f[6];
	struct want_dev d[3];
};

/* A finished checker of its own for steps (eb_w holds one at a time). */
static struct ia_checker *run_steps(const struct eb_step *steps, size_t n, __u64 lost)
{
	struct ia_checker *c;

	eb_begin();
	eb_run(steps, n);
	ia_checker_finish(eb_w.c, lost);
	c = eb_w.c;
	eb_w.c = NULL;
	eb_end();
	return c;
}

static int check_findings(const struct diff_case *k, const struct ia_rundiff *d)
{
	bool used[16] = { false };
	size_t nw = 0, want_count[IA_DIFF_STATUS_MAX] = { 0 }, want_failing = 0;
	int bad = 0;

	for (; nw < EB_N(k->f) && k->f[nw].code; nw++) {
		const struct want_finding *w = &k->f[nw];
		const char *dev = w->device ? w->device : EB_NAME_A;
		const struct ia_diff_finding *got = NULL;

		want_count[w->st]++;
		want_failing += w->fails;
		for (size_t i = 0; i < d->nfindings && i < EB_N(used); i++) {
			const struct ia_finding *f = d->findings[i].new ? d->findings[i].new :
									  d->findings[i].old;

			if (!used[i] && d->findings[i].status == w->st &&
			    !strcmp(f->code, w->code) && !strcmp(f->device, dev)) {
				used[i] = true;
				got = &d->findings[i];
				break;
			}
		}
		if (!got) {
			print_error("FAIL [%s] no %s finding %s on %s\n", k->name,
				    ia_diff_status_str(w->st), w->code, dev);
			bad++;
			continue;
		}
		bad += eb_field(k->name, "fails", got->fails, w->fails);
		bad += eb_field(k->name, "has old", !!got->old, w->st != IA_DIFF_NEW);
		bad += eb_field(k->name, "has new", !!got->new, w->st != IA_DIFF_FIXED);
		if (got->old)
			bad += eb_field(k->name, "old count", got->old->count, w->old_count);
		if (got->new)
			bad += eb_field(k->name, "new count", got->new->count, w->new_count);
	}
	for (size_t i = 0; i < d->nfindings && i < EB_N(used); i++)
		if (!used[i]) {
			const struct ia_finding *f = d->findings[i].new ? d->findings[i].new :
									  d->findings[i].old;

			print_error("FAIL [%s] unexpected %s finding %s on %s\n", k->name,
				    ia_diff_status_str(d->findings[i].status), f->code, f->device);
			bad++;
		}
	bad += eb_field(k->name, "findings", d->nfindings, nw);
	for (int s = 0; s < IA_DIFF_STATUS_MAX; s++)
		bad += eb_field(k->name, ia_diff_status_str(s), d->count[s], want_count[s]);
	bad += eb_field(k->name, "failing", d->failing, want_failing);
	/* the groups come in order: NEW, FIXED, CHANGED, UNCHANGED */
	for (size_t i = 1; i < d->nfindings; i++)
		bad += eb_field(k->name, "findings grouped by status",
				d->findings[i].status < d->findings[i - 1].status, 0);
	return bad;
}

static int check_devices(const struct diff_case *k, const struct ia_rundiff *d)
{
	size_t nw = 0, differ = 0;
	int bad = 0;
	char what[96];

	for (; nw < EB_N(k->d) && k->d[nw].name; nw++) {
		const struct want_dev *w = &k->d[nw];
		const struct ia_diff_dev *e = NULL;

		differ += w->differs;
		for (size_t i = 0; i < d->ndevs; i++)
			if (!strcmp(d->devs[i].name, w->name))
				e = &d->devs[i];
		if (!e) {
			print_error("FAIL [%s] device %s missing\n", k->name, w->name);
			bad++;
			continue;
		}
#define DEV_CMP(label, got, exp)	do {					\
		snprintf(what, sizeof(what), "%s %s", w->name, label);		\
		bad += eb_field(k->name, what, (got), (exp));			\
	} while (0)
		DEV_CMP("in_old", e->in_old, w->in_old);
		DEV_CMP("in_new", e->in_new, w->in_new);
		DEV_CMP("differs", e->differs, w->differs);
		DEV_CMP("changed", e->changed, w->changed);
		DEV_CMP("delta maps", (__s64)(e->new.maps - e->old.maps), w->maps);
		DEV_CMP("delta requested",
			(__s64)(e->new.bytes_requested - e->old.bytes_requested), w->req);
		DEV_CMP("delta mapped", (__s64)(e->new.bytes_mapped - e->old.bytes_mapped),
			w->mapped);
		DEV_CMP("delta exposed", (__s64)(e->new.bytes_exposed - e->old.bytes_exposed),
			w->exposed);
		DEV_CMP("delta pages", (__s64)(e->new.pages_exposed - e->old.pages_exposed),
			w->pages);
		if (w->old_granule)
			DEV_CMP("old granule", e->old.granule, w->old_granule);
		if (w->new_granule)
			DEV_CMP("new granule", e->new.granule, w->new_granule);
#undef DEV_CMP
	}
	bad += eb_field(k->name, "devices", d->ndevs, nw);
	bad += eb_field(k->name, "devices that differ", d->devs_differ, differ);
	for (size_t i = 1; i < d->ndevs; i++)
		bad += eb_field(k->name, "devices sorted by name",
				strcmp(d->devs[i - 1].name, d->devs[i].name) < 0, 1);
	return bad;
}

/* Compare the case's two runs; the checkers are the caller's to free. */
static void diff_case(const struct diff_case *k, struct ia_rundiff *d, struct ia_checker **old,
		      struct ia_checker **new)
{
	struct ia_diff_opts o = {
		.fail_level = ia_severity_parse(k->fail_on ? k->fail_on : "error"),
		.devices = k->only,
	};

	while (o.nr_devices < EB_N(k->only) && k->only[o.nr_devices])
		o.nr_devices++;
	*old = run_steps(k->old, EB_N(k->old), 0);
	*new = run_steps(k->new, EB_N(k->new), k->new_lost);
	assert_int_equal(ia_rundiff_build(d, *old, *new, &o), 0);
}

static int run_case(const struct diff_case *k)
{
	struct ia_checker *old, *new;
	struct ia_rundiff d;
	int bad;

	diff_case(k, &d, &old, &new);
	bad = check_findings(k, &d) + check_devices(k, &d);
	ia_rundiff_free(&d);
	ia_checker_free(old);
	ia_checker_free(new);
	return bad;
}

static void run_table(const char *table, const struct diff_case *cases, size_t n)
{
	int failed = 0;

	for (size_t i = 0; i < n; i++)
		failed += run_case(&cases[i]) > 0;
	if (failed)
		fail_msg("%s: %d of %zu case(s) failed (details above)", table, failed, n);
}

/* ---- findings ---------------------------------------------------------------- */

#define DEV_SAME	{ EB_NAME_A, true, true, false }

static const struct diff_case finding_cases[] = {
	{ "identical runs: everything unchanged",
	  { S_DEVICE(), MAP1(1), UNMAP1 }, { S_DEVICE(), MAP1(1), UNMAP1 }, 0, NULL, { NULL },
	  { { IA_DIFF_UNCHANGED, SUB, .old_count = 1, .new_count = 1 } },
	  { DEV_SAME } },
	/* one more map at a new call site: maps +1, 200 requested, 4096
	 * mapped, 3896 exposed */
	{ "a new call site exposing memory: NEW, info does not fail at error",
	  { S_DEVICE(), MAP1(1), UNMAP1 }, { S_DEVICE(), MAP1(1), UNMAP1, MAP1(3), UNMAP1 },
	  0, NULL, { NULL },
	  { { IA_DIFF_UNCHANGED, SUB, .old_count = 1, .new_count = 1 },
	    { IA_DIFF_NEW, SUB, .new_count = 1 } },
	  { { EB_NAME_A, true, true, true, 0, 1, 200, 4096, 3896, 0 } } },
	{ "the same NEW finding fails at --fail-on info",
	  { S_DEVICE(), MAP1(1), UNMAP1 }, { S_DEVICE(), MAP1(1), UNMAP1, MAP1(3), UNMAP1 },
	  0, "info", { NULL },
	  { { IA_DIFF_UNCHANGED, SUB, .old_count = 1, .new_count = 1 },
	    { IA_DIFF_NEW, SUB, .fails = true, .new_count = 1 } },
	  { { EB_NAME_A, true, true, true, 0, 1, 200, 4096, 3896, 0 } } },
	{ "a NEW finding from a run that lost events is uncertain: never fails",
	  { S_DEVICE(), MAP1(1), UNMAP1 }, { S_DEVICE(), MAP1(1), UNMAP1, MAP1(3), UNMAP1 },
	  1, "info", { NULL },
	  { { IA_DIFF_UNCHANGED, SUB, .old_count = 1, .new_count = 1 },
	    { IA_DIFF_NEW, SUB, .new_count = 1 } },
	  { { EB_NAME_A, true, true, true, 0, 1, 200, 4096, 3896, 0 } } },
	/* OLD unmaps 100 of the 200 bytes it mapped */
	{ "an unmap size corrected: FIXED, nothing fails",
	  { S_DEVICE(), MAP1(1), S_UNMAP(.dma = 0xfffff064, .size = 100) },
	  { S_DEVICE(), MAP1(1), UNMAP1 }, 0, "info", { NULL },
	  { { IA_DIFF_FIXED, SIZE_MISMATCH, .old_count = 1 },
	    { IA_DIFF_UNCHANGED, SUB, .old_count = 1, .new_count = 1 } },
	  { DEV_SAME } },
	{ "an unmap size broken: NEW error, fails at the default level",
	  { S_DEVICE(), MAP1(1), UNMAP1 },
	  { S_DEVICE(), MAP1(1), S_UNMAP(.dma = 0xfffff064, .size = 100) }, 0, NULL, { NULL },
	  { { IA_DIFF_NEW, SIZE_MISMATCH, .fails = true, .new_count = 1 },
	    { IA_DIFF_UNCHANGED, SUB, .old_count = 1, .new_count = 1 } },
	  { DEV_SAME } },
	/* the same call site twice: the finding folds to x2, totals double */
	{ "more occurrences of a finding: CHANGED, never failing",
	  { S_DEVICE(), MAP1(1), UNMAP1 }, { S_DEVICE(), MAP1(1), UNMAP1, MAP1(1), UNMAP1 },
	  0, "info", { NULL },
	  { { IA_DIFF_CHANGED, SUB, .old_count = 1, .new_count = 2 } },
	  { { EB_NAME_A, true, true, true, 0, 1, 200, 4096, 3896, 0 } } },
	{ "fewer occurrences: CHANGED the other way",
	  { S_DEVICE(), MAP1(1), UNMAP1, MAP1(1), UNMAP1 }, { S_DEVICE(), MAP1(1), UNMAP1 },
	  0, NULL, { NULL },
	  { { IA_DIFF_CHANGED, SUB, .old_count = 2, .new_count = 1 } },
	  { { EB_NAME_A, true, true, true, 0, -1, -200, -4096, -3896, 0 } } },
	/* a live mapping at the end of OLD only */
	{ "a leak plugged: lifecycle.live_at_end FIXED",
	  { S_DEVICE(), MAP1(1) }, { S_DEVICE(), MAP1(1), UNMAP1 }, 0, NULL, { NULL },
	  { { IA_DIFF_FIXED, "lifecycle.live_at_end", .old_count = 1 },
	    { IA_DIFF_UNCHANGED, SUB, .old_count = 1, .new_count = 1 } },
	  { DEV_SAME } },
};

static void test_findings(void **state)
{
	run_table("diff/findings", finding_cases, EB_N(finding_cases));
}

/* ---- devices ----------------------------------------------------------------- */

static const struct diff_case device_cases[] = {
	/* 4K: the page alone, nothing exposed; 16K: 16384 mapped, 12288
	 * exposed in 3 unrelated pages */
	{ "granule 4K -> 16K: unrelated pages NEW, the granule flagged",
	  { S_DEVICE(), ALLOC, FREE }, { S_DEVICE(.d = { .granule = 0x4000 }), ALLOC, FREE },
	  0, "warning", { NULL },
	  { { IA_DIFF_NEW, UNREL, .fails = true, .new_count = 1 } },
	  { { EB_NAME_A, true, true, true, IA_DIFF_GRANULE, 0, 0, 12288, 12288, 3,
	      4096, 16384 } } },
	{ "domain type DMA -> DMA-FQ flagged",
	  { S_DEVICE() }, { S_DEVICE(.d = { .domain_type = IA_DOMAIN_DMA_FQ }) },
	  0, NULL, { NULL }, { },
	  { { EB_NAME_A, true, true, true, IA_DIFF_DOMAIN_TYPE } } },
	{ "untrusted bit set flagged",
	  { S_DEVICE() }, { S_DEVICE(.d = { .flags = IA_DEV_UNTRUSTED }) },
	  0, NULL, { NULL }, { },
	  { { EB_NAME_A, true, true, true, IA_DIFF_UNTRUSTED } } },
	/* the fingerprint has the driver: the device pairs, its findings not */
	{ "driver nvme -> vfio-pci: device paired and flagged, findings fixed and new",
	  { S_DEVICE(), MAP1(1), UNMAP1 },
	  { S_DEVICE(.d = { .driver = "vfio-pci" }), MAP1(1), UNMAP1 }, 0, NULL, { NULL },
	  { { IA_DIFF_NEW, SUB, .new_count = 1 }, { IA_DIFF_FIXED, SUB, .old_count = 1 } },
	  { { EB_NAME_A, true, true, true, IA_DIFF_DRIVER } } },
	{ "a device only in NEW: its findings are NEW",
	  { S_DEVICE(), MAP1(1), UNMAP1 },
	  { S_DEVICE(), MAP1(1), UNMAP1, S_DEVICE(.dev = EB_DEV_B), MAP1_B, UNMAP1_B },
	  0, "info", { NULL },
	  { { IA_DIFF_NEW, SUB, EB_NAME_B, true, .new_count = 1 },
	    { IA_DIFF_UNCHANGED, SUB, .old_count = 1, .new_count = 1 } },
	  { DEV_SAME, { EB_NAME_B, false, true, true, 0, 1, 200, 4096, 3896, 0 } } },
	{ "a device only in OLD: its findings are FIXED",
	  { S_DEVICE(.dev = EB_DEV_B), MAP1_B, UNMAP1_B }, { S_DEVICE() }, 0, NULL, { NULL },
	  { { IA_DIFF_FIXED, SUB, EB_NAME_B, .old_count = 1 } },
	  { { EB_NAME_A, false, true, true },
	    { EB_NAME_B, true, false, true, 0, -1, -200, -4096, -3896, 0 } } },
	/* NEW: unplugged and plugged again, a second struct device of the same
	 * name: its rows add up, the findings fold */
	{ "two struct devices of one name add up",
	  { S_DEVICE(), MAP1(1), UNMAP1 },
	  { S_DEVICE(), MAP1(1), UNMAP1, S_DEVICE(.dev = EB_DEV_C, .dom = EB_DOM_C),
	    S_MAP(.dev = EB_DEV_C, .site = 1, .phys = P + 100, .size = 200, .dma = 0xfffff064),
	    S_UNMAP(.dev = EB_DEV_C, .dma = 0xfffff064, .size = 200) },
	  0, NULL, { NULL },
	  { { IA_DIFF_CHANGED, SUB, .old_count = 1, .new_count = 2 } },
	  { { EB_NAME_A, true, true, true, 0, 1, 200, 4096, 3896, 0 } } },
	/* A regresses, B does not; only B is compared */
	{ "--device B: A's differences are left out",
	  { S_DEVICE(), S_DEVICE(.dev = EB_DEV_B), MAP1_B, UNMAP1_B },
	  { S_DEVICE(), S_DEVICE(.dev = EB_DEV_B), MAP1_B, UNMAP1_B, MAP1(3), UNMAP1 },
	  0, "info", { EB_NAME_B },
	  { { IA_DIFF_UNCHANGED, SUB, EB_NAME_B, .old_count = 1, .new_count = 1 } },
	  { { EB_NAME_B, true, true, false } } },
};

static void test_devices(void **state)
{
	run_table("diff/devices", device_cases, EB_N(device_cases));
}

/* ---- output ------------------------------------------------------------------ */

static char *g_text;	/* freed by the teardown when an assertion fails */

static const char *render(const struct diff_case *k, bool json)
{
	struct ia_run_summary so = { .source = "old.trace", .kernel = "6.1.0", .records = 10,
				     .coverage_complete = true };
	struct ia_run_summary sn = { .source = "new.trace", .kernel = "6.1.0-lab", .records = 11,
				     .lost = 2, .coverage_complete = true };
	struct ia_checker *old, *new;
	struct ia_rundiff d;
	struct ia_json j;
	size_t len;
	FILE *f;

	free(g_text);
	g_text = NULL;
	f = open_memstream(&g_text, &len);
	assert_non_null(f);
	diff_case(k, &d, &old, &new);
	if (json) {
		ia_json_init(&j, f, false);
		ia_rundiff_json(&j, &d, &so, &sn, IA_SEV_WARNING);
	} else {
		ia_rundiff_print(f, &d, &so, &sn, IA_SEV_WARNING);
	}
	fclose(f);
	ia_rundiff_free(&d);
	ia_checker_free(old);
	ia_checker_free(new);
	return g_text;
}

static void expect_contains(const char *what, const char *text, const char *const *subs,
			    size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strstr(text, subs[i]))
			fail_msg("%s: \"%s\" not found in:\n%s", what, subs[i], text);
}

static void test_output(void **state)
{
	const struct diff_case *granule = &device_cases[0], *same = &finding_cases[0];
	static const char *const text_subs[] = {
		"old: old.trace (kernel 6.1.0, 10 records)",
		"0000:00:03.0   nvme       old      DMA        4096        1         4096         4096            0        0",
		"                          delta             +12288        0            0       +12288       +12288       +3",
		"changed: granule 4096 -> 16384;",
		"NEW (only in the new run: regressions)\nwarning exposure.unrelated_pages 0000:00:03.0 (nvme)",
		"1 new (1 at or above --fail-on=warning), 0 fixed, 0 changed, 0 unchanged; devices: 1 differ",
		"incomplete: new run lost 2 events",
	};
	static const char *const json_subs[] = {
		"\"fail_on\":\"warning\"", "\"changed\":[\"granule\"]",
		"\"delta\":{\"granule\":12288,\"maps\":0,\"bytes_requested\":0,\"bytes_mapped\":12288,"
		"\"bytes_exposed\":12288,\"pages_exposed\":3}",
		"{\"status\":\"new\",\"fails\":true,\"old\":null,\"new\":{\"invariant\":\"exposure\"",
		"\"summary\":{\"new\":1,\"fixed\":0,\"changed\":0,\"unchanged\":0,\"failing\":1,"
		"\"devices\":1,\"devices_differ\":1,\"no_change\":false}",
	};
	const char *s = render(granule, false);

	expect_contains("text", s, text_subs, EB_N(text_subs));
	s = render(granule, true);
	if (!json_valid(s))
		fail_msg("not valid JSON:\n%s", s);
	expect_contains("json", s, json_subs, EB_N(json_subs));
	s = render(same, false);
	if (!strstr(s, "no change: 1 findings and 1 devices the same in both runs\n"))
		fail_msg("identical runs: no \"no change\" line in:\n%s", s);
	s = render(same, true);
	if (!json_valid(s) || !strstr(s, "\"no_change\":true"))
		fail_msg("identical runs: JSON invalid or without no_change:\n%s", s);
}

static int teardown(void **state)
{
	free(g_text);
	g_text = NULL;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_findings),
		cmocka_unit_test(test_devices),
		cmocka_unit_test_teardown(test_output, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
