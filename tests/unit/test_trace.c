// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the trace file (user/trace/trace.c, docs/trace-format.md).
 *
 *   gcc -std=gnu11 -Wall -Wextra -Werror -Iuser -o test_trace \
 *       tests/unit/test_trace.c user/trace/trace.c -lcmocka -lz
 *
 * The offsets used to damage files on purpose are those of the format
 * document, written out here again so that a layout change that the document
 * does not follow fails a test.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "trace/trace.h"

/* ---- format constants, from docs/trace-format.md ---- */

#define HDR_FIXED	264	/* header without hooks */
#define HOOK_SIZE	128
#define TRL_SIZE	216	/* version 5: 17 record types (208 in version 4,
				 * 192 in version 3, 176 in versions 1, 2) */
#define TRL_SIZE_V2	176
#define NR_TYPES_V2	12
#define H_VERSION	8
#define H_SIZE		12
#define H_CRC		16
#define H_NR_HOOKS	40
#define H_RESERVED	44
#define H_KREL		48
#define H_TOOL		232
#define T_CRC		12
#define T_REC_BYTES	24
#define T_REC_COUNT	32
#define T_REC_CRC	40
#define T_NR_TYPES	44
#define T_PER_TYPE	56
#define T_LOST		192
#define T_LOST_V2	152

#define MAX_REC		0xfff8

/* ---- helpers ---- */

static char tmpdir[64];

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
	(void)state;
	strcpy(tmpdir, "/tmp/test_trace.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;

	(void)state;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlink(tpath(e->d_name));
	closedir(d);
	return rmdir(tmpdir);
}

static __u32 rd32(const unsigned char *p)
{
	return (__u32)p[0] | (__u32)p[1] << 8 | (__u32)p[2] << 16 | (__u32)p[3] << 24;
}

static __u64 rd64(const unsigned char *p)
{
	return (__u64)rd32(p) | (__u64)rd32(p + 4) << 32;
}

