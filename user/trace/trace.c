// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The binary trace file: writer and streaming reader.
 * docs/trace-format.md is the specification; the offsets below follow it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "lib/crc32.h"
#include "lib/openfile.h"
#include "trace/trace.h"
#include "lib/clock.h"

/*
 * Records are stored in the byte order the BPF programs wrote them in, which
 * is the host's; the format is little-endian, so only little-endian hosts
 * can write or read it. Header and trailer are (de)serialized byte by byte.
 */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the iommu-audit trace format is little-endian; big-endian hosts are not supported"
#endif

/*
 * The format fixes the record layouts of ia_events.h and the values of
 * their enums (version 2 added the get_sgtable request kind to version 1;
 * version 3 the record types IA_EV_IOVA and IA_EV_TP_DMA, version 4
 * IA_EV_PAGE and IA_EV_FREED (issue 17), version 5 IA_EV_PT_SNAP
 * (issue 13), each so a longer trailer, and the hook state IA_HOOK_ABSENT). If one of these fails, ia_events.h changed: bump
 * IA_TRACE_VERSION, update the tables below and docs/trace-format.md (see
 * "Versioning" there).
 */
_Static_assert(sizeof(struct ia_ev_hdr) == 32, "ia_ev_hdr changed");
_Static_assert(offsetof(struct ia_ev_hdr, type) == 0 && offsetof(struct ia_ev_hdr, size) == 2 &&
	       offsetof(struct ia_ev_hdr, ts_ns) == 8 && offsetof(struct ia_ev_hdr, flags) == 28,
	       "ia_ev_hdr changed");
_Static_assert(sizeof(struct ia_ev_device) == 200, "ia_ev_device changed");
_Static_assert(sizeof(struct ia_ev_req) == 128, "ia_ev_req changed");
_Static_assert(sizeof(struct ia_ev_sg) == 232, "ia_ev_sg changed");
_Static_assert(sizeof(struct ia_ev_pt) == 80, "ia_ev_pt changed");
_Static_assert(sizeof(struct ia_ev_bounce) == 80, "ia_ev_bounce changed");
_Static_assert(sizeof(struct ia_ev_iova_free) == 64, "ia_ev_iova_free changed");
_Static_assert(sizeof(struct ia_ev_fq_flush) == 40, "ia_ev_fq_flush changed");
_Static_assert(sizeof(struct ia_ev_stack) == 40 && sizeof(struct ia_stack_frame) == 64,
	       "ia_ev_stack changed");
_Static_assert(sizeof(struct ia_ev_iova) == 128, "ia_ev_iova changed");
_Static_assert(sizeof(struct ia_ev_tp_dma) == 104, "ia_ev_tp_dma changed");
_Static_assert(sizeof(struct ia_ev_page) == 112, "ia_ev_page changed");
_Static_assert(sizeof(struct ia_ev_freed) == 88, "ia_ev_freed changed");
_Static_assert(sizeof(struct ia_ev_pt_snap) == 96 && sizeof(struct ia_snap_range) == 32,
	       "ia_ev_pt_snap changed");
_Static_assert(IA_EV_TYPE_MAX == 17, "record types changed: new format version");
_Static_assert(IA_PAGE_KIND_MAX == 12, "page kinds changed: new format version");
_Static_assert(IA_TP_DMA_EV_MAX == 17, "dma:* events changed: new format version");
_Static_assert(IA_DROP_MAX == 3, "drop reasons changed: new format version");
_Static_assert(IA_REQ_KIND_MAX == 25, "request kinds changed: new format version");
_Static_assert(sizeof(struct ia_trace_hook) == 128, "ia_trace_hook changed");

/* ---- on-disk layout, version 1 (docs/trace-format.md) ---- */

static const unsigned char TRACE_MAGIC[8] = { 'I', 'A', 'T', 'R', 'A', 'C', 'E', 0 };
static const unsigned char TRAIL_MAGIC[8] = { 'I', 'A', 'T', 'R', 'A', 'I', 'L', 0 };

enum {
	H_MAGIC		= 0,
	H_VERSION	= 8,
	H_SIZE		= 12,
	H_CRC		= 16,
	H_PAGE_SIZE	= 20,
	H_START_REAL	= 24,
	H_START_MONO	= 32,
	H_NR_HOOKS	= 40,
	H_RESERVED	= 44,
	H_KREL		= 48,	H_KREL_LEN	= 72,
	H_BOOT_ID	= 120,	H_BOOT_ID_LEN	= 40,
	H_HOST		= 160,	H_HOST_LEN	= 72,
	H_TOOL		= 232,	H_TOOL_LEN	= 32,
	H_FIXED		= 264,	/* hooks follow */

	K_NAME		= 0,	K_NAME_LEN	= 48,
	K_STATE		= 48,
	K_REASON	= 52,	K_REASON_LEN	= 76,
	K_SIZE		= 128,

	T_MAGIC		= 0,
	T_SIZE		= 8,
	T_CRC		= 12,
	T_REC_OFF	= 16,
	T_REC_BYTES	= 24,
	T_REC_COUNT	= 32,
	T_REC_CRC	= 40,
	T_NR_TYPES	= 44,
	T_NR_DROPS	= 48,
	T_RESERVED	= 52,
	T_PER_TYPE	= 56,	/* u64[nr_types], then u64[IA_DROP_MAX] */
};

/*
 * The trailer has a per-type count for each record type of its version: 12
 * in versions 1 and 2 (176 bytes), 14 in version 3 (192 bytes), 16 in
 * version 4 (208 bytes), 17 since version 5 (216 bytes). Types
 * at or above a version's count are unknown records in a trace of it.
 */
#define V2_TYPES	12
#define V3_TYPES	14	/* + IA_EV_IOVA, IA_EV_TP_DMA */
#define V4_TYPES	16	/* + IA_EV_PAGE, IA_EV_FREED */
#define T_LOST_AT(nt)	(T_PER_TYPE + 8 * (nt))
#define T_LEN_FOR(nt)	(T_LOST_AT(nt) + 8 * IA_DROP_MAX)
#define T_LEN		T_LEN_FOR(IA_EV_TYPE_MAX)	/* this version's */

static __u32 version_types(__u32 version)
{
	return version >= 5 ? IA_EV_TYPE_MAX : version == 4 ? V4_TYPES :
	       version == 3 ? V3_TYPES : V2_TYPES;
}

#define H_MAX_SIZE	(H_FIXED + K_SIZE * IA_TRACE_MAX_HOOKS)
#define REC_MAX_SIZE	0xfff8u		/* largest __u16 multiple of 8 */

