// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The page-table oracle (user/live/ptsnap.c, user/check/inv_oracle.c).
 *
 * The witness is not the checker: tests/data/ptsnap/lab-6.1-g16384.dump is
 * /sys/kernel/debug/iommu/intel/domain_translation_struct as the 6.1 lab
 * kernel printed it (granule 16 KiB, strict) right after the fixture's
 * `map_single 100 200 to` on the edu device (0000:00:04.0), and
 * lab-6.1-g16384.fx is the fixture's own result line for that call (its
 * phys and handle). What the edu device must map follows from those two
 * alone: the 16 KiB granule around the handle -> the granule around the
 * buffer, read-only (DMA_TO_DEVICE). The dump is cut after the edu device's
 * block (the LPC bridge's 16 MiB identity map, printed three times, is
 * left out).
 *
 * Table: the page-table writes a trace recorded for the edu device's
 * domain (a device's first dump is its start, empty here), then the
 * captured dump as the closing snapshot; expected: the oracle findings
 * (code, IOVA, length, phys) and counts.
 */
#include <fcntl.h>
#include <unistd.h>
#include "ev_builder.h"
#include "live/ptsnap.h"

#define DUMP	"tests/data/ptsnap/lab-6.1-g16384.dump"
#define FXLOG	"tests/data/ptsnap/lab-6.1-g16384.fx"
#define EDU	"0000:00:04.0"
#define G	16384ULL
#define DEV	0xffff888100a0c000ULL
#define DOM	0xffff888200001000ULL

/* The fixture's line: "id=2 cmd=map_single ... phys=P dma=D ..." */
static void fx_witness(__u64 *phys, __u64 *dma)
{
	char line[512], *p;
	FILE *f = fopen(FXLOG, "r");

	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_non_null(p = strstr(line, " phys="));
	*phys = strtoull(p + 6, NULL, 10);
	assert_non_null(p = strstr(line, " dma="));
	*dma = strtoull(p + 5, NULL, 10);
}

static struct ia_checker *ck;
static __u64 now_ns = 1000;

static int feed(void *ctx, const struct ia_ev_hdr *rec)
{
	(void)ctx;
	ia_checker_event(ck, rec, rec->size);
	return 0;
}

static void hdr(struct ia_ev_hdr *h, __u16 type, size_t size)
{
	memset(h, 0, size);
	h->type = type;
	h->size = (__u16)size;
	h->ts_ns = now_ns++;
}

static void device(void)
{
	struct ia_ev_device d;

	hdr(&d.hdr, IA_EV_DEVICE, sizeof(d));
	d.hdr.flags = IA_DEV_PCI;
	d.dev = DEV;
	d.domain = DOM;
	d.granule = G;
	d.page_size = 4096;
	d.pgsize_bitmap = G;
	d.domain_type = IA_DOMAIN_DMA;
	strcpy(d.name, EDU);
	strcpy(d.driver, "ia_fixture");
	feed(NULL, &d.hdr);
}

struct pt { __u16 type; __u64 iova, paddr, size; };
#define MAP(i, p, s)	{ IA_EV_PT_MAP, (i), (p), (s) }
#define UNMAP(i, s)	{ IA_EV_PT_UNMAP, (i), 0, (s) }

static void write_pt(const struct pt *w)
{
	struct ia_ev_pt e;

	hdr(&e.hdr, w->type, sizeof(e));
	e.hdr.flags = IA_PT_UNATTRIBUTED;
	e.domain = DOM;
	e.iova = w->iova;
	e.paddr = w->paddr;
	e.size = w->size;
	e.result = w->type == IA_EV_PT_UNMAP ? w->size : 0;
	feed(NULL, &e.hdr);
}

/* A snapshot of text (a dump), with writes recorded while it was read. */
static void snapshot(__u32 n, __u32 why, const char *text, const struct pt *inflight, size_t ninf)
{
	const char *only[] = { EDU };
	struct ia_ptsnap s = { 0 };
	FILE *f = fmemopen((void *)text, strlen(text), "r");

	assert_non_null(f);
	assert_int_equal(ia_ptsnap_parse(f, &s, only, 1, IA_PTSNAP_MAX_RANGES), 0);
	fclose(f);
	ia_ptsnap_emit_begin(n, why, now_ns++, feed, NULL);
	for (size_t i = 0; i < ninf; i++)
		write_pt(&inflight[i]);
	ia_ptsnap_emit_rest(&s, n, why, now_ns++, feed, NULL);
	ia_ptsnap_free(&s);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

struct want { const char *code; __u64 dma, len, phys; };

struct oracle_case {
	const char *name;
	struct pt before[4];	/* recorded before the closing snapshot */
	size_t nbefore;
	struct pt inflight[2];	/* recorded while it was read */
	size_t ninflight;
	bool seed_with_dump;	/* the start snapshot is the dump too */
	struct want want[3];
	size_t nwant;
	__u64 compared, tolerated;
};

/* Filled in from the fixture's line (the witness) by the test. */
static __u64 IOVA, PHYS;

static void run_case(const struct oracle_case *t, const char *dump)
{
	static const char empty[] = "Device " EDU " @0x3a13000\n"
		"IOVA_PFN\t\tPML5E\t\t\tPML4E\t\t\tPDPE\t\t\tPDE\t\t\tPTE\n\n";
	const struct ia_oracle_stats *st;
	const struct ia_finding *f;
	size_t n, bad = 0;

	ck = ia_checker_new();
	ia_checker_set_fold(ck, false);
	device();
	snapshot(1, IA_SNAP_START, t->seed_with_dump ? dump : empty, NULL, 0);
	for (size_t i = 0; i < t->nbefore; i++)
		write_pt(&t->before[i]);
	snapshot(2, IA_SNAP_STOP, dump, t->inflight, t->ninflight);
	ia_checker_finish(ck, 0);
	f = ia_checker_findings(ck, &n);
	st = ia_checker_oracle(ck);
	if (n != t->nwant)
		bad++;
	for (size_t i = 0; i < n && i < t->nwant; i++)
		if (strcmp(f[i].code, t->want[i].code) || f[i].dma != t->want[i].dma ||
		    f[i].len != t->want[i].len || f[i].phys != t->want[i].phys ||
		    strcmp(f[i].device, EDU) || f[i].value != 2)
			bad++;
	if (st->compared != t->compared || st->tolerated != t->tolerated || st->snapshots != 2 ||
	    st->differences != t->nwant)
		bad++;
	if (bad) {
		fprintf(stderr, "case %s:\n  expected %zu findings:\n", t->name, t->nwant);
		for (size_t i = 0; i < t->nwant; i++)
			fprintf(stderr, "    %s dma=0x%llx len=%llu phys=0x%llx\n", t->want[i].code,
				(unsigned long long)t->want[i].dma, (unsigned long long)t->want[i].len,
				(unsigned long long)t->want[i].phys);
		fprintf(stderr, "  got %zu:\n", n);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "    %s dma=0x%llx len=%llu phys=0x%llx dev=%s snap=%llu (%s)\n",
				f[i].code, (unsigned long long)f[i].dma, (unsigned long long)f[i].len,
				(unsigned long long)f[i].phys, f[i].device,
				(unsigned long long)f[i].value, f[i].message);
		fprintf(stderr, "  compared %llu (want %llu) tolerated %llu (want %llu) snapshots %llu\n",
			(unsigned long long)st->compared, (unsigned long long)t->compared,
			(unsigned long long)st->tolerated, (unsigned long long)t->tolerated,
			(unsigned long long)st->snapshots);
	}
	ia_checker_free(ck);
	assert_int_equal(bad, 0);
}

static void test_parse_lab_dump(void **state)
{
	struct ia_ptsnap s = { 0 };
	__u64 phys, dma;
	FILE *f = fopen(DUMP, "r");

	(void)state;
	fx_witness(&phys, &dma);
	assert_non_null(f);
	assert_int_equal(ia_ptsnap_parse(f, &s, NULL, 0, IA_PTSNAP_MAX_RANGES), 0);
	fclose(f);
	/* the five devices the cut dump names, in its order */
	assert_int_equal(s.n, 5);
	assert_string_equal(s.dev[0].name, "0000:00:00.0");
	assert_int_equal(s.dev[0].n, 0);	/* a domain with nothing mapped */
	assert_string_equal(s.dev[4].name, EDU);
	assert_int_equal(s.dev[4].pgd, 0x3a13000);
	assert_int_equal(s.dev[4].pasid, ~0u);
	/* the fixture's buffer: one granule, at the handle's granule */
	assert_int_equal(s.dev[4].n, 1);
	assert_int_equal(s.dev[4].r[0].iova, dma & ~(G - 1));
	assert_int_equal(s.dev[4].r[0].paddr, phys & ~(G - 1));
	assert_int_equal(s.dev[4].r[0].size, G);
	assert_int_equal(s.dev[4].r[0].prot, 1);	/* DMA_TO_DEVICE: read only */
	assert_int_equal(s.dev[4].r[0].level, 1);
	ia_ptsnap_free(&s);
}

/* 7.2's format (drivers/iommu/intel/debugfs.c of 7.2.13: the entries down
 * to the leaf only, "with pasid" in scalable mode), and a 2 MiB superpage:
 * written from its seq_printf()s, not captured. */
static void test_parse_72_format(void **state)
{
	static const char text[] =
		"Device 0000:00:04.0 @0x102a000\n"
		"IOVA_PFN         \tPML5E             \tPML4E             \tPDPE              \tPDE               \tPTE\n"
		"0x000000000fffc |\t0x0000000000000000\t0x0000000001034003\t0x0000000001035003\t0x0000000001036003\t0x000000007f6d4001\n"
		"0x000000000fffd |\t0x0000000000000000\t0x0000000001034003\t0x0000000001035003\t0x0000000001036003\t0x000000007f6d5001\n"
		"0x0000000000200 |\t0x0000000000000000\t0x0000000001034003\t0x0000000001035003\t0x0000000040000083\n"
		"Device 0000:00:04.0 with pasid 1 @0x2000000\n"
		"0x0000000000001 |\t0x0000000000000000\t0x0000000001034003\t0x0000000001035003\t0x0000000001036003\t0x0000000012345003\n";
	struct ia_ptsnap s = { 0 };
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");

	(void)state;
	assert_int_equal(ia_ptsnap_parse(f, &s, NULL, 0, IA_PTSNAP_MAX_RANGES), 0);
	fclose(f);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.dev[0].n, 2);	/* two 4K leaves joined, then the superpage */
	assert_int_equal(s.dev[0].r[0].iova, 0xfffc000);
	assert_int_equal(s.dev[0].r[0].paddr, 0x7f6d4000);
	assert_int_equal(s.dev[0].r[0].size, 8192);
	assert_int_equal(s.dev[0].r[1].iova, 0x200000);
	assert_int_equal(s.dev[0].r[1].paddr, 0x40000000);
	assert_int_equal(s.dev[0].r[1].size, 2 << 20);
	assert_int_equal(s.dev[0].r[1].level, 2);
	assert_int_equal(s.dev[0].r[1].prot, 3);
	assert_int_equal(s.dev[1].pasid, 1);
	assert_int_equal(s.dev[1].r[0].paddr, 0x12345000);
	ia_ptsnap_free(&s);
}