static void wr16(unsigned char *p, __u16 v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void wr32(unsigned char *p, __u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void wr64(unsigned char *p, __u64 v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

/* CRC32 of a block whose 4-byte CRC field at off counts as zero. */
static __u32 block_crc(const unsigned char *p, size_t n, size_t off)
{
	static const unsigned char zero[4];
	uLong c = crc32(0, p, off);

	c = crc32(c, zero, 4);
	return (__u32)crc32(c, p + off + 4, n - off - 4);
}

static void fix_header_crc(unsigned char *f)
{
	wr32(f + H_CRC, block_crc(f, rd32(f + H_SIZE), H_CRC));
}

static void fix_trailer_crc(unsigned char *f, size_t len)
{
	unsigned char *t = f + len - TRL_SIZE;

	wr32(t + T_CRC, block_crc(t, TRL_SIZE, T_CRC));
}

/*
 * Turn a version 3 trace of len bytes (records of types below 12 only) into
 * the version 2 file the same records make: version 2 in the header, the
 * 176-byte trailer of 12 per-type counts. Returns the new length.
 */
static size_t to_v2(unsigned char *f, size_t len)
{
	unsigned char *t = f + len - TRL_SIZE, v2[TRL_SIZE_V2];

	memcpy(v2, t, T_PER_TYPE + 8 * NR_TYPES_V2);
	memcpy(v2 + T_LOST_V2, t + T_LOST, TRL_SIZE_V2 - T_LOST_V2);
	wr32(v2 + 8, TRL_SIZE_V2);
	wr32(v2 + T_NR_TYPES, NR_TYPES_V2);
	wr32(v2 + T_CRC, block_crc(v2, TRL_SIZE_V2, T_CRC));
	memcpy(t, v2, TRL_SIZE_V2);
	wr32(f + H_VERSION, 2);
	fix_header_crc(f);
	return len - TRL_SIZE + TRL_SIZE_V2;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void spit(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static size_t struct_size(__u16 type)
{
	switch (type) {
	case IA_EV_DEVICE:	return sizeof(struct ia_ev_device);
	case IA_EV_REQ:		return sizeof(struct ia_ev_req);
	case IA_EV_SG:		return sizeof(struct ia_ev_sg);
	case IA_EV_PT_MAP:
	case IA_EV_PT_UNMAP:
	case IA_EV_TP_MAP:
	case IA_EV_TP_UNMAP:	return sizeof(struct ia_ev_pt);
	case IA_EV_BOUNCE:	return sizeof(struct ia_ev_bounce);
	case IA_EV_IOVA_FREE:	return sizeof(struct ia_ev_iova_free);
	case IA_EV_FQ_FLUSH:	return sizeof(struct ia_ev_fq_flush);
	case IA_EV_IOVA:	return 128;	/* version 3's two */
	case IA_EV_TP_DMA:	return 104;
	case IA_EV_PAGE:	return 112;	/* version 4's two */
	case IA_EV_FREED:	return 88;
	case IA_EV_PT_SNAP:	return 96;	/* version 5's, without ranges */
	}
	return 0;
}

/* An 8-byte aligned record buffer of the largest size a record can have. */
union recbuf {
	struct ia_ev_hdr hdr;
	__u64 q[MAX_REC / 8];
	unsigned char b[MAX_REC];
};

/* A record of type, hdr.size = struct size + extra, contents from seed. */
static struct ia_ev_hdr *make_rec(union recbuf *rb, __u16 type, size_t extra, __u64 seed)
{
	size_t size = struct_size(type) + extra;
	__u64 x = seed * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		rb->b[i] = (unsigned char)x;
	}
	rb->hdr.type = type;
	rb->hdr.size = (__u16)size;
	rb->hdr.ts_ns = 1000000 + seed;
	rb->hdr.req_id = seed;
	if (type == IA_EV_SG)
		((struct ia_ev_sg *)rb)->count = IA_SG_CHUNK;
	if (type == IA_EV_DEVICE) {
		struct ia_ev_device *d = (struct ia_ev_device *)rb;

		strcpy(d->name, "0000:00:03.0");
		strcpy(d->driver, "e1000e");
		strcpy(d->bus, "pci");
	}
	return &rb->hdr;
}

static void make_meta(struct ia_trace_meta *m, unsigned nr_hooks)
{
	static const __u32 states[] = { IA_HOOK_ATTACHED, IA_HOOK_MISSING, IA_HOOK_FAILED,
					IA_HOOK_ABSENT };

	memset(m, 0, sizeof(*m));
	strcpy(m->kernel_release, "6.1.0-28-amd64");
	m->page_size = 4096;
	strcpy(m->boot_id, "0f5c2d3e-8a1b-4c6d-9e7f-0123456789ab");
	strcpy(m->hostname, "testhost");
	strcpy(m->tool_version, "0.1.0-test");
	m->start_realtime_ns = 1732590000123456789ull;
	m->start_monotonic_ns = 98765432101ull;
	for (unsigned i = 0; i < nr_hooks; i++) {
		char name[48], reason[76];

		snprintf(name, sizeof(name), "fexit/hook_%u", i);
		if (i % 3)
			snprintf(reason, sizeof(reason), "reason %u", i);
		else
			reason[0] = 0;
		assert_int_equal(ia_trace_meta_add_hook(m, name, states[i % 4], reason), 0);
	}
}

/* The records of the small trace most tests damage. */
static const struct { __u16 type; size_t extra; } small_recs[] = {
	{ IA_EV_REQ, 0 },
	{ IA_EV_DEVICE, 0 },
	{ IA_EV_SG, 0 },
	{ IA_EV_FQ_FLUSH, 8 },
	{ IA_EV_PT_MAP, 0 },
};
#define NR_SMALL (sizeof(small_recs) / sizeof(small_recs[0]))

static const __u64 small_lost[IA_DROP_MAX] = { 7, 0, 3 };

static void write_small(const char *path)
{
	struct ia_trace_meta m;
	union recbuf rb;
	char err[256] = "";
	struct ia_trace_writer *w;

	make_meta(&m, 2);
	w = ia_trace_create(path, &m, err, sizeof(err));
	if (!w)
		fail_msg("ia_trace_create: %s", err);
	for (size_t i = 0; i < NR_SMALL; i++)
		assert_int_equal(ia_trace_write(w, make_rec(&rb, small_recs[i].type,
							   small_recs[i].extra, i)), 0);
	if (ia_trace_finish(w, small_lost, err, sizeof(err)))
		fail_msg("ia_trace_finish: %s", err);
}

/* Where record i of the small trace starts (i = NR_SMALL: the trailer). */
static size_t small_rec_off(size_t i)
{
	size_t off = HDR_FIXED + 2 * HOOK_SIZE;

	for (size_t k = 0; k < i; k++)
		off += struct_size(small_recs[k].type) + small_recs[k].extra;
	return off;
}

struct outcome {
	int code;		/* 0 or what failed */
	int open_failed;	/* the error came from ia_trace_open_ex */
	__u64 records;		/* records ia_trace_next returned */
	char msg[512];
	struct ia_trace_stats stats;	/* when code == 0 */
};

/* Open path and read every record; never asserts on the outcome. */
static void read_all(const char *path, struct outcome *o)
{
	struct ia_trace_reader *r;
	const struct ia_ev_hdr *rec;
	int ret;

	memset(o, 0, sizeof(*o));
	o->code = ia_trace_open_ex(path, &r, o->msg, sizeof(o->msg));
	if (o->code) {
		o->open_failed = 1;
		assert_null(r);
		assert_true(o->msg[0] != 0);
		return;
	}
	assert_null(ia_trace_stats(r));
	while ((ret = ia_trace_next(r, &rec)) == 1) {
		o->records++;
		assert_true(rec->size >= sizeof(*rec));
		assert_int_equal((uintptr_t)rec % 8, 0);
	}
	o->code = ret;
	if (ret == 0) {
		assert_non_null(ia_trace_stats(r));
		o->stats = *ia_trace_stats(r);
		assert_string_equal(ia_trace_error(r), "");
	} else {
		snprintf(o->msg, sizeof(o->msg), "%s", ia_trace_error(r));
		assert_true(o->msg[0] != 0);
		assert_null(ia_trace_stats(r));
		/* sticky */
		assert_int_equal(ia_trace_next(r, &rec), ret);
		assert_null(rec);
	}
	ia_trace_close(r);
}

static void expect_code(const char *what, const struct outcome *o, int want)
{
	if (o->code != want)
		fail_msg("%s: got %d (%s), want %d (%s); message: \"%s\"", what, o->code,
			 ia_trace_strerror(o->code), want, ia_trace_strerror(want), o->msg);
}

static void expect_msg(const char *what, const struct outcome *o, const char *sub)
{
	if (!strstr(o->msg, sub))
		fail_msg("%s: message \"%s\" does not contain \"%s\"", what, o->msg, sub);
}

/* ---- round trip ---- */

static void test_roundtrip(void **state)
{
	static const struct { __u16 type; size_t extra; } recs[] = {
		{ IA_EV_DEVICE, 0 }, { IA_EV_REQ, 0 }, { IA_EV_SG, 0 },
		{ IA_EV_PT_MAP, 0 }, { IA_EV_PT_UNMAP, 0 }, { IA_EV_TP_MAP, 0 },
		{ IA_EV_TP_UNMAP, 0 }, { IA_EV_BOUNCE, 0 }, { IA_EV_IOVA_FREE, 0 },
		{ IA_EV_FQ_FLUSH, 0 }, { IA_EV_REQ, 0 }, { IA_EV_REQ, 16 },
		{ IA_EV_SG, 0 }, { IA_EV_FQ_FLUSH, MAX_REC - 40 },
		{ IA_EV_IOVA, 0 }, { IA_EV_TP_DMA, 0 }, { IA_EV_IOVA, 8 },
		{ IA_EV_PT_SNAP, 0 }, { IA_EV_PT_SNAP, 2 * 32 },	/* two ranges */
	};
	enum { N = sizeof(recs) / sizeof(recs[0]) };
	static union recbuf want[N];
	static struct ia_trace_meta m;
	const char *path = tpath("roundtrip.iat");
	const struct ia_trace_meta *got;
	const struct ia_trace_stats *st;
	const struct ia_ev_hdr *rec;
	struct ia_trace_reader *r;
	struct ia_trace_writer *w;
	__u64 per_type[IA_EV_TYPE_MAX] = { 0 };
	const __u64 lost[IA_DROP_MAX] = { 11, 22, 33 };
	char err[256] = "";
	__u64 bytes = 0;
	uLong crc = crc32(0, NULL, 0);
	size_t n = 0;
	int ret;

	(void)state;
	make_meta(&m, 5);
	/* longest strings that fit */
	memset(m.kernel_release, 'k', sizeof(m.kernel_release) - 1);
	memset(m.hostname, 'h', sizeof(m.hostname) - 1);
	memset(m.tool_version, 'v', sizeof(m.tool_version) - 1);
	memset(m.hooks[4].name, 'n', sizeof(m.hooks[4].name) - 1);
	memset(m.hooks[4].reason, 'r', sizeof(m.hooks[4].reason) - 1);

	w = ia_trace_create(path, &m, err, sizeof(err));
	if (!w)
		fail_msg("ia_trace_create: %s", err);
	for (size_t i = 0; i < N; i++) {
		make_rec(&want[i], recs[i].type, recs[i].extra, i + 100);
		assert_int_equal(ia_trace_write(w, &want[i].hdr), 0);
		per_type[recs[i].type]++;
		bytes += want[i].hdr.size;
		crc = crc32(crc, want[i].b, want[i].hdr.size);
	}
	assert_string_equal(ia_trace_writer_error(w), "");
	ret = ia_trace_finish(w, lost, err, sizeof(err));
	if (ret)
		fail_msg("ia_trace_finish: %d %s", ret, err);

	r = ia_trace_open(path, err, sizeof(err));
	if (!r)
		fail_msg("ia_trace_open: %s", err);
	got = ia_trace_meta(r);
	assert_string_equal(got->kernel_release, m.kernel_release);
	assert_int_equal(got->page_size, m.page_size);
	assert_string_equal(got->boot_id, m.boot_id);
	assert_string_equal(got->hostname, m.hostname);
	assert_string_equal(got->tool_version, m.tool_version);
	assert_int_equal(got->start_realtime_ns, m.start_realtime_ns);
	assert_int_equal(got->start_monotonic_ns, m.start_monotonic_ns);
	assert_int_equal(got->nr_hooks, m.nr_hooks);
	for (__u32 i = 0; i < m.nr_hooks; i++) {
		assert_string_equal(got->hooks[i].name, m.hooks[i].name);
		assert_int_equal(got->hooks[i].state, m.hooks[i].state);
		assert_string_equal(got->hooks[i].reason, m.hooks[i].reason);
	}
	assert_null(ia_trace_stats(r));

	while ((ret = ia_trace_next(r, &rec)) == 1) {
		assert_in_range(n, 0, N - 1);
		assert_int_equal(rec->size, want[n].hdr.size);
		assert_memory_equal(rec, want[n].b, want[n].hdr.size);
		n++;
	}
	if (ret)
		fail_msg("ia_trace_next: %d %s", ret, ia_trace_error(r));
	assert_int_equal(n, N);
	st = ia_trace_stats(r);
	assert_non_null(st);
	assert_int_equal(st->records, N);
	assert_int_equal(st->bytes, bytes);
	assert_int_equal(st->crc32, (__u32)crc);
	for (int i = 0; i < IA_EV_TYPE_MAX; i++)
		assert_int_equal(st->per_type[i], per_type[i]);
	for (int i = 0; i < IA_DROP_MAX; i++)
		assert_int_equal(st->lost[i], lost[i]);
	/* the end stays the end */
	assert_int_equal(ia_trace_next(r, &rec), 0);
	assert_null(rec);
	assert_string_equal(ia_trace_error(r), "");
	ia_trace_close(r);
}

/* The bytes on disk match the documented layout. */
static void test_layout(void **state)
{
	const char *path = tpath("layout.iat");
	size_t len;
	unsigned char *f;
	__u64 rec_bytes = small_rec_off(NR_SMALL) - small_rec_off(0);
	uLong crc;

	(void)state;
	write_small(path);
	f = slurp(path, &len);
	assert_int_equal(len, small_rec_off(NR_SMALL) + TRL_SIZE);
	assert_memory_equal(f, "IATRACE\0", 8);
	assert_int_equal(rd32(f + H_VERSION), IA_TRACE_VERSION);
	assert_int_equal(rd32(f + H_SIZE), HDR_FIXED + 2 * HOOK_SIZE);
	assert_int_equal(rd32(f + H_CRC), block_crc(f, HDR_FIXED + 2 * HOOK_SIZE, H_CRC));
	assert_int_equal(rd32(f + 20), 4096);
	assert_int_equal(rd64(f + 24), 1732590000123456789ull);
	assert_int_equal(rd64(f + 32), 98765432101ull);
	assert_int_equal(rd32(f + H_NR_HOOKS), 2);
	assert_int_equal(rd32(f + H_RESERVED), 0);
	assert_string_equal((char *)f + H_KREL, "6.1.0-28-amd64");
	assert_string_equal((char *)f + 120, "0f5c2d3e-8a1b-4c6d-9e7f-0123456789ab");
	assert_string_equal((char *)f + 160, "testhost");
	assert_string_equal((char *)f + H_TOOL, "0.1.0-test");
	assert_string_equal((char *)f + HDR_FIXED, "fexit/hook_0");
	assert_int_equal(rd32(f + HDR_FIXED + 48), IA_HOOK_ATTACHED);
	assert_string_equal((char *)f + HDR_FIXED + 52, "");
	assert_string_equal((char *)f + HDR_FIXED + HOOK_SIZE, "fexit/hook_1");
	assert_int_equal(rd32(f + HDR_FIXED + HOOK_SIZE + 48), IA_HOOK_MISSING);
	assert_string_equal((char *)f + HDR_FIXED + HOOK_SIZE + 52, "reason 1");
	/* unused string bytes are zero */
	for (size_t i = H_KREL + strlen("6.1.0-28-amd64"); i < 120; i++)
		assert_int_equal(f[i], 0);

	unsigned char *t = f + len - TRL_SIZE;

	crc = crc32(0, f + small_rec_off(0), rec_bytes);
	assert_memory_equal(t, "IATRAIL\0", 8);
	assert_int_equal(rd32(t + 8), TRL_SIZE);
	assert_int_equal(rd32(t + T_CRC), block_crc(t, TRL_SIZE, T_CRC));
	assert_int_equal(rd64(t + 16), HDR_FIXED + 2 * HOOK_SIZE);
	assert_int_equal(rd64(t + T_REC_BYTES), rec_bytes);
	assert_int_equal(rd64(t + T_REC_COUNT), NR_SMALL);
	assert_int_equal(rd32(t + T_REC_CRC), (__u32)crc);
	assert_int_equal(rd32(t + T_NR_TYPES), IA_EV_TYPE_MAX);
	assert_int_equal(rd32(t + 48), IA_DROP_MAX);
	assert_int_equal(rd32(t + 52), 0);
	assert_int_equal(rd64(t + T_PER_TYPE + 8 * IA_EV_REQ), 1);
	assert_int_equal(rd64(t + T_PER_TYPE + 8 * IA_EV_BOUNCE), 0);
	for (int i = 0; i < IA_DROP_MAX; i++)
		assert_int_equal(rd64(t + T_LOST + 8 * i), small_lost[i]);
	free(f);
}

static void test_empty(void **state)
{
	static struct ia_trace_meta m;
	const char *path = tpath("empty.iat");
	struct ia_trace_writer *w;
	struct outcome o;
	char err[256] = "";
	size_t len;
	unsigned char *f;

	(void)state;
	make_meta(&m, 0);
	w = ia_trace_create(path, &m, err, sizeof(err));
	if (!w)
		fail_msg("ia_trace_create: %s", err);
	assert_int_equal(ia_trace_finish(w, NULL, err, sizeof(err)), 0);
	f = slurp(path, &len);
	assert_int_equal(len, HDR_FIXED + TRL_SIZE);
	free(f);
	read_all(path, &o);
	expect_code("empty trace", &o, 0);
	assert_int_equal(o.records, 0);
	assert_int_equal(o.stats.records, 0);
	assert_int_equal(o.stats.bytes, 0);
	assert_int_equal(o.stats.crc32, 0);
	for (int i = 0; i < IA_EV_TYPE_MAX; i++)
		assert_int_equal(o.stats.per_type[i], 0);
	for (int i = 0; i < IA_DROP_MAX; i++)
		assert_int_equal(o.stats.lost[i], 0);
}

/* ---- file mode ---- */

static void test_mode_0600(void **state)
{
	static const struct {
		const char *name; int pre; mode_t pre_mode; mode_t umask; int root_only;
	} cases[] = {
		{ "new file, umask 022", 0, 0, 022, 0 },
		{ "new file, umask 0", 0, 0, 0, 0 },
		{ "existing 0644", 1, 0644, 022, 0 },
		{ "existing 0666, umask 0", 1, 0666, 0, 0 },
		{ "existing 0755", 1, 0755, 022, 0 },
		{ "existing 0200", 1, 0200, 022, 0 },
		{ "existing 0000 (root writes anyway)", 1, 0000, 022, 1 },
	};
	static struct ia_trace_meta m;

	(void)state;
	make_meta(&m, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = tpath("mode.iat");
		struct ia_trace_writer *w;
		struct stat st;
		char err[256] = "";
		mode_t old;

		if (cases[i].root_only && geteuid() != 0)
			continue;
		unlink(path);
		if (cases[i].pre) {
			int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

			assert_true(fd >= 0);
			assert_int_equal(write(fd, "old contents, longer than nothing", 33), 33);
			assert_int_equal(fchmod(fd, cases[i].pre_mode), 0);
			close(fd);
		}
		old = umask(cases[i].umask);
		w = ia_trace_create(path, &m, err, sizeof(err));
		umask(old);
		if (!w)
			fail_msg("%s: ia_trace_create: %s", cases[i].name, err);
		assert_int_equal(stat(path, &st), 0);
		if ((st.st_mode & 07777) != 0600)
			fail_msg("%s: mode %04o while writing, want 0600", cases[i].name,
				 (unsigned)(st.st_mode & 07777));
		assert_int_equal(ia_trace_finish(w, NULL, err, sizeof(err)), 0);
		assert_int_equal(stat(path, &st), 0);
		if ((st.st_mode & 07777) != 0600)
			fail_msg("%s: mode %04o, want 0600", cases[i].name,
				 (unsigned)(st.st_mode & 07777));
		/* old contents are gone */
		assert_int_equal(st.st_size, HDR_FIXED + HOOK_SIZE + TRL_SIZE);
	}
}

/* ---- truncation ---- */

/* Records of the small trace wholly inside its first cut bytes. */
static __u64 small_complete(size_t cut)
{
	__u64 n = 0;

	for (size_t i = 0; i < NR_SMALL; i++)
		if (small_rec_off(i + 1) <= cut)
			n++;
	return n;
}

static void test_truncated_every_offset(void **state)
{
	const char *full = tpath("trunc-full.iat"), *cut_path = tpath("trunc.iat");
	struct outcome o;
	unsigned char *f;
	size_t len;

	(void)state;
	write_small(full);
	f = slurp(full, &len);
	read_all(full, &o);
	expect_code("untruncated", &o, 0);

	for (size_t cut = 0; cut < len; cut++) {
		char what[64];
		__u64 want = small_complete(cut);

		snprintf(what, sizeof(what), "cut at %zu of %zu", cut, len);
		spit(cut_path, f, cut);
		read_all(cut_path, &o);
		expect_code(what, &o, IA_TRACE_ETRUNC);
		expect_msg(what, &o, "interrupted");
		if (cut < small_rec_off(0) && !o.open_failed)
			fail_msg("%s: the header is incomplete but ia_trace_open succeeded", what);
		if (o.records != want)
			fail_msg("%s: %llu records returned, want %llu", what,
				 (unsigned long long)o.records, (unsigned long long)want);
		char num[64];

		snprintf(num, sizeof(num), "%llu complete records", (unsigned long long)want);
		expect_msg(what, &o, num);
	}
	free(f);
}

/* The same through a pipe: no file size to compare against. */
static int pipe_path(const void *data, size_t len, char *path, size_t plen)
{
	int fds[2], rfd;

	assert_int_equal(pipe(fds), 0);
	assert_true(len <= 65536);
	assert_int_equal(write(fds[1], data, len), (ssize_t)len);
	close(fds[1]);
	rfd = fds[0];
	snprintf(path, plen, "/proc/self/fd/%d", rfd);
	return rfd;
}

static void test_pipe(void **state)
{
	const char *full = tpath("pipe-full.iat");
	struct outcome o;
	unsigned char *f;
	char path[64];
	size_t len;
	int fd;

	(void)state;
	write_small(full);
	f = slurp(full, &len);

	fd = pipe_path(f, len, path, sizeof(path));
	read_all(path, &o);
	close(fd);
	expect_code("whole trace through a pipe", &o, 0);
	assert_int_equal(o.records, NR_SMALL);
	assert_int_equal(o.stats.lost[0], small_lost[0]);

	for (size_t cut = 0; cut < len; cut++) {
		char what[64];

		snprintf(what, sizeof(what), "pipe, cut at %zu of %zu", cut, len);
		fd = pipe_path(f, cut, path, sizeof(path));
		read_all(path, &o);
		close(fd);
		expect_code(what, &o, IA_TRACE_ETRUNC);
		if (o.records != small_complete(cut))
			fail_msg("%s: %llu records returned, want %llu", what,
				 (unsigned long long)o.records,
				 (unsigned long long)small_complete(cut));
	}

	/* damage through a pipe is an error too, never a success */
	for (size_t i = 0; i < len; i++) {
		char what[64];

		snprintf(what, sizeof(what), "pipe, bit flip at %zu", i);
		f[i] ^= 1u << (i % 8);
		fd = pipe_path(f, len, path, sizeof(path));
		read_all(path, &o);
		close(fd);
		f[i] ^= 1u << (i % 8);
		if (o.code == 0)
			fail_msg("%s: read as a sound trace", what);
		assert_true(o.code == IA_TRACE_ECORRUPT || o.code == IA_TRACE_ETRUNC ||
			    o.code == IA_TRACE_EVERSION);
	}
	free(f);
}

/* ---- damage ---- */

static void test_bit_flips(void **state)
{
	const char *full = tpath("flip-full.iat"), *bad = tpath("flip.iat");
	size_t len, rec0 = small_rec_off(0), trl = small_rec_off(NR_SMALL);
	struct outcome o;
	unsigned char *f;

	(void)state;
	write_small(full);
	f = slurp(full, &len);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			char what[80];

			snprintf(what, sizeof(what), "bit %d of byte %zu flipped", bit, i);
			f[i] ^= 1u << bit;
			spit(bad, f, len);
			f[i] ^= 1u << bit;
			read_all(bad, &o);
			if (i >= H_VERSION && i < H_VERSION + 4 && o.code == IA_TRACE_EVERSION)
				continue;
			/* a bigger header size may point past the end of the file */
			if (i >= H_SIZE && i < H_SIZE + 4 && o.code == IA_TRACE_ETRUNC)
				continue;
			expect_code(what, &o, IA_TRACE_ECORRUPT);
			if (i < rec0)
				assert_true(o.open_failed);
			/* in a record past its type and size: only the CRC can tell */
			for (size_t k = 0; k < NR_SMALL; k++)
				if (i >= small_rec_off(k) + 4 && i < small_rec_off(k + 1))
					expect_msg(what, &o, "CRC mismatch");
			/* past the trailer's magic (which, damaged, no longer
			 * tells a trailer from a record) */
			if (i >= trl + 8)
				expect_msg(what, &o, "trailer");
		}
	}
	free(f);
}

static void test_bad_magic(void **state)
{
	static const struct { const char *name; const char *data; size_t len; int code; } cases[] = {
		{ "text file", "hello, world\nthis is not a trace at all\n", 40, IA_TRACE_ECORRUPT },
		{ "ELF", "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0", 16, IA_TRACE_ECORRUPT },
		{ "zeros", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 24, IA_TRACE_ECORRUPT },
		{ "lower case", "iatrace\0\1\0\0\0", 12, IA_TRACE_ECORRUPT },
		{ "no NUL", "IATRACEX\1\0\0\0", 12, IA_TRACE_ECORRUPT },
		{ "trailer magic first", "IATRAIL\0\1\0\0\0", 12, IA_TRACE_ECORRUPT },
		{ "short, not a prefix", "IAX", 3, IA_TRACE_ECORRUPT },
		{ "short prefix", "IATR", 4, IA_TRACE_ETRUNC },
		{ "empty file", "", 0, IA_TRACE_ETRUNC },
	};
	const char *path = tpath("magic.iat");

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct outcome o;

		spit(path, cases[i].data, cases[i].len);
		read_all(path, &o);
		expect_code(cases[i].name, &o, cases[i].code);
		assert_true(o.open_failed);
		if (cases[i].code == IA_TRACE_ECORRUPT)
			expect_msg(cases[i].name, &o, "not an iommu-audit trace");
	}
}

static void test_version(void **state)
{
	static const struct { __u32 version; int code; const char *msg; } cases[] = {
		{ 6, IA_TRACE_EVERSION, "version 6; this build of iommu-audit reads versions 1 to 5" },
		{ 7, IA_TRACE_EVERSION, "version 7;" },
		{ 0xffffffff, IA_TRACE_EVERSION, "version 4294967295;" },
		{ 0, IA_TRACE_ECORRUPT, "invalid format version 0" },
		{ 5, 0, "" },
		/* version 4 has a 208-byte trailer, version 3 a 192-byte one,
		 * versions 1 and 2 a 176-byte one: this one is 216 */
		{ 4, IA_TRACE_ECORRUPT, "corrupt" },
		{ 3, IA_TRACE_ECORRUPT, "corrupt" },
		{ 2, IA_TRACE_ECORRUPT, "corrupt" },
		{ 1, IA_TRACE_ECORRUPT, "corrupt" },
	};
	const char *full = tpath("ver-full.iat"), *bad = tpath("ver.iat");
	unsigned char *f;
	size_t len;

	(void)state;
	write_small(full);
	f = slurp(full, &len);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char what[64];
		struct outcome o;

		snprintf(what, sizeof(what), "version %u", cases[i].version);
		wr32(f + H_VERSION, cases[i].version);
		/* a newer version may lay out the rest differently: the CRC is
		 * deliberately left stale for future versions */
		if (cases[i].version <= IA_TRACE_VERSION)
			fix_header_crc(f);
		spit(bad, f, len);
		read_all(bad, &o);
		expect_code(what, &o, cases[i].code);
		expect_msg(what, &o, cases[i].msg);
		/* a future version is recognised from its first 12 bytes alone */
		if (cases[i].code == IA_TRACE_EVERSION) {
			spit(bad, f, 12);
			read_all(bad, &o);
			expect_code(what, &o, cases[i].code);
		}
	}
	free(f);
}