_Static_assert(T_LEN_FOR(V2_TYPES) == 176 && T_LEN_FOR(V3_TYPES) == 192 &&
	       T_LEN_FOR(V4_TYPES) == 208 && T_LEN == 216,
	       "trailer layout");
_Static_assert(H_MAX_SIZE % 8 == 0 && T_LEN % 8 == 0, "alignment");

/* Smallest valid hdr.size per known type; 0: unknown type. */
const __u16 ia_ev_min_sizes[IA_EV_TYPE_MAX] = {
	[IA_EV_DEVICE]		= sizeof(struct ia_ev_device),
	[IA_EV_REQ]		= sizeof(struct ia_ev_req),
	[IA_EV_SG]		= sizeof(struct ia_ev_sg),
	[IA_EV_PT_MAP]		= sizeof(struct ia_ev_pt),
	[IA_EV_PT_UNMAP]	= sizeof(struct ia_ev_pt),
	[IA_EV_TP_MAP]		= sizeof(struct ia_ev_pt),
	[IA_EV_TP_UNMAP]	= sizeof(struct ia_ev_pt),
	[IA_EV_BOUNCE]		= sizeof(struct ia_ev_bounce),
	[IA_EV_IOVA_FREE]	= sizeof(struct ia_ev_iova_free),
	[IA_EV_FQ_FLUSH]	= sizeof(struct ia_ev_fq_flush),
	[IA_EV_STACK]		= sizeof(struct ia_ev_stack),
	[IA_EV_IOVA]		= sizeof(struct ia_ev_iova),
	[IA_EV_TP_DMA]		= sizeof(struct ia_ev_tp_dma),
	[IA_EV_PAGE]		= sizeof(struct ia_ev_page),
	[IA_EV_FREED]		= sizeof(struct ia_ev_freed),
	[IA_EV_PT_SNAP]		= sizeof(struct ia_ev_pt_snap),	/* + count ranges */
};

static void put32(unsigned char *p, __u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, __u64 v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static __u16 get16(const unsigned char *p)
{
	return (__u16)(p[0] | p[1] << 8);
}

static __u32 get32(const unsigned char *p)
{
	return (__u32)p[0] | (__u32)p[1] << 8 | (__u32)p[2] << 16 |
	       (__u32)p[3] << 24;
}

static __u64 get64(const unsigned char *p)
{
	return (__u64)get32(p) | (__u64)get32(p + 4) << 32;
}

/*
 * Does a stored CRC match? Built for fuzzing (tests/fuzz, clang's
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION convention) every CRC matches:
 * otherwise nearly every mutated input stops at a CRC and the records'
 * contents never reach the checker and the writers.
 */
static bool crc_ok(__u32 stored, __u32 computed)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	(void)stored;
	(void)computed;
	return true;
#else
	return stored == computed;
#endif
}

/* CRC32 of an n-byte block whose 4-byte CRC field at crc_off counts as 0. */
static __u32 block_crc(const unsigned char *p, size_t n, size_t crc_off)
{
	static const unsigned char zero[4];
	__u32 crc = ia_crc32(0, p, crc_off);

	crc = ia_crc32(crc, zero, 4);
	return ia_crc32(crc, p + crc_off + 4, n - crc_off - 4);
}

static void vfmt(char *buf, size_t len, const char *fmt, va_list ap)
{
	if (buf && len)
		vsnprintf(buf, len, fmt, ap);
}

static void fmt(char *buf, size_t len, const char *f, ...)
	__attribute__((format(printf, 3, 4)));
static void fmt(char *buf, size_t len, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vfmt(buf, len, f, ap);
	va_end(ap);
}

static void copy_msg(char *dst, size_t len, const char *src)
{
	fmt(dst, len, "%s", src);
}

/* Copy src into a cap-byte char array: truncated, NUL-terminated. */
static void set_str(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strnlen(src, cap - 1) : 0;

	memcpy(dst, src ? src : "", n);
	memset(dst + n, 0, cap - n);
}

/* A string stored in a len-byte field, text of at most cap - 1 bytes. */
static void put_str(unsigned char *p, size_t len, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap - 1);

	memset(p, 0, len);
	memcpy(p, s, n);
}

/* Decode a string field: NUL within cap bytes, zeros after it. */
static bool get_str(char *dst, size_t cap, const unsigned char *p, size_t len)
{
	const unsigned char *nul = memchr(p, 0, cap);

	if (!nul)
		return false;
	for (const unsigned char *q = nul; q < p + len; q++)
		if (*q)
			return false;
	memcpy(dst, p, (size_t)(nul - p) + 1);
	return true;
}

/* What check_hdr() accepts, without building its message: the test every
 * record read takes (inlined), the message only for one that fails it. */
static inline bool hdr_ok(__u16 type, __u16 size, __u32 ntypes)
{
	return size >= sizeof(struct ia_ev_hdr) && !(size % 8) && type < ntypes &&
	       ia_ev_min_sizes[type] && size >= ia_ev_min_sizes[type];
}

/* ntypes: the record types of the format version at hand (version_types) */
static int check_hdr(__u16 type, __u16 size, __u32 ntypes, char *err, size_t errlen)
{
	if (hdr_ok(type, size, ntypes))
		return 0;
	if (size < sizeof(struct ia_ev_hdr)) {
		fmt(err, errlen, "record size %u is smaller than the %zu-byte record header",
		    size, sizeof(struct ia_ev_hdr));
		return IA_TRACE_EINVAL;
	}
	if (size % 8) {
		fmt(err, errlen, "record size %u is not a multiple of 8", size);
		return IA_TRACE_EINVAL;
	}
	if (type >= ntypes || !ia_ev_min_sizes[type]) {
		fmt(err, errlen, "unknown record type %u (format version %d knows 1..%u)",
		    type, ntypes == IA_EV_TYPE_MAX ? IA_TRACE_VERSION : ntypes == V4_TYPES ? 4 :
		    ntypes == V3_TYPES ? 3 : 2,
		    ntypes - 1);
		return IA_TRACE_EINVAL;
	}
	if (size < ia_ev_min_sizes[type]) {
		fmt(err, errlen, "record of type %u has size %u, smaller than its %u-byte struct",
		    type, size, ia_ev_min_sizes[type]);
		return IA_TRACE_EINVAL;
	}
	return 0;
}