static void test_compare(void **state)
{
	char *dump = slurp(DUMP);
	__u64 dma;

	(void)state;
	fx_witness(&PHYS, &dma);
	IOVA = dma & ~(G - 1);
	PHYS &= ~(G - 1);
	{
		const struct oracle_case cases[] = {
		{ "the recorded write is what the page tables hold",
		  { MAP(IOVA, PHYS, G) }, 1, { }, 0, false, { }, 0, 1, 0 },
		{ "a write the trace missed",
		  { }, 0, { }, 0, false,
		  { { "oracle.not_in_trace", IOVA, G, PHYS } }, 1, 1, 0 },
		{ "half a write missed: the rest of the granule",
		  { MAP(IOVA, PHYS, 8192) }, 1, { }, 0, false,
		  { { "oracle.not_in_trace", IOVA + 8192, 8192, PHYS + 8192 } }, 1, 1, 0 },
		{ "a removal the trace missed (another granule still mapped in the shadow)",
		  { MAP(IOVA, PHYS, G), MAP(IOVA - G, 0x1000000, G) }, 2, { }, 0, false,
		  { { "oracle.not_in_page_tables", IOVA - G, G, 0x1000000 } }, 1, 1, 0 },
		{ "mapped to other memory",
		  { MAP(IOVA, PHYS + G, G) }, 1, { }, 0, false,
		  { { "oracle.phys_mismatch", IOVA, G, PHYS } }, 1, 1, 0 },
		{ "written while the dump was read: in flight, tolerated",
		  { }, 0, { MAP(IOVA, PHYS, G) }, 1, false, { }, 0, 1, 0 },
		{ "written wrong while the dump was read: in flight, tolerated",
		  { }, 0, { MAP(IOVA, PHYS + G, G) }, 1, false, { }, 0, 1, 1 },
		{ "removed while the dump was read (the dump still has it): in flight",
		  { MAP(IOVA, PHYS, G) }, 1, { UNMAP(IOVA, G) }, 1, false, { }, 0, 1, 1 },
		{ "mapped before the recording: the start snapshot says so",
		  { }, 0, { }, 0, true, { }, 0, 1, 0 },
		{ "mapped before the recording, unmapped in it, still in the page tables",
		  { UNMAP(IOVA, G) }, 1, { }, 0, true,
		  { { "oracle.not_in_trace", IOVA, G, PHYS } }, 1, 1, 0 },
		};

		for (size_t i = 0; i < EB_N(cases); i++)
			run_case(&cases[i], dump);
	}
	free(dump);
}