/*
 * A version 2 trace (the 176-byte trailer of 12 types) still reads; in it
 * the record types of version 3 (12 IA_EV_IOVA, 13 IA_EV_TP_DMA) and the
 * hook state 4 (absent) are unknown, as they were to a version 2 reader.
 */
static void test_version2(void **state)
{
	const char *full = tpath("v2-full.iat"), *bad = tpath("v2.iat");
	unsigned char *f;
	struct outcome o;
	size_t len, v2len;

	(void)state;
	write_small(full);
	f = slurp(full, &len);
	v2len = to_v2(f, len);
	spit(bad, f, v2len);
	read_all(bad, &o);
	expect_code("version 2", &o, 0);
	assert_int_equal(o.records, NR_SMALL);

	/* record 0 retyped 12: unknown in version 2 (its size is a device's,
	 * so only the type can be the reason) */
	wr16(f + small_rec_off(0), IA_EV_IOVA);
	spit(bad, f, v2len);
	read_all(bad, &o);
	expect_code("version 2, type 12", &o, IA_TRACE_ECORRUPT);
	expect_msg("version 2, type 12", &o, "unknown record type 12 (format version 2 knows 1..11)");
	free(f);

	f = slurp(full, &len);
	v2len = to_v2(f, len);
	wr32(f + HDR_FIXED + 48, IA_HOOK_ABSENT);
	fix_header_crc(f);
	spit(bad, f, v2len);
	read_all(bad, &o);
	expect_code("version 2, hook state 4", &o, IA_TRACE_ECORRUPT);
	expect_msg("version 2, hook state 4", &o, "invalid state 4");
	free(f);
}