int ia_trace_check_record(const void *rec, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = rec;
	__u16 size;
	int ret;

	if (!rec || len < sizeof(struct ia_ev_hdr)) {
		fmt(err, errlen, "record of %zu bytes is shorter than the %zu-byte record header",
		    rec ? len : 0, sizeof(struct ia_ev_hdr));
		return IA_TRACE_EINVAL;
	}
	size = get16(p + 2);
	/* the test inline first: the live reader checks every record */
	if (!hdr_ok(get16(p), size, IA_EV_TYPE_MAX) &&
	    (ret = check_hdr(get16(p), size, IA_EV_TYPE_MAX, err, errlen)))
		return ret;
	if (size > len) {
		fmt(err, errlen, "record size %u runs past the %zu bytes given", size, len);
		return IA_TRACE_EINVAL;
	}
	return 0;
}

const char *ia_trace_hook_state_str(__u32 state)
{
	switch (state) {
	case IA_HOOK_ATTACHED:	return "attached";
	case IA_HOOK_MISSING:	return "missing";
	case IA_HOOK_FAILED:	return "failed";
	case IA_HOOK_ABSENT:	return "absent";
	}
	return "?";
}

const char *ia_trace_strerror(int code)
{
	switch (code) {
	case IA_TRACE_OK:	return "success";
	case IA_TRACE_EIO:	return "I/O error";
	case IA_TRACE_ETRUNC:	return "truncated trace";
	case IA_TRACE_ECORRUPT:	return "corrupt trace";
	case IA_TRACE_EVERSION:	return "unsupported trace format version";
	case IA_TRACE_EINVAL:	return "invalid argument";
	case IA_TRACE_ENOMEM:	return "out of memory";
	}
	return "unknown error";
}

/* absent: since version 3 */
static bool valid_state(__u32 state, __u32 version)
{
	return state >= IA_HOOK_ATTACHED &&
	       state <= (version >= 3 ? IA_HOOK_ABSENT : IA_HOOK_FAILED);
}

/* ---- host metadata ---- */

static int read_boot_id(char *dst, size_t cap)
{
	char buf[64];
	ssize_t n;
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	buf[strcspn(buf, " \t\r\n")] = 0;
	set_str(dst, cap, buf);
	return dst[0] ? 0 : -1;
}

int ia_trace_meta_fill_host(struct ia_trace_meta *m)
{
	struct timespec m1, rt, m2;
	struct utsname u;
	long ps;
	int ret = 0;

	if (uname(&u) == 0) {
		set_str(m->kernel_release, sizeof(m->kernel_release), u.release);
		set_str(m->hostname, sizeof(m->hostname), u.nodename);
	} else {
		set_str(m->kernel_release, sizeof(m->kernel_release), "");
		set_str(m->hostname, sizeof(m->hostname), "");
		ret = IA_TRACE_EIO;
	}
	ps = sysconf(_SC_PAGESIZE);
	m->page_size = ps > 0 ? (__u32)ps : 0;
	if (ps <= 0)
		ret = IA_TRACE_EIO;
	if (read_boot_id(m->boot_id, sizeof(m->boot_id))) {
		set_str(m->boot_id, sizeof(m->boot_id), "");
		ret = IA_TRACE_EIO;
	}
	/* realtime between two monotonic reads: take their midpoint */
	if (clock_gettime(CLOCK_MONOTONIC, &m1) || clock_gettime(CLOCK_REALTIME, &rt) ||
	    clock_gettime(CLOCK_MONOTONIC, &m2)) {
		m->start_realtime_ns = m->start_monotonic_ns = 0;
		return IA_TRACE_EIO;
	}
	__u64 a = (__u64)m1.tv_sec * 1000000000u + (__u64)m1.tv_nsec;
	__u64 b = (__u64)m2.tv_sec * 1000000000u + (__u64)m2.tv_nsec;

	m->start_monotonic_ns = a + (b - a) / 2;
	m->start_realtime_ns = (__u64)rt.tv_sec * 1000000000u + (__u64)rt.tv_nsec;
	return ret;
}

int ia_trace_meta_add_hook(struct ia_trace_meta *m, const char *name,
			   __u32 state, const char *reason)
{
	struct ia_trace_hook *h;

	if (m->nr_hooks >= IA_TRACE_MAX_HOOKS || !valid_state(state, IA_TRACE_VERSION))
		return IA_TRACE_EINVAL;
	h = &m->hooks[m->nr_hooks++];
	set_str(h->name, sizeof(h->name), name);
	h->state = state;
	set_str(h->reason, sizeof(h->reason), reason);
	return 0;
}

/* ---- writer ---- */

#define W_BUF_SIZE	(128 * 1024)
_Static_assert(W_BUF_SIZE >= REC_MAX_SIZE && W_BUF_SIZE >= H_MAX_SIZE, "writer buffer");

struct ia_trace_writer {
	int fd;
	bool failed;		/* I/O error: sticky */
	char *path;
	unsigned char *buf;
	size_t len;
	__u64 header_size;
	__u64 records;
	__u64 bytes;
	__u32 crc;
	__u64 per_type[IA_EV_TYPE_MAX];
	double first_buffered;	/* CLOCK_MONOTONIC s of the oldest buffered record */
	char msg[512];
};

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0) {
			errno = EIO;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static bool meta_str_ok(const char *s, size_t cap)
{
	return memchr(s, 0, cap) != NULL;
}

static int check_meta(const struct ia_trace_meta *m, char *err, size_t errlen)
{
	static const struct { const char *name; size_t off, cap; } strs[] = {
		{ "kernel_release", offsetof(struct ia_trace_meta, kernel_release),
		  sizeof(((struct ia_trace_meta *)0)->kernel_release) },
		{ "boot_id", offsetof(struct ia_trace_meta, boot_id),
		  sizeof(((struct ia_trace_meta *)0)->boot_id) },
		{ "hostname", offsetof(struct ia_trace_meta, hostname),
		  sizeof(((struct ia_trace_meta *)0)->hostname) },
		{ "tool_version", offsetof(struct ia_trace_meta, tool_version),
		  sizeof(((struct ia_trace_meta *)0)->tool_version) },
	};

	if (!m) {
		fmt(err, errlen, "no trace metadata given");
		return IA_TRACE_EINVAL;
	}
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (!meta_str_ok((const char *)m + strs[i].off, strs[i].cap)) {
			fmt(err, errlen, "trace metadata: %s is not NUL-terminated", strs[i].name);
			return IA_TRACE_EINVAL;
		}
	}
	if (m->nr_hooks > IA_TRACE_MAX_HOOKS) {
		fmt(err, errlen, "trace metadata: %u hooks, at most %d fit",
		    m->nr_hooks, IA_TRACE_MAX_HOOKS);
		return IA_TRACE_EINVAL;
	}
	for (__u32 i = 0; i < m->nr_hooks; i++) {
		const struct ia_trace_hook *h = &m->hooks[i];

		if (!meta_str_ok(h->name, sizeof(h->name)) ||
		    !meta_str_ok(h->reason, sizeof(h->reason))) {
			fmt(err, errlen, "trace metadata: hook %u: name or reason is not NUL-terminated", i);
			return IA_TRACE_EINVAL;
		}
		if (!valid_state(h->state, IA_TRACE_VERSION)) {
			fmt(err, errlen, "trace metadata: hook %u (%s): invalid state %u",
			    i, h->name, h->state);
			return IA_TRACE_EINVAL;
		}
	}
	return 0;
}