/*
 * A device the trace names only after the start snapshot (its first
 * request comes later): its dump waits for its device record, then is its
 * domain's start; a mapping it showed, unmapped by a request, counts as a
 * snapshot_unmaps, not preexisting_unmaps.
 */
static void test_seed_late_device(void **state)
{
	char *dump = slurp(DUMP);
	const struct ia_check_dev *d;
	__u64 phys, dma;
	size_t n;

	(void)state;
	fx_witness(&phys, &dma);
	ck = ia_checker_new();
	snapshot(1, IA_SNAP_START, dump, NULL, 0);	/* no device record yet */
	device();
	{
		struct ia_ev_req r;

		/* dma_unmap_single() of the handle the dump shows */
		hdr(&r.hdr, IA_EV_REQ, sizeof(r));
		r.hdr.req_id = 77;
		r.kind = IA_REQ_UNMAP_PAGE;
		r.dev = DEV;
		r.dma = dma;
		r.size = 200;
		r.dir = 1;
		r.stack_id = -1;
		/* the removal carries the request's id */
		{
			struct ia_ev_pt e;

			hdr(&e.hdr, IA_EV_PT_UNMAP, sizeof(e));
			e.hdr.req_id = 77;
			e.domain = DOM;
			e.iova = dma & ~(G - 1);
			e.size = G;
			e.result = G;
			feed(NULL, &e.hdr);
		}
		feed(NULL, &r.hdr);
	}
	ia_checker_finish(ck, 0);
	d = ia_checker_devices(ck, &n);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].snapshot_unmaps, 1);
	assert_int_equal(d[0].preexisting, 0);
	ia_checker_findings(ck, &n);
	assert_int_equal(n, 0);
	ia_checker_free(ck);
	free(dump);
}