/* Edit field at off (width 2) of record rec of the small trace. */
static void edit_rec16(unsigned char *f, size_t rec, size_t off, __u16 v)
{
	wr16(f + small_rec_off(rec) + off, v);
}

static void test_size_lies(void **state)
{
	/* records: how many ia_trace_next() returns before the error */
	static const struct {
		const char *name; size_t rec; __u16 size; __u64 records; const char *msg;
	} cases[] = {
		{ "size 0", 0, 0, 0, "smaller than the 32-byte record header" },
		{ "size 4", 0, 4, 0, "smaller than the 32-byte record header" },
		{ "size 31", 0, 31, 0, "smaller than the 32-byte record header" },
		{ "size 33 (odd)", 0, 33, 0, "not a multiple of 8" },
		{ "size 132", 0, 132, 0, "not a multiple of 8" },
		{ "size 0xffff", 0, 0xffff, 0, "not a multiple of 8" },
		{ "size 40 < ia_ev_req", 0, 40, 0, "smaller than its 128-byte struct" },
		{ "size 120 < ia_ev_req", 0, 120, 0, "smaller than its 128-byte struct" },
		{ "size 0xfff8, huge", 0, 0xfff8, 0, "runs past the end of the records" },
		{ "last record, 8 too big", NR_SMALL - 1, 88, NR_SMALL - 1,
		  "runs past the end of the records" },
		/* valid framing: the record is returned, what follows is garbage */
		{ "size 136, too big", 0, 136, 1, "corrupt record #2" },
		{ "device 192 < 200", 1, 192, 1, "smaller than its 200-byte struct" },
		{ "sg 224 < 232", 2, 224, 2, "smaller than its 232-byte struct" },
	};
	const char *full = tpath("size-full.iat"), *bad = tpath("size.iat");
	unsigned char *f;
	size_t len;

	(void)state;
	write_small(full);
	f = slurp(full, &len);
	assert_int_equal(small_recs[0].type, IA_EV_REQ);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct outcome o;
		unsigned char *g = malloc(len);

		assert_non_null(g);
		memcpy(g, f, len);
		edit_rec16(g, cases[i].rec, 2, cases[i].size);
		spit(bad, g, len);
		free(g);
		read_all(bad, &o);
		expect_code(cases[i].name, &o, IA_TRACE_ECORRUPT);
		expect_msg(cases[i].name, &o, cases[i].msg);
		assert_false(o.open_failed);
		if (o.records != cases[i].records)
			fail_msg("%s: %llu records returned, want %llu", cases[i].name,
				 (unsigned long long)o.records, (unsigned long long)cases[i].records);
	}
	free(f);
}