/* Serialize the header into p (at least H_MAX_SIZE bytes); its size. */
static size_t encode_header(unsigned char *p, const struct ia_trace_meta *m)
{
	size_t size = H_FIXED + (size_t)K_SIZE * m->nr_hooks;

	memset(p, 0, size);
	memcpy(p + H_MAGIC, TRACE_MAGIC, sizeof(TRACE_MAGIC));
	put32(p + H_VERSION, IA_TRACE_VERSION);
	put32(p + H_SIZE, (__u32)size);
	put32(p + H_PAGE_SIZE, m->page_size);
	put64(p + H_START_REAL, m->start_realtime_ns);
	put64(p + H_START_MONO, m->start_monotonic_ns);
	put32(p + H_NR_HOOKS, m->nr_hooks);
	put32(p + H_RESERVED, 0);
	put_str(p + H_KREL, H_KREL_LEN, m->kernel_release, sizeof(m->kernel_release));
	put_str(p + H_BOOT_ID, H_BOOT_ID_LEN, m->boot_id, sizeof(m->boot_id));
	put_str(p + H_HOST, H_HOST_LEN, m->hostname, sizeof(m->hostname));
	put_str(p + H_TOOL, H_TOOL_LEN, m->tool_version, sizeof(m->tool_version));
	for (__u32 i = 0; i < m->nr_hooks; i++) {
		unsigned char *k = p + H_FIXED + (size_t)K_SIZE * i;
		const struct ia_trace_hook *h = &m->hooks[i];

		put_str(k + K_NAME, K_NAME_LEN, h->name, sizeof(h->name));
		put32(k + K_STATE, h->state);
		put_str(k + K_REASON, K_REASON_LEN, h->reason, sizeof(h->reason));
	}
	put32(p + H_CRC, block_crc(p, size, H_CRC));
	return size;
}

static void writer_free(struct ia_trace_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w->buf);
	free(w->path);
	free(w);
}