/* Hostile records: ranges past the record, past 2^64, too many: malformed,
 * never read; an END without BEGIN: nothing. */
static void test_hostile(void **state)
{
	union { struct ia_ev_pt_snap e; __u64 q[64]; } b;

	(void)state;
	ck = ia_checker_new();
	memset(&b, 0, sizeof(b));
	hdr(&b.e.hdr, IA_EV_PT_SNAP, sizeof(b.e) + sizeof(b.e.r[0]));
	b.e.snap = 1;
	b.e.why = IA_SNAP_START;
	b.e.count = 2;			/* claims two, holds one */
	b.e.r[0].size = 4096;
	b.e.r[0].level = 1;
	feed(NULL, &b.e.hdr);
	b.e.count = 1;
	b.e.r[0].iova = ~0ULL - 100;	/* wraps */
	feed(NULL, &b.e.hdr);
	b.e.r[0].iova = 0;
	b.e.r[0].level = 9;		/* no such level */
	feed(NULL, &b.e.hdr);
	b.e.r[0].level = 1;
	b.e.why = 99;
	feed(NULL, &b.e.hdr);
	assert_int_equal(ia_checker_malformed(ck), 4);
	b.e.why = IA_SNAP_STOP;
	b.e.hdr.flags = IA_SNAP_END;	/* no BEGIN */
	feed(NULL, &b.e.hdr);
	assert_int_equal(ia_checker_oracle(ck)->snapshots, 0);
	ia_checker_free(ck);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_lab_dump),
		cmocka_unit_test(test_parse_72_format),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_seed_late_device),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