static void test_unknown_type(void **state)
{
	static const __u16 types[] = { 0, IA_EV_TYPE_MAX, IA_EV_TYPE_MAX + 1, 0x100, 0x4149, 0xffff };
	const char *full = tpath("type-full.iat"), *bad = tpath("type.iat");
	unsigned char *f;
	size_t len;

	(void)state;
	write_small(full);
	f = slurp(full, &len);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		for (size_t rec = 0; rec < NR_SMALL; rec += NR_SMALL - 1) {
			char what[64];
			struct outcome o;
			__u16 old = (__u16)(f[small_rec_off(rec)] | f[small_rec_off(rec) + 1] << 8);

			snprintf(what, sizeof(what), "type %u in record %zu", types[i], rec);
			edit_rec16(f, rec, 0, types[i]);
			spit(bad, f, len);
			edit_rec16(f, rec, 0, old);
			read_all(bad, &o);
			expect_code(what, &o, IA_TRACE_ECORRUPT);
			expect_msg(what, &o, "unknown record type");
			assert_int_equal(o.records, rec);
		}
	}
	free(f);
}

/* Trailer and header fields that lie, with their own CRCs made right again. */
static void test_lying_fields(void **state)
{
	enum { HDR, TRL, RAW };
	static const struct {
		const char *name; int where; size_t off; int width; __u64 val; int code; const char *msg;
	} cases[] = {
		{ "record count + 1", TRL, T_REC_COUNT, 8, NR_SMALL + 1, IA_TRACE_ECORRUPT,
		  "record count mismatch: read 5 records, the trailer says 6" },
		{ "record count 0", TRL, T_REC_COUNT, 8, 0, IA_TRACE_ECORRUPT, "record count mismatch" },
		{ "record CRC", TRL, T_REC_CRC, 4, 0x12345678, IA_TRACE_ECORRUPT,
		  "trailer says 0x12345678" },
		{ "per-type count", TRL, T_PER_TYPE + 8 * IA_EV_BOUNCE, 8, 1, IA_TRACE_ECORRUPT,
		  "count mismatch for record type 8" },
		{ "per-type [0]", TRL, T_PER_TYPE, 8, 1, IA_TRACE_ECORRUPT, "record type 0" },
		{ "nr_types", TRL, T_NR_TYPES, 4, 13, IA_TRACE_ECORRUPT, "13 types" },
		{ "trailer reserved", TRL, 52, 4, 1, IA_TRACE_ECORRUPT, "reserved 0x1" },
		{ "trailer size", TRL, 8, 4, 184, IA_TRACE_ECORRUPT, "bad trailer size" },
		{ "record offset", TRL, 16, 8, 8, IA_TRACE_ECORRUPT, "record offset" },
		{ "record bytes + 8", TRL, T_REC_BYTES, 8, 0, IA_TRACE_ECORRUPT, "bytes mismatch" },
		{ "trailer CRC", RAW, (size_t)-TRL_SIZE + T_CRC, 4, 0, IA_TRACE_ECORRUPT,
		  "trailer CRC mismatch" },
		{ "nr_hooks 3", HDR, H_NR_HOOKS, 4, 3, IA_TRACE_ECORRUPT, "3 hooks do not fit" },
		{ "nr_hooks huge", HDR, H_NR_HOOKS, 4, 0x7fffffff, IA_TRACE_ECORRUPT, "do not fit" },
		{ "header reserved", HDR, H_RESERVED, 4, 1, IA_TRACE_ECORRUPT, "reserved field" },
		{ "hook state 0", HDR, HDR_FIXED + 48, 4, 0, IA_TRACE_ECORRUPT, "invalid state 0" },
		{ "hook state 5", HDR, HDR_FIXED + HOOK_SIZE + 48, 4, 5, IA_TRACE_ECORRUPT,
		  "invalid state 5" },
		{ "unterminated release", HDR, H_KREL + 64, 1, 'x', IA_TRACE_ECORRUPT,
		  "kernel release is not a terminated string" },
		{ "junk after release", HDR, H_KREL + 70, 1, 'x', IA_TRACE_ECORRUPT,
		  "kernel release is not a terminated string" },
		{ "unterminated tool", HDR, H_TOOL + 24, 8, 0x4141414141414141ull,
		  IA_TRACE_ECORRUPT, "tool version" },
		{ "unterminated hook name", HDR, HDR_FIXED + 40, 8, 0x4141414141414141ull,
		  IA_TRACE_ECORRUPT, "hook 0: name or reason" },
		{ "header size 0", HDR, H_SIZE, 4, 0, IA_TRACE_ECORRUPT, "header size 0" },
		{ "header size odd", HDR, H_SIZE, 4, 524, IA_TRACE_ECORRUPT, "header size 524" },
		{ "header size huge", HDR, H_SIZE, 4, 0x10000000, IA_TRACE_ECORRUPT, "header size" },
		{ "header CRC", RAW, H_CRC, 4, 0, IA_TRACE_ECORRUPT, "header: CRC mismatch" },
	};
	const char *full = tpath("lie-full.iat"), *bad = tpath("lie.iat");
	unsigned char *f, *g;
	size_t len;

	(void)state;
	write_small(full);
	f = slurp(full, &len);
	g = malloc(len);
	assert_non_null(g);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t off = cases[i].where == TRL ? len - TRL_SIZE + cases[i].off :
			     cases[i].where == RAW && cases[i].off > len ? len + cases[i].off :
			     cases[i].off;
		__u64 v = cases[i].val;
		struct outcome o;

		memcpy(g, f, len);
		if (cases[i].off == T_REC_BYTES && cases[i].where == TRL)
			v = rd64(g + off) + 8;
		if (cases[i].where == RAW)
			v = ~rd32(g + off);
		for (int b = 0; b < cases[i].width; b++)
			g[off + b] = (unsigned char)(v >> (8 * b));
		if (cases[i].where == TRL)
			fix_trailer_crc(g, len);
		if (cases[i].where == HDR && cases[i].off != H_SIZE)
			fix_header_crc(g);
		spit(bad, g, len);
		read_all(bad, &o);
		expect_code(cases[i].name, &o, cases[i].code);
		expect_msg(cases[i].name, &o, cases[i].msg);
		assert_int_equal(o.open_failed, cases[i].where == HDR || off < small_rec_off(0));
	}
	free(g);
	free(f);
}