struct ia_trace_writer *ia_trace_create(const char *path,
					const struct ia_trace_meta *meta,
					char *err, size_t errlen)
{
	struct ia_trace_writer *w;
	struct stat st;
	int fl;

	if (!path) {
		fmt(err, errlen, "no trace file name given");
		return NULL;
	}
	if (check_meta(meta, err, errlen))
		return NULL;
	w = calloc(1, sizeof(*w));
	if (w)
		w->fd = -1;
	if (!w || !(w->buf = malloc(W_BUF_SIZE)) || !(w->path = strdup(path))) {
		fmt(err, errlen, "%s: out of memory", path);
		writer_free(w);
		return NULL;
	}
	/*
	 * No O_TRUNC: nothing is changed until fstat says this is a regular
	 * file. O_NONBLOCK: a FIFO without a reader fails instead of blocking.
	 */
	w->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
	if (w->fd < 0) {
		fmt(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(w->fd, &st)) {
		fmt(err, errlen, "%s: fstat: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		fmt(err, errlen, "%s: not a regular file: a trace must be written to a file", path);
		goto fail;
	}
	/* it holds physical addresses: owner only, also if it existed */
	if (fchmod(w->fd, 0600)) {
		fmt(err, errlen, "%s: cannot make it mode 0600: %s", path, strerror(errno));
		goto fail;
	}
	if (ftruncate(w->fd, 0)) {
		fmt(err, errlen, "%s: cannot truncate: %s", path, strerror(errno));
		goto fail;
	}
	fl = fcntl(w->fd, F_GETFL);
	if (fl < 0 || fcntl(w->fd, F_SETFL, fl & ~O_NONBLOCK)) {
		fmt(err, errlen, "%s: fcntl: %s", path, strerror(errno));
		goto fail;
	}
	/* the header goes out now: an interrupted recording still has it */
	w->header_size = encode_header(w->buf, meta);
	if (write_all(w->fd, w->buf, w->header_size)) {
		fmt(err, errlen, "%s: cannot write the header: %s", path, strerror(errno));
		goto fail;
	}
	return w;
fail:
	writer_free(w);
	return NULL;
}

static int wfail(struct ia_trace_writer *w, int code, const char *what)
{
	fmt(w->msg, sizeof(w->msg), "%s: %s: %s", w->path, what, strerror(errno));
	if (code == IA_TRACE_EIO)
		w->failed = true;
	return code;
}

int ia_trace_flush(struct ia_trace_writer *w)
{
	if (!w)
		return IA_TRACE_EINVAL;
	if (w->failed)
		return IA_TRACE_EIO;
	/* the buffer holds records only: one crc32() per buffer, not per record */
	w->crc = ia_crc32(w->crc, w->buf, w->len);
	if (w->len && write_all(w->fd, w->buf, w->len))
		return wfail(w, IA_TRACE_EIO, "write failed");
	w->len = 0;
	return 0;
}

/* Why rec is not written, in w->msg (kept out of ia_trace_write(): the
 * reader's path for every record of a live run, which then holds no
 * message buffer) */
static __attribute__((noinline)) int write_refused(struct ia_trace_writer *w,
						   const struct ia_ev_hdr *rec)
{
	char why[160];
	int ret;

	if (!rec) {
		fmt(w->msg, sizeof(w->msg), "%s: no record given", w->path);
		return IA_TRACE_EINVAL;
	}
	ret = check_hdr(rec->type, rec->size, IA_EV_TYPE_MAX, why, sizeof(why));
	fmt(w->msg, sizeof(w->msg), "%s: record #%llu not written: %s",
	    w->path, (unsigned long long)w->records, why);
	return ret;
}

int ia_trace_write(struct ia_trace_writer *w, const struct ia_ev_hdr *rec)
{
	int ret;

	if (!w)
		return IA_TRACE_EINVAL;
	if (w->failed)
		return IA_TRACE_EIO;
	if (!rec || !hdr_ok(rec->type, rec->size, IA_EV_TYPE_MAX))
		return write_refused(w, rec);
	if (w->len + rec->size > W_BUF_SIZE && (ret = ia_trace_flush(w)))
		return ret;
	if (!w->len)	/* one clock read per buffer, not per record */
		w->first_buffered = ia_mono_s();
	memcpy(w->buf + w->len, rec, rec->size);
	w->len += rec->size;
	w->records++;
	w->bytes += rec->size;
	w->per_type[rec->type]++;
	return 0;
}

int ia_trace_flush_due(struct ia_trace_writer *w, double max_age_s)
{
	if (w && !w->failed && w->len && ia_mono_s() - w->first_buffered < max_age_s)
		return 0;
	return ia_trace_flush(w);
}

const char *ia_trace_writer_error(const struct ia_trace_writer *w)
{
	return w ? w->msg : "";
}

int ia_trace_finish(struct ia_trace_writer *w, const __u64 lost[IA_DROP_MAX],
		    char *err, size_t errlen)
{
	unsigned char t[T_LEN];
	int ret;

	if (!w) {
		fmt(err, errlen, "no trace writer given");
		return IA_TRACE_EINVAL;
	}
	if ((ret = ia_trace_flush(w)))
		goto out;
	memset(t, 0, sizeof(t));
	memcpy(t + T_MAGIC, TRAIL_MAGIC, sizeof(TRAIL_MAGIC));
	put32(t + T_SIZE, T_LEN);
	put64(t + T_REC_OFF, w->header_size);
	put64(t + T_REC_BYTES, w->bytes);
	put64(t + T_REC_COUNT, w->records);
	put32(t + T_REC_CRC, w->crc);
	put32(t + T_NR_TYPES, IA_EV_TYPE_MAX);
	put32(t + T_NR_DROPS, IA_DROP_MAX);
	put32(t + T_RESERVED, 0);
	for (int i = 0; i < IA_EV_TYPE_MAX; i++)
		put64(t + T_PER_TYPE + 8 * i, w->per_type[i]);
	for (int i = 0; i < IA_DROP_MAX; i++)
		put64(t + T_LOST_AT(IA_EV_TYPE_MAX) + 8 * i, lost ? lost[i] : 0);
	put32(t + T_CRC, block_crc(t, T_LEN, T_CRC));
	if (write_all(w->fd, t, T_LEN)) {
		ret = wfail(w, IA_TRACE_EIO, "cannot write the trailer");
		goto out;
	}
	if (fsync(w->fd)) {
		ret = wfail(w, IA_TRACE_EIO, "fsync failed");
		goto out;
	}
	ret = close(w->fd);
	w->fd = -1;
	if (ret)
		ret = wfail(w, IA_TRACE_EIO, "close failed");
out:
	if (ret)
		copy_msg(err, errlen, w->msg);
	writer_free(w);
	return ret;
}

void ia_trace_discard(struct ia_trace_writer *w)
{
	writer_free(w);
}

void ia_trace_abandon(struct ia_trace_writer *w, char *err, size_t errlen)
{
	if (w && w->failed)
		fmt(err, errlen, "%s; the recording stopped there: the trace keeps the "
		    "records written before, without a trailer (it reads as truncated)", w->msg);
	writer_free(w);
}

/* ---- reader ---- */

#define R_BUF_SIZE	(128 * 1024)
#define OFF_UNKNOWN	UINT64_MAX
_Static_assert(R_BUF_SIZE > REC_MAX_SIZE && R_BUF_SIZE > H_MAX_SIZE, "reader buffer");

enum r_state { R_RECORDS, R_DONE, R_FAILED };

struct ia_trace_reader {
	int fd;			/* -1: reading mem (ia_trace_open_mem) */
	const unsigned char *mem;
	size_t mem_len, mem_pos;
	enum r_state state;
	int code;		/* result once not R_RECORDS */
	char *path;
	__u64 file_size;	/* OFF_UNKNOWN: not a regular file */
	__u64 header_size;	/* = where the records start */
	__u32 version;		/* the file's format version */
	__u32 ntypes;		/* record types it knows: version_types() */
	__u32 trailer_len;	/* T_LEN_FOR(ntypes) */
	__u64 records_end;	/* from the trailer; OFF_UNKNOWN until known */
	unsigned char *buf;	/* buf[0] is at file offset buf_off */
	size_t buf_cap;		/* R_BUF_SIZE, or less for a small mem */
	size_t pos, len;	/* unread bytes: buf[pos, len) */
	size_t crc_from;	/* records in buf[crc_from, pos) not in seen.crc32 */
	__u64 buf_off;
	struct ia_trace_stats seen;	/* counted while reading */
	struct ia_trace_meta meta;
	char msg[512];
};

static int rfail(struct ia_trace_reader *r, int code, const char *f, ...)
	__attribute__((format(printf, 3, 4)));
static int rfail(struct ia_trace_reader *r, int code, const char *f, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, f);
	vfmt(what, sizeof(what), f, ap);
	va_end(ap);
	fmt(r->msg, sizeof(r->msg), "%s: %s", r->path, what);
	r->state = R_FAILED;
	r->code = code;
	return code;
}

static __u64 r_off(const struct ia_trace_reader *r)
{
	return r->buf_off + r->pos;
}

/* read(2) from the file, or from the memory the reader was opened on. */
static ssize_t r_read(struct ia_trace_reader *r, void *dst, size_t n)
{
	if (r->fd < 0) {
		n = n < r->mem_len - r->mem_pos ? n : r->mem_len - r->mem_pos;
		memcpy(dst, r->mem + r->mem_pos, n);
		r->mem_pos += n;
		return (ssize_t)n;
	}
	return read(r->fd, dst, n);
}

/* pread(2), likewise. */
static ssize_t r_pread(struct ia_trace_reader *r, void *dst, size_t n, __u64 off)
{
	if (r->fd < 0) {
		if (off > r->mem_len)
			return 0;
		n = n < r->mem_len - off ? n : r->mem_len - off;
		memcpy(dst, r->mem + off, n);
		return (ssize_t)n;
	}
	return pread(r->fd, dst, n, (off_t)off);
}

/*
 * Make at least need (<= R_BUF_SIZE) unread bytes available in buf.
 * Returns how many are (fewer only at end of file), or -1 (errno set).
 */
/*
 * Fold the records read since the last call into seen.crc32: one crc32()
 * per buffer of records rather than per record (zlib's per-call cost is
 * most of a record's).
 */
static void r_crc(struct ia_trace_reader *r)
{
	if (r->pos > r->crc_from)
		r->seen.crc32 = ia_crc32(r->seen.crc32, r->buf + r->crc_from,
					   r->pos - r->crc_from);
	r->crc_from = r->pos;
}

static ssize_t r_fill(struct ia_trace_reader *r, size_t need)
{
	if (r->len - r->pos >= need)
		return (ssize_t)(r->len - r->pos);
	if (r->pos) {
		r_crc(r);
		r->crc_from = 0;
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->buf_off += r->pos;
		r->len -= r->pos;
		r->pos = 0;
	}
	while (r->len < need) {
		ssize_t n = r_read(r, r->buf + r->len, r->buf_cap - r->len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		r->len += (size_t)n;
	}
	return (ssize_t)r->len;
}

static int r_ioerr(struct ia_trace_reader *r)
{
	return rfail(r, IA_TRACE_EIO, "read error at offset %llu: %s",
		     (unsigned long long)r_off(r), strerror(errno));
}

static int r_trunc(struct ia_trace_reader *r, const char *where)
{
	return rfail(r, IA_TRACE_ETRUNC,
		     "truncated: %s; there is no trailer, so the recording was probably interrupted "
		     "(or is still being written); %llu complete records (%llu bytes) were readable",
		     where, (unsigned long long)r->seen.records,
		     (unsigned long long)r->seen.bytes);
}

static int parse_header(struct ia_trace_reader *r, const unsigned char *p)
{
	struct ia_trace_meta *m = &r->meta;
	static const struct { const char *name; size_t moff, cap, doff, len; } strs[] = {
		{ "kernel release", offsetof(struct ia_trace_meta, kernel_release),
		  sizeof(((struct ia_trace_meta *)0)->kernel_release), H_KREL, H_KREL_LEN },
		{ "boot id", offsetof(struct ia_trace_meta, boot_id),
		  sizeof(((struct ia_trace_meta *)0)->boot_id), H_BOOT_ID, H_BOOT_ID_LEN },
		{ "hostname", offsetof(struct ia_trace_meta, hostname),
		  sizeof(((struct ia_trace_meta *)0)->hostname), H_HOST, H_HOST_LEN },
		{ "tool version", offsetof(struct ia_trace_meta, tool_version),
		  sizeof(((struct ia_trace_meta *)0)->tool_version), H_TOOL, H_TOOL_LEN },
	};

	m->nr_hooks = get32(p + H_NR_HOOKS);
	if (m->nr_hooks > IA_TRACE_MAX_HOOKS ||
	    r->header_size != H_FIXED + (__u64)K_SIZE * m->nr_hooks)
		return rfail(r, IA_TRACE_ECORRUPT,
			     "corrupt header: %u hooks do not fit its size of %llu bytes",
			     m->nr_hooks, (unsigned long long)r->header_size);
	if (get32(p + H_RESERVED))
		return rfail(r, IA_TRACE_ECORRUPT, "corrupt header: reserved field is not 0");
	m->page_size = get32(p + H_PAGE_SIZE);
	m->start_realtime_ns = get64(p + H_START_REAL);
	m->start_monotonic_ns = get64(p + H_START_MONO);
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (!get_str((char *)m + strs[i].moff, strs[i].cap, p + strs[i].doff, strs[i].len))
			return rfail(r, IA_TRACE_ECORRUPT,
				     "corrupt header: %s is not a terminated string", strs[i].name);
	for (__u32 i = 0; i < m->nr_hooks; i++) {
		const unsigned char *k = p + H_FIXED + (size_t)K_SIZE * i;
		struct ia_trace_hook *h = &m->hooks[i];

		if (!get_str(h->name, sizeof(h->name), k + K_NAME, K_NAME_LEN) ||
		    !get_str(h->reason, sizeof(h->reason), k + K_REASON, K_REASON_LEN))
			return rfail(r, IA_TRACE_ECORRUPT,
				     "corrupt header: hook %u: name or reason is not a terminated string", i);
		h->state = get32(k + K_STATE);
		if (!valid_state(h->state, r->version))
			return rfail(r, IA_TRACE_ECORRUPT,
				     "corrupt header: hook %u (%s): invalid state %u",
				     i, h->name, h->state);
	}
	return 0;
}

static int read_header(struct ia_trace_reader *r)
{
	const unsigned char *p;
	ssize_t n = r_fill(r, 16);
	__u32 version, size;

	if (n < 0)
		return r_ioerr(r);
	p = r->buf;
	if (memcmp(p, TRACE_MAGIC, (size_t)n < 8 ? (size_t)n : 8))
		return rfail(r, IA_TRACE_ECORRUPT,
			     "not an iommu-audit trace (bad magic: the file does not start with \"IATRACE\\0\")");
	if (n < 12)
		return r_trunc(r, n ? "the file ends inside the header" : "the file is empty");
	version = get32(p + H_VERSION);
	if (version > IA_TRACE_VERSION)
		return rfail(r, IA_TRACE_EVERSION,
			     "trace format version %u; this build of iommu-audit reads versions %d to %d only: "
			     "read it with a newer iommu-audit", version, IA_TRACE_VERSION_OLDEST,
			     IA_TRACE_VERSION);
	if (version < IA_TRACE_VERSION_OLDEST)
		return rfail(r, IA_TRACE_ECORRUPT, "corrupt header: invalid format version %u", version);
	r->version = version;
	r->ntypes = version_types(version);
	r->trailer_len = T_LEN_FOR(r->ntypes);
	if (n < 16)
		return r_trunc(r, "the file ends inside the header");
	size = get32(p + H_SIZE);
	if (size < H_FIXED || size > H_MAX_SIZE || size % 8)
		return rfail(r, IA_TRACE_ECORRUPT,
			     "corrupt header: header size %u is not a multiple of 8 in [%d, %d]",
			     size, H_FIXED, H_MAX_SIZE);
	r->header_size = size;
	n = r_fill(r, size);
	if (n < 0)
		return r_ioerr(r);
	if ((size_t)n < size)
		return r_trunc(r, "the file ends inside the header");
	p = r->buf;
	if (!crc_ok(get32(p + H_CRC), block_crc(p, size, H_CRC)))
		return rfail(r, IA_TRACE_ECORRUPT,
			     "corrupt header: CRC mismatch (stored 0x%08x, computed 0x%08x)",
			     get32(p + H_CRC), block_crc(p, size, H_CRC));
	if (parse_header(r, p))
		return r->code;
	r->pos = size;
	r->crc_from = size;
	return 0;
}

/* Check a trailer's framing: magic, size, own CRC, record offset. */
static const char *trailer_framing(const struct ia_trace_reader *r, const unsigned char *t)
{
	if (memcmp(t + T_MAGIC, TRAIL_MAGIC, sizeof(TRAIL_MAGIC)))
		return "bad trailer magic";
	if (get32(t + T_SIZE) != r->trailer_len)
		return "bad trailer size";
	if (!crc_ok(get32(t + T_CRC), block_crc(t, r->trailer_len, T_CRC)))
		return "trailer CRC mismatch";
	if (get64(t + T_REC_OFF) != r->header_size)
		return "trailer's record offset is not the header size";
	return NULL;
}

/*
 * A regular file that ends in a sound trailer tells where the records end,
 * so a record running past that is corruption, not truncation. Anything
 * else is found out while streaming.
 */
static void probe_trailer(struct ia_trace_reader *r)
{
	unsigned char t[T_LEN];
	ssize_t n;

	size_t tl = r->trailer_len;

	if (r->file_size == OFF_UNKNOWN || r->file_size < r->header_size + tl)
		return;
	do
		n = r_pread(r, t, tl, r->file_size - tl);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)tl || trailer_framing(r, t))
		return;
	if (r->header_size + get64(t + T_REC_BYTES) + tl == r->file_size)
		r->records_end = r->file_size - tl;
}