static void test_trailer_placement(void **state)
{
	const char *full = tpath("place-full.iat"), *bad = tpath("place.iat");
	size_t len, trl = small_rec_off(NR_SMALL);
	unsigned char *f, *g;
	struct outcome o;

	(void)state;
	write_small(full);
	f = slurp(full, &len);
	g = malloc(len + 2 * TRL_SIZE + 8);
	assert_non_null(g);

	/* garbage after the trailer */
	memcpy(g, f, len);
	memset(g + len, 0, 8);
	spit(bad, g, len + 8);
	read_all(bad, &o);
	expect_code("8 bytes after the trailer", &o, IA_TRACE_ECORRUPT);
	expect_msg("8 bytes after the trailer", &o, "data after the trailer");
	assert_int_equal(o.records, NR_SMALL);

	memcpy(g + len, f + trl, TRL_SIZE);
	spit(bad, g, len + TRL_SIZE);
	read_all(bad, &o);
	expect_code("trailer twice", &o, IA_TRACE_ECORRUPT);

	/* a trailer in the middle of the records */
	memcpy(g, f, small_rec_off(2));
	memcpy(g + small_rec_off(2), f + trl, TRL_SIZE);
	memcpy(g + small_rec_off(2) + TRL_SIZE, f + small_rec_off(2), len - small_rec_off(2));
	spit(bad, g, len + TRL_SIZE);
	read_all(bad, &o);
	expect_code("trailer among the records", &o, IA_TRACE_ECORRUPT);
	expect_msg("trailer among the records", &o, "record count mismatch: read 2 records");
	assert_int_equal(o.records, 2);

	/* the same with the trailer at the end made to fit: the one inside
	 * the records is found before the end */
	wr64(g + len + TRL_SIZE - TRL_SIZE + T_REC_BYTES, rd64(f + trl + T_REC_BYTES) + TRL_SIZE);
	fix_trailer_crc(g, len + TRL_SIZE);
	spit(bad, g, len + TRL_SIZE);
	read_all(bad, &o);
	expect_code("trailer among the records, end fixed", &o, IA_TRACE_ECORRUPT);
	expect_msg("trailer among the records, end fixed", &o, "trailer marker at offset");
	assert_int_equal(o.records, 2);

	/* records dropped, trailer intact */
	memcpy(g, f, small_rec_off(1));
	memcpy(g + small_rec_off(1), f + small_rec_off(2), len - small_rec_off(2));
	spit(bad, g, len - (small_rec_off(2) - small_rec_off(1)));
	read_all(bad, &o);
	expect_code("a record cut out", &o, IA_TRACE_ECORRUPT);

	/* a record duplicated, trailer intact */
	memcpy(g, f, small_rec_off(2));
	memcpy(g + small_rec_off(2), f + small_rec_off(1), len - small_rec_off(1));
	spit(bad, g, len + small_rec_off(2) - small_rec_off(1));
	read_all(bad, &o);
	expect_code("a record doubled", &o, IA_TRACE_ECORRUPT);
	free(g);
	free(f);
}

/* ---- writer ---- */