/* cap: the buffer's size; R_BUF_SIZE, or what holds all of a trace in mem */
static struct ia_trace_reader *reader_new(const char *path, size_t cap, char *err,
					  size_t errlen)
{
	struct ia_trace_reader *r = calloc(1, sizeof(*r));

	if (!r || !(r->buf = malloc(cap)) || !(r->path = strdup(path))) {
		fmt(err, errlen, "%s: out of memory", path);
		if (r)
			free(r->buf);
		free(r);
		return NULL;
	}
	r->buf_cap = cap;
	r->fd = -1;
	r->records_end = OFF_UNKNOWN;
	r->file_size = OFF_UNKNOWN;
	return r;
}

/* The header, the trailer if the size is known; then the records. */
static int reader_start(struct ia_trace_reader *r, struct ia_trace_reader **rp,
			char *err, size_t errlen)
{
	int ret = read_header(r);

	if (ret) {
		copy_msg(err, errlen, r->msg);
		ia_trace_close(r);
		return ret;
	}
	probe_trailer(r);
	r->state = R_RECORDS;
	*rp = r;
	return 0;
}

/*
 * Open without blocking: a FIFO nobody writes to would block open(2)
 * forever. A pipe is read as a stream; a device, a socket or a directory is
 * refused.
 */
static int reader_open_fd(struct ia_trace_reader *r, const char *path)
{
	struct stat st;

	r->fd = ia_open_nonblock(path, O_RDONLY, 0);
	if (r->fd < 0)
		return rfail(r, IA_TRACE_EIO, "cannot open: %s", strerror(errno));
	if (fstat(r->fd, &st))
		return rfail(r, IA_TRACE_EIO, "fstat: %s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		return rfail(r, IA_TRACE_EIO, "is a directory");
	if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
		return rfail(r, IA_TRACE_EIO, "not a regular file or a pipe");
	if (S_ISREG(st.st_mode))
		r->file_size = (__u64)st.st_size;
	return 0;
}

int ia_trace_open_ex(const char *path, struct ia_trace_reader **rp,
		     char *err, size_t errlen)
{
	struct ia_trace_reader *r;
	int ret;

	if (rp)
		*rp = NULL;
	if (!path || !rp) {
		fmt(err, errlen, "ia_trace_open: no path given");
		return IA_TRACE_EINVAL;
	}
	r = reader_new(path, R_BUF_SIZE, err, errlen);
	if (!r)
		return IA_TRACE_ENOMEM;
	ret = reader_open_fd(r, path);
	if (ret) {
		copy_msg(err, errlen, r->msg);
		ia_trace_close(r);
		return ret;
	}
	return reader_start(r, rp, err, errlen);
}

int ia_trace_open_mem(const void *buf, size_t len, const char *name,
		      struct ia_trace_reader **rp, char *err, size_t errlen)
{
	struct ia_trace_reader *r;

	if (rp)
		*rp = NULL;
	if (!name || !rp || (!buf && len)) {
		fmt(err, errlen, "ia_trace_open_mem: no buffer or name given");
		return IA_TRACE_EINVAL;
	}
	r = reader_new(name, len < R_BUF_SIZE ? len + 1 : R_BUF_SIZE, err, errlen);
	if (!r)
		return IA_TRACE_ENOMEM;
	r->mem = buf;
	r->mem_len = len;
	r->file_size = len;
	return reader_start(r, rp, err, errlen);
}

struct ia_trace_reader *ia_trace_open(const char *path, char *err, size_t errlen)
{
	struct ia_trace_reader *r;

	ia_trace_open_ex(path, &r, err, errlen);
	return r;
}

const struct ia_trace_meta *ia_trace_meta(const struct ia_trace_reader *r)
{
	return r ? &r->meta : NULL;
}

static int read_trailer(struct ia_trace_reader *r)
{
	unsigned long long off = r_off(r);
	const unsigned char *t;
	const char *bad;
	__u32 tl = r->trailer_len;
	ssize_t n;

	r_crc(r);	/* everything before pos is a record */
	n = r_fill(r, tl);

	if (n < 0)
		return r_ioerr(r);
	if (n < (ssize_t)tl) {
		char where[128];

		fmt(where, sizeof(where), "the file ends inside the trailer at offset %llu (%zd of %u bytes)",
		    off, n, tl);
		return r_trunc(r, where);
	}
	t = r->buf + r->pos;
	bad = trailer_framing(r, t);
	if (bad)
		return rfail(r, IA_TRACE_ECORRUPT, "corrupt trailer at offset %llu: %s", off, bad);
	if (get64(t + T_REC_COUNT) != r->seen.records)
		return rfail(r, IA_TRACE_ECORRUPT,
			     "corrupt: record count mismatch: read %llu records, the trailer says %llu",
			     (unsigned long long)r->seen.records,
			     (unsigned long long)get64(t + T_REC_COUNT));
	if (get64(t + T_REC_BYTES) != r->seen.bytes)
		return rfail(r, IA_TRACE_ECORRUPT,
			     "corrupt: record bytes mismatch: read %llu bytes of records, the trailer says %llu",
			     (unsigned long long)r->seen.bytes,
			     (unsigned long long)get64(t + T_REC_BYTES));
	if (!crc_ok(get32(t + T_REC_CRC), r->seen.crc32))
		return rfail(r, IA_TRACE_ECORRUPT,
			     "corrupt: CRC mismatch: the records have CRC32 0x%08x, the trailer says 0x%08x",
			     r->seen.crc32, get32(t + T_REC_CRC));
	if (get32(t + T_NR_TYPES) != r->ntypes || get32(t + T_NR_DROPS) != IA_DROP_MAX ||
	    get32(t + T_RESERVED))
		return rfail(r, IA_TRACE_ECORRUPT,
			     "corrupt trailer: %u types, %u drop reasons, reserved 0x%x (expected %u, %d, 0)",
			     get32(t + T_NR_TYPES), get32(t + T_NR_DROPS), get32(t + T_RESERVED),
			     r->ntypes, IA_DROP_MAX);
	for (__u32 i = 0; i < r->ntypes; i++)
		if (get64(t + T_PER_TYPE + 8 * i) != r->seen.per_type[i])
			return rfail(r, IA_TRACE_ECORRUPT,
				     "corrupt: count mismatch for record type %d: read %llu, the trailer says %llu",
				     i, (unsigned long long)r->seen.per_type[i],
				     (unsigned long long)get64(t + T_PER_TYPE + 8 * i));
	for (int i = 0; i < IA_DROP_MAX; i++)
		r->seen.lost[i] = get64(t + T_LOST_AT(r->ntypes) + 8 * i);
	r->pos += tl;
	r->crc_from = r->pos;	/* the trailer is not a record */
	n = r_fill(r, 1);
	if (n < 0)
		return r_ioerr(r);
	if (n > 0)
		return rfail(r, IA_TRACE_ECORRUPT, "corrupt: data after the trailer at offset %llu",
			     (unsigned long long)r_off(r));
	r->state = R_DONE;
	r->code = 0;
	return 0;
}

/* The record of this type and size at pos, checked: it is read. */
static const struct ia_ev_hdr *take(struct ia_trace_reader *r, __u16 type, __u16 size)
{
	const unsigned char *p = r->buf + r->pos;

	r->pos += size;
	r->seen.records++;
	r->seen.bytes += size;
	r->seen.per_type[type]++;
	return (const struct ia_ev_hdr *)p;
}

/* ia_trace_next() the whole way: every check, every error worded. */
static int __attribute__((noinline)) next_slow(struct ia_trace_reader *r,
					       const struct ia_ev_hdr **rec)
{
	unsigned long long off;
	const unsigned char *p;
	char why[160], where[160];
	__u16 type, size;
	ssize_t n;

	if (!r)
		return IA_TRACE_EINVAL;
	if (rec)
		*rec = NULL;
	if (r->state != R_RECORDS)
		return r->code;
	if (!rec)
		return rfail(r, IA_TRACE_EINVAL, "ia_trace_next: no record pointer given");
	off = r_off(r);
	if (r->records_end != OFF_UNKNOWN && off == r->records_end)
		return read_trailer(r);
	/* r_fill() only when the buffer runs short (once per buffer) */
	n = r->len - r->pos >= 8 ? (ssize_t)(r->len - r->pos) : r_fill(r, 8);
	if (n < 0)
		return r_ioerr(r);
	if (n == 0) {
		fmt(where, sizeof(where), "the file ends after record #%llu at offset %llu",
		    (unsigned long long)r->seen.records, off);
		return r_trunc(r, where);
	}
	if (n < 8) {
		fmt(where, sizeof(where), "the file ends inside the record header at offset %llu", off);
		return r_trunc(r, where);
	}
	p = r->buf + r->pos;
	if (!memcmp(p, TRAIL_MAGIC, sizeof(TRAIL_MAGIC))) {
		if (r->records_end == OFF_UNKNOWN)
			return read_trailer(r);
		return rfail(r, IA_TRACE_ECORRUPT,
			     "corrupt: trailer marker at offset %llu, inside the records (which end at %llu)",
			     off, (unsigned long long)r->records_end);
	}
	type = get16(p);
	size = get16(p + 2);
	if (!hdr_ok(type, size, r->ntypes) && check_hdr(type, size, r->ntypes, why, sizeof(why)))
		return rfail(r, IA_TRACE_ECORRUPT, "corrupt record #%llu at offset %llu: %s",
			     (unsigned long long)r->seen.records + 1, off, why);
	if (r->records_end != OFF_UNKNOWN && off + size > r->records_end)
		return rfail(r, IA_TRACE_ECORRUPT,
			     "corrupt record #%llu at offset %llu: its size %u runs past the end of the records at %llu",
			     (unsigned long long)r->seen.records + 1, off, size,
			     (unsigned long long)r->records_end);
	n = r->len - r->pos >= size ? (ssize_t)(r->len - r->pos) : r_fill(r, size);
	if (n < 0)
		return r_ioerr(r);
	if (n < size) {
		fmt(where, sizeof(where),
		    "the file ends inside record #%llu at offset %llu (%zd of its %u bytes present)",
		    (unsigned long long)r->seen.records + 1, off, n, size);
		return r_trunc(r, where);
	}
	*rec = take(r, type, size);
	return 1;
}

_Static_assert(IA_EV_TYPE_MAX <= ('I' | 'A' << 8), "a trailer's magic is no record header");

/*
 * The common case first: a sane record header, the whole record in the
 * buffer, before the end of the records. Anything else (the buffer short,
 * the trailer, whose magic is no sane header, a damaged record, an error,
 * the end) goes the whole way, from the same state: next_slow() makes the
 * same checks and words what failed. The fast path is a third of the
 * instructions (no message buffers, no stack to protect).
 */
int ia_trace_next(struct ia_trace_reader *r, const struct ia_ev_hdr **rec)
{
	if (r && rec && r->state == R_RECORDS && r->len - r->pos >= 8) {
		const unsigned char *p = r->buf + r->pos;
		__u16 type = get16(p), size = get16(p + 2);

		if (hdr_ok(type, size, r->ntypes) && r->len - r->pos >= size &&
		    (r->records_end == OFF_UNKNOWN || r_off(r) + size <= r->records_end)) {
			*rec = take(r, type, size);
			return 1;
		}
	}
	return next_slow(r, rec);
}

const char *ia_trace_error(const struct ia_trace_reader *r)
{
	return r && r->state == R_FAILED ? r->msg : "";
}

const struct ia_trace_stats *ia_trace_stats(const struct ia_trace_reader *r)
{
	return r && r->state == R_DONE ? &r->seen : NULL;
}

void ia_trace_close(struct ia_trace_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	free(r->path);
	free(r);
}