static void test_writer_rejects(void **state)
{
	static const struct { const char *name; __u16 type; __u16 size; const char *msg; } cases[] = {
		{ "size 0", IA_EV_REQ, 0, "smaller than the 32-byte record header" },
		{ "size 4", IA_EV_REQ, 4, "smaller than the 32-byte record header" },
		{ "size 129", IA_EV_REQ, 129, "not a multiple of 8" },
		{ "size 36", IA_EV_FQ_FLUSH, 36, "not a multiple of 8" },
		{ "short req", IA_EV_REQ, 120, "smaller than its 128-byte struct" },
		{ "short fq", IA_EV_FQ_FLUSH, 32, "smaller than its 40-byte struct" },
		{ "type 0", 0, 64, "unknown record type 0" },
		{ "type MAX", IA_EV_TYPE_MAX, 200, "unknown record type 17" },
		{ "type 0xffff", 0xffff, 64, "unknown record type 65535" },
	};
	static struct ia_trace_meta m;
	static union recbuf rb;
	const char *path = tpath("reject.iat");
	struct ia_trace_writer *w;
	struct outcome o;
	char err[256] = "";

	(void)state;
	make_meta(&m, 0);
	w = ia_trace_create(path, &m, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(ia_trace_write(w, make_rec(&rb, IA_EV_REQ, 0, 1)), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret;

		make_rec(&rb, IA_EV_REQ, 0, 2);
		rb.hdr.type = cases[i].type;
		rb.hdr.size = cases[i].size;
		ret = ia_trace_write(w, &rb.hdr);
		if (ret != IA_TRACE_EINVAL)
			fail_msg("%s: ia_trace_write returned %d, want %d", cases[i].name, ret,
				 IA_TRACE_EINVAL);
		if (!strstr(ia_trace_writer_error(w), cases[i].msg))
			fail_msg("%s: message \"%s\" lacks \"%s\"", cases[i].name,
				 ia_trace_writer_error(w), cases[i].msg);
		/* the same check, public */
		ret = ia_trace_check_record(&rb, sizeof(rb), err, sizeof(err));
		assert_int_equal(ret, IA_TRACE_EINVAL);
		if (!strstr(err, cases[i].msg))
			fail_msg("%s: ia_trace_check_record: \"%s\" lacks \"%s\"", cases[i].name,
				 err, cases[i].msg);
	}
	assert_int_equal(ia_trace_write(w, NULL), IA_TRACE_EINVAL);
	/* still usable */
	assert_int_equal(ia_trace_write(w, make_rec(&rb, IA_EV_SG, 0, 3)), 0);
	assert_int_equal(ia_trace_finish(w, NULL, err, sizeof(err)), 0);
	read_all(path, &o);
	expect_code("after rejected writes", &o, 0);
	assert_int_equal(o.records, 2);

	/* ia_trace_check_record and the ring buffer sample length */
	make_rec(&rb, IA_EV_REQ, 0, 4);
	assert_int_equal(ia_trace_check_record(&rb, 128, err, sizeof(err)), 0);
	assert_int_equal(ia_trace_check_record(&rb, 120, err, sizeof(err)), IA_TRACE_EINVAL);
	assert_non_null(strstr(err, "runs past the 120 bytes given"));
	assert_int_equal(ia_trace_check_record(&rb, 16, err, sizeof(err)), IA_TRACE_EINVAL);
	assert_int_equal(ia_trace_check_record(NULL, 128, err, sizeof(err)), IA_TRACE_EINVAL);
	assert_int_equal(ia_trace_check_record(&rb, 128, NULL, 0), 0);
}

static void test_create_errors(void **state)
{
	enum { OK, NR_HOOKS, REL_UNTERM, BOOT_UNTERM, TOOL_UNTERM, HOOK_UNTERM, BAD_STATE };
	static const struct { const char *name; const char *path; int meta; const char *msg; } cases[] = {
		{ "no directory", "/nonexistent-dir-for-test/x.iat", OK, "cannot create" },
		{ "a directory", "/tmp", OK, "cannot create" },
		{ "/dev/null", "/dev/null", OK, "not a regular file" },
		{ "too many hooks", NULL, NR_HOOKS, "hooks, at most" },
		{ "release unterminated", NULL, REL_UNTERM, "kernel_release is not NUL-terminated" },
		{ "boot id unterminated", NULL, BOOT_UNTERM, "boot_id is not NUL-terminated" },
		{ "tool unterminated", NULL, TOOL_UNTERM, "tool_version is not NUL-terminated" },
		{ "hook name unterminated", NULL, HOOK_UNTERM, "hook 1: name or reason" },
		{ "hook state 0", NULL, BAD_STATE, "invalid state 0" },
	};
	static struct ia_trace_meta m;
	struct stat before, after;

	(void)state;
	assert_int_equal(stat("/dev/null", &before), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = cases[i].path ? cases[i].path : tpath("create-err.iat");
		char err[256] = "";
		struct ia_trace_writer *w;

		unlink(tpath("create-err.iat"));
		make_meta(&m, 3);
		switch (cases[i].meta) {
		case NR_HOOKS: m.nr_hooks = IA_TRACE_MAX_HOOKS + 1; break;
		case REL_UNTERM: memset(m.kernel_release, 'x', sizeof(m.kernel_release)); break;
		case BOOT_UNTERM: memset(m.boot_id, 'x', sizeof(m.boot_id)); break;
		case TOOL_UNTERM: memset(m.tool_version, 'x', sizeof(m.tool_version)); break;
		case HOOK_UNTERM: memset(m.hooks[1].name, 'x', sizeof(m.hooks[1].name)); break;
		case BAD_STATE: m.hooks[2].state = 0; break;
		}
		w = ia_trace_create(path, &m, err, sizeof(err));
		if (w)
			fail_msg("%s: ia_trace_create succeeded", cases[i].name);
		if (!strstr(err, cases[i].msg))
			fail_msg("%s: message \"%s\" lacks \"%s\"", cases[i].name, err, cases[i].msg);
		/* invalid metadata creates no file */
		if (cases[i].meta != OK)
			assert_int_not_equal(access(path, F_OK), 0);
	}
	assert_int_equal(stat("/dev/null", &after), 0);
	assert_int_equal(before.st_mode, after.st_mode);
	assert_null(ia_trace_create(tpath("x.iat"), NULL, NULL, 0));
	assert_null(ia_trace_create(NULL, &m, NULL, 0));
}

static void test_open_errors(void **state)
{
	static const struct { const char *path; const char *msg; } cases[] = {
		{ "/nonexistent-dir-for-test/x.iat", "cannot open" },
		{ "/tmp", "is a directory" },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct outcome o;

		read_all(cases[i].path, &o);
		expect_code(cases[i].path, &o, IA_TRACE_EIO);
		expect_msg(cases[i].path, &o, cases[i].msg);
		expect_msg(cases[i].path, &o, cases[i].path);
	}
	assert_null(ia_trace_open(NULL, err, sizeof(err)));
	assert_int_equal(ia_trace_open_ex(tpath("x.iat"), NULL, err, sizeof(err)), IA_TRACE_EINVAL);
	assert_null(ia_trace_open("/nonexistent-dir-for-test/x.iat", NULL, 0));
}

/*
 * Write errors: EFBIG from a lowered soft RLIMIT_FSIZE (SIGXFSZ ignored),
 * both restored afterwards.
 */
static void test_write_io_error(void **state)
{
	static struct ia_trace_meta m;
	static union recbuf rb;
	const char *path = tpath("efbig.iat");
	struct rlimit old, rl;
	struct ia_trace_writer *w;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_sa;
	struct outcome o;
	char err[256] = "", werr[256] = "";
	int ret = 0, ret2, ret3, fin, i;

	(void)state;
	make_meta(&m, 1);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	if (old.rlim_max != RLIM_INFINITY && old.rlim_max < 16384)
		skip();
	rl = old;
	rl.rlim_cur = 16384;
	assert_int_equal(sigaction(SIGXFSZ, &ign, &old_sa), 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);

	w = ia_trace_create(path, &m, err, sizeof(err));
	for (i = 0; w && i < 10000 && !ret; i++)
		ret = ia_trace_write(w, make_rec(&rb, IA_EV_REQ, 0, (__u64)i));
	if (w)
		snprintf(werr, sizeof(werr), "%s", ia_trace_writer_error(w));
	ret2 = w ? ia_trace_write(w, make_rec(&rb, IA_EV_REQ, 0, 1)) : 0;
	ret3 = w ? ia_trace_flush(w) : 0;
	fin = w ? ia_trace_finish(w, NULL, err, sizeof(err)) : 0;

	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(sigaction(SIGXFSZ, &old_sa, NULL), 0);

	if (!w)
		fail_msg("ia_trace_create: %s", err);
	assert_int_equal(ret, IA_TRACE_EIO);
	if (!strstr(werr, "File too large"))
		fail_msg("writer error \"%s\" lacks \"File too large\"", werr);
	/* sticky */
	assert_int_equal(ret2, IA_TRACE_EIO);
	assert_int_equal(ret3, IA_TRACE_EIO);
	assert_int_equal(fin, IA_TRACE_EIO);
	if (!strstr(err, "File too large"))
		fail_msg("ia_trace_finish error \"%s\" lacks \"File too large\"", err);
	/* what reached the disk reads as an interrupted recording */
	read_all(path, &o);
	expect_code("after EFBIG", &o, IA_TRACE_ETRUNC);
	assert_true(o.records > 0);
}

/* Many records of varying sizes: the buffers of both sides wrap many times. */
static void test_streaming_large(void **state)
{
	static const __u16 types[] = {
		IA_EV_REQ, IA_EV_SG, IA_EV_PT_MAP, IA_EV_DEVICE, IA_EV_FQ_FLUSH,
		IA_EV_IOVA_FREE, IA_EV_BOUNCE, IA_EV_TP_UNMAP,
	};
	enum { N = 60000 };
	static struct ia_trace_meta m;
	static union recbuf rb;
	const char *path = tpath("large.iat");
	const struct ia_ev_hdr *rec;
	struct ia_trace_writer *w;
	struct ia_trace_reader *r;
	char err[256] = "";
	__u64 n = 0;
	int ret;

	(void)state;
	make_meta(&m, IA_TRACE_MAX_HOOKS);
	w = ia_trace_create(path, &m, err, sizeof(err));
	assert_non_null(w);
	for (__u64 i = 0; i < N; i++) {
		/* now and then a huge one */
		size_t extra = i % 997 == 0 ? MAX_REC - 232 : (i % 5) * 8;
		__u16 type = i % 997 == 0 ? IA_EV_SG : types[i % 8];

		assert_int_equal(ia_trace_write(w, make_rec(&rb, type, extra, i)), 0);
		if (i == N / 2)
			assert_int_equal(ia_trace_flush(w), 0);
	}
	assert_int_equal(ia_trace_finish(w, NULL, err, sizeof(err)), 0);

	r = ia_trace_open(path, err, sizeof(err));
	if (!r)
		fail_msg("%s", err);
	assert_int_equal(ia_trace_meta(r)->nr_hooks, IA_TRACE_MAX_HOOKS);
	assert_string_equal(ia_trace_meta(r)->hooks[IA_TRACE_MAX_HOOKS - 1].name, "fexit/hook_127");
	while ((ret = ia_trace_next(r, &rec)) == 1) {
		size_t extra = n % 997 == 0 ? MAX_REC - 232 : (n % 5) * 8;
		__u16 type = n % 997 == 0 ? IA_EV_SG : types[n % 8];

		make_rec(&rb, type, extra, n);
		assert_int_equal(rec->size, rb.hdr.size);
		if (memcmp(rec, &rb, rb.hdr.size))
			fail_msg("record %llu differs", (unsigned long long)n);
		n++;
	}
	if (ret)
		fail_msg("%s", ia_trace_error(r));
	assert_int_equal(n, N);
	assert_int_equal(ia_trace_stats(r)->records, N);
	ia_trace_close(r);

	/* and cut at a few places, some in the middle of a huge record */
	size_t len;
	unsigned char *f = slurp(path, &len);
	static const double at[] = { 0.001, 0.25, 0.5, 0.75, 0.999 };

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		struct outcome o;
		char what[64];
		size_t cut = (size_t)(len * at[i]);

		snprintf(what, sizeof(what), "large trace cut at %zu of %zu", cut, len);
		spit(tpath("large-cut.iat"), f, cut);
		read_all(tpath("large-cut.iat"), &o);
		expect_code(what, &o, IA_TRACE_ETRUNC);
	}
	free(f);
}

/* ---- helpers and misuse ---- */

static void test_fill_host(void **state)
{
	static struct ia_trace_meta m;
	struct utsname u;
	struct timespec now;
	char host[65];

	(void)state;
	memset(&m, 0xaa, sizeof(m));
	m.nr_hooks = 0;
	strcpy(m.tool_version, "keep");
	assert_int_equal(ia_trace_meta_fill_host(&m), 0);
	assert_int_equal(uname(&u), 0);
	assert_string_equal(m.kernel_release, u.release);
	assert_int_equal(m.page_size, sysconf(_SC_PAGESIZE));
	assert_int_equal(strlen(m.boot_id), 36);
	for (int i = 0; i < 36; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(m.boot_id[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", m.boot_id[i]));
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	assert_string_equal(m.hostname, host);
	assert_string_equal(m.tool_version, "keep");
	assert_int_equal(m.nr_hooks, 0);
	clock_gettime(CLOCK_REALTIME, &now);
	assert_true(m.start_realtime_ns <= (__u64)now.tv_sec * 1000000000ull + (__u64)now.tv_nsec);
	assert_true(m.start_realtime_ns > 1577836800ull * 1000000000ull);	/* 2020 */
	clock_gettime(CLOCK_MONOTONIC, &now);
	assert_true(m.start_monotonic_ns <= (__u64)now.tv_sec * 1000000000ull + (__u64)now.tv_nsec);
	assert_true(m.start_monotonic_ns > 0);

	/* what it fills makes a valid header */
	char err[256] = "";
	struct ia_trace_writer *w = ia_trace_create(tpath("host.iat"), &m, err, sizeof(err));
	struct ia_trace_reader *r;

	if (!w)
		fail_msg("%s", err);
	assert_int_equal(ia_trace_finish(w, NULL, err, sizeof(err)), 0);
	r = ia_trace_open(tpath("host.iat"), err, sizeof(err));
	assert_non_null(r);
	assert_string_equal(ia_trace_meta(r)->boot_id, m.boot_id);
	ia_trace_close(r);
}

static void test_add_hook(void **state)
{
	static struct ia_trace_meta m;
	char longname[200];

	(void)state;
	memset(&m, 0, sizeof(m));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_int_equal(ia_trace_meta_add_hook(&m, longname, IA_HOOK_FAILED, longname), 0);
	assert_int_equal(strlen(m.hooks[0].name), sizeof(m.hooks[0].name) - 1);
	assert_int_equal(strlen(m.hooks[0].reason), sizeof(m.hooks[0].reason) - 1);
	assert_int_equal(ia_trace_meta_add_hook(&m, "x", IA_HOOK_ATTACHED, NULL), 0);
	assert_string_equal(m.hooks[1].reason, "");
	assert_int_equal(ia_trace_meta_add_hook(&m, "x", 0, NULL), IA_TRACE_EINVAL);
	assert_int_equal(ia_trace_meta_add_hook(&m, "x", 5, NULL), IA_TRACE_EINVAL);
	assert_int_equal(m.nr_hooks, 2);
	while (m.nr_hooks < IA_TRACE_MAX_HOOKS)
		assert_int_equal(ia_trace_meta_add_hook(&m, "h", IA_HOOK_MISSING, "r"), 0);
	assert_int_equal(ia_trace_meta_add_hook(&m, "h", IA_HOOK_MISSING, "r"), IA_TRACE_EINVAL);
	assert_int_equal(m.nr_hooks, IA_TRACE_MAX_HOOKS);
}

static void test_strings(void **state)
{
	static const struct { int code; const char *s; } codes[] = {
		{ IA_TRACE_OK, "success" }, { IA_TRACE_EIO, "I/O error" },
		{ IA_TRACE_ETRUNC, "truncated trace" }, { IA_TRACE_ECORRUPT, "corrupt trace" },
		{ IA_TRACE_EVERSION, "unsupported trace format version" },
		{ IA_TRACE_EINVAL, "invalid argument" }, { IA_TRACE_ENOMEM, "out of memory" },
		{ -99, "unknown error" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		assert_string_equal(ia_trace_strerror(codes[i].code), codes[i].s);
	assert_string_equal(ia_trace_hook_state_str(IA_HOOK_ATTACHED), "attached");
	assert_string_equal(ia_trace_hook_state_str(IA_HOOK_MISSING), "missing");
	assert_string_equal(ia_trace_hook_state_str(IA_HOOK_FAILED), "failed");
	assert_string_equal(ia_trace_hook_state_str(IA_HOOK_ABSENT), "absent");
	assert_string_equal(ia_trace_hook_state_str(0), "?");
}

static void test_misuse(void **state)
{
	static struct ia_trace_meta m;
	static union recbuf rb;
	const char *path = tpath("misuse.iat");
	struct ia_trace_writer *w;
	struct outcome o;
	char err[256];

	(void)state;
	ia_trace_close(NULL);
	ia_trace_discard(NULL);
	assert_int_equal(ia_trace_finish(NULL, NULL, err, sizeof(err)), IA_TRACE_EINVAL);
	assert_int_equal(ia_trace_write(NULL, make_rec(&rb, IA_EV_REQ, 0, 1)), IA_TRACE_EINVAL);
	assert_int_equal(ia_trace_flush(NULL), IA_TRACE_EINVAL);
	assert_int_equal(ia_trace_next(NULL, NULL), IA_TRACE_EINVAL);
	assert_null(ia_trace_stats(NULL));
	assert_null(ia_trace_meta(NULL));
	assert_string_equal(ia_trace_error(NULL), "");
	assert_string_equal(ia_trace_writer_error(NULL), "");

	/* a discarded writer leaves a trace without trailer: truncated */
	make_meta(&m, 1);
	w = ia_trace_create(path, &m, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(ia_trace_write(w, make_rec(&rb, IA_EV_REQ, 0, 1)), 0);
	assert_int_equal(ia_trace_flush(w), 0);
	assert_int_equal(ia_trace_write(w, make_rec(&rb, IA_EV_REQ, 0, 2)), 0);
	ia_trace_discard(w);
	read_all(path, &o);
	expect_code("discarded", &o, IA_TRACE_ETRUNC);
	expect_msg("discarded", &o, "1 complete records (128 bytes) were readable");
	assert_int_equal(o.records, 1);

	/* errlen 0 / NULL err is fine */
	spit(path, "garbage!", 8);
	assert_null(ia_trace_open(path, NULL, 0));
	err[0] = 'x';
	assert_null(ia_trace_open(path, err, 0));
	assert_int_equal(err[0], 'x');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_mode_0600),
		cmocka_unit_test(test_truncated_every_offset),
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_version2),
		cmocka_unit_test(test_size_lies),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_lying_fields),
		cmocka_unit_test(test_trailer_placement),
		cmocka_unit_test(test_writer_rejects),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_write_io_error),
		cmocka_unit_test(test_streaming_large),
		cmocka_unit_test(test_fill_host),
		cmocka_unit_test(test_add_hook),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_misuse),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
