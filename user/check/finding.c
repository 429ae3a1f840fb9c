// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "check/devstats.h"
#include "check/finding.h"
#include "lib/json.h"

static bool has_prefix(const char *sym, const char *const *prefixes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strncmp(sym, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/* the DMA code itself (dma-iommu, dma-mapping, dma-debug) */
static bool dma_frame(const char *sym)
{
	static const char *const prefixes[] = {
		"iommu_dma_", "__iommu_dma_", "dma_", "__dma_", "debug_dma_", "dma_common_",
	};

	return has_prefix(sym, prefixes, sizeof(prefixes) / sizeof(prefixes[0]));
}

bool ia_site_core_frame(const char *sym)
{
	static const char *const tracer[] = {
		"bpf_", "?",
		/* a fexit or kretprobe program's stack starts in its
		 * trampoline (production mode's sites, bpf/prod.bpf.c) */
		"ftrace_trampoline", "__kretprobe_trampoline", "kretprobe_trampoline",
	};

	return dma_frame(sym) || has_prefix(sym, tracer, sizeof(tracer) / sizeof(tracer[0])) ||
	       !sym[0];
}

/*
 * A DMA function's frame at its fentry call ("fn+0x5"; "+0x9" after an
 * ENDBR): the frame inside it (innermost side) is a trampoline's, which
 * made no call of its own in that function.
 */
static bool entry_frame(const char *sym)
{
	const char *plus = strchr(sym, '+');

	return dma_frame(sym) && plus && !strncmp(plus, "+0x", 3) &&
	       strtoull(plus + 3, NULL, 16) < 0x10;
}

size_t ia_site_start(const char (*syms)[IA_SYM_LEN], size_t n)
{
	size_t i = 0;

	while (i < n && !dma_frame(syms[i]))
		i++;
	if (i == n)	/* no DMA frame: the stack is the site's from its top */
		i = 0;
	/* the DMA code's frames, with the trampolines between them (named
	 * or not: seen "cleanup_module [ia_fixture]" before a
	 * "iommu_dma_map_page+0x5") */
	while (i < n && (ia_site_core_frame(syms[i]) || (i + 1 < n && entry_frame(syms[i + 1]))))
		i++;
	return i;
}

const char *ia_severity_str(__u32 sev)
{
	switch (sev) {
	case IA_SEV_INFO:	return "info";
	case IA_SEV_WARNING:	return "warning";
	case IA_SEV_ERROR:	return "error";
	default:		return "?";
	}
}

int ia_severity_parse(const char *s)
{
	for (int i = IA_SEV_INFO; i <= IA_SEV_ERROR; i++)
		if (!strcmp(s, ia_severity_str(i)))
			return i;
	return -1;
}

const char *ia_invariant_str(__u32 inv)
{
	switch (inv) {
	case IA_INV_TRANSLATION:	return "translation";
	case IA_INV_EXPOSURE:		return "exposure";
	case IA_INV_ALIGNMENT:		return "alignment";
	case IA_INV_LIFECYCLE:		return "lifecycle";
	case IA_INV_TEMPORAL:		return "temporal";
	case IA_INV_FAILED:		return "failed";
	case IA_INV_ORACLE:		return "oracle";
	default:			return "?";
	}
}

static __u64 fnv1a(__u64 h, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ 0xff;	/* field separator */
}

void ia_finding_fingerprint(struct ia_finding *f)
{
	__u64 h = 0xcbf29ce484222325ULL;

	h = fnv1a(h, f->code, strlen(f->code));
	h = fnv1a(h, f->device, sizeof(f->device));
	h = fnv1a(h, f->driver, sizeof(f->driver));
	for (int i = 0; i < IA_SITE_FRAMES; i++) {
		/* "nvme_queue_rq+0x7a [nvme]" -> "nvme_queue_rq" */
		size_t n = strcspn(f->site[i], "+ ");

		h = fnv1a(h, f->site[i], n);
	}
	snprintf(f->fingerprint, sizeof(f->fingerprint), "%016" PRIx64, (uint64_t)h);
}

__u64 ia_fingerprint_key(const char *hex)
{
	return strtoull(hex, NULL, 16) | 1;	/* 0 is the maps' empty key */
}

const char *ia_page_kind_str(__u32 kind)
{
	static const char *const names[IA_PAGE_KIND_MAX] = {
		[IA_PAGE_UNKNOWN] = "unknown", [IA_PAGE_SLAB] = "slab",
		[IA_PAGE_FILE] = "file", [IA_PAGE_ANON] = "anon",
		[IA_PAGE_PGTABLE] = "pgtable", [IA_PAGE_FREE] = "free",
		[IA_PAGE_RESERVED] = "reserved", [IA_PAGE_KIMAGE] = "kernel_image",
		[IA_PAGE_SWIOTLB] = "swiotlb", [IA_PAGE_MMIO] = "mmio",
		[IA_PAGE_KERNEL] = "kernel", [IA_PAGE_CAPPED] = "capped",
	};

	return kind < IA_PAGE_KIND_MAX ? names[kind] : "?";
}

/* "slab 3896 (kmalloc-256, 256-byte objects, 15 overlapped), kernel 100" */
static void print_kinds(const struct ia_finding *f, FILE *out)
{
	const char *sep = "";

	fprintf(out, "    exposes:");
	for (int k = 0; k < IA_PAGE_KIND_MAX; k++) {
		if (!f->kind_bytes[k])
			continue;
		fprintf(out, "%s %s %" PRIu64, sep, ia_page_kind_str(k), (uint64_t)f->kind_bytes[k]);
		if (k == IA_PAGE_SLAB && f->slab[0])
			fprintf(out, " (%s, %u-byte objects, %" PRIu64 " overlapped)", f->slab,
				f->slab_obj_size, (uint64_t)f->slab_objects);
		if (k == IA_PAGE_FILE)
			fprintf(out, " (dev %u:%u inode %" PRIu64 ")", f->file_dev >> 20,
				f->file_dev & 0xfffff, (uint64_t)f->file_ino);
		sep = ",";
	}
	fputc('\n', out);
}

void ia_finding_print(const struct ia_finding *f, FILE *out)
{
	fprintf(out, "%s%s %s %s (%s)%s: %s", f->uncertain ? "uncertain " : "",
		ia_severity_str(f->severity), f->code, f->device,
		f->driver[0] ? f->driver : "no driver", f->untrusted ? " untrusted" : "",
		f->message);
	if (f->count > 1)
		fprintf(out, " [x%" PRIu64 "]", (uint64_t)f->count);
	fputc('\n', out);
	if (f->site[0][0]) {
		fprintf(out, "    at %s", f->site[0]);
		for (int i = 1; i < IA_SITE_FRAMES && f->site[i][0]; i++)
			fprintf(out, " <- %s", f->site[i]);
		fputc('\n', out);
	}
	if (f->classified)
		print_kinds(f, out);
}

void ia_finding_json(const struct ia_finding *f, struct ia_json *j)
{
	ia_json_obj_begin(j);
	ia_json_kstr(j, "invariant", ia_invariant_str(f->invariant));
	ia_json_kstr(j, "code", f->code);
	ia_json_kstr(j, "severity", ia_severity_str(f->severity));
	ia_json_kbool(j, "uncertain", f->uncertain);
	ia_json_kstr(j, "fingerprint", f->fingerprint);
	ia_json_kstr(j, "device", f->device);
	ia_json_kstr(j, "driver", f->driver);
	ia_json_kbool(j, "untrusted", f->untrusted);
	ia_json_kstr(j, "request", ia_req_kind_str(f->req_kind));
	ia_json_ku64(j, "req_id", f->req_id);
	ia_json_ku64(j, "dma", f->dma);
	ia_json_ku64(j, "phys", f->phys);
	ia_json_ku64(j, "len", f->len);
	ia_json_ku64(j, "granule", f->granule);
	ia_json_ku64(j, "head", f->head);
	ia_json_ku64(j, "tail", f->tail);
	ia_json_ku64(j, "exposed_bytes", f->exposed_bytes);
	ia_json_ku64(j, "exposed_pages", f->exposed_pages);
	ia_json_ku64(j, "value", f->value);
	ia_json_ku64(j, "exported_bytes", f->exported_bytes);
	ia_json_ku64(j, "mapped_bytes", f->mapped_bytes);
	ia_json_ku64(j, "diff_dma", f->diff_dma);
	ia_json_ku64(j, "count", f->count);
	ia_json_ku64(j, "ts", f->ts_ns);
	if (f->classified) {	/* only with page records: older outputs unchanged */
		ia_json_key(j, "exposed_kinds");
		ia_json_obj_begin(j);
		for (int k = 0; k < IA_PAGE_KIND_MAX; k++)
			if (f->kind_bytes[k])
				ia_json_ku64(j, ia_page_kind_str(k), f->kind_bytes[k]);
		ia_json_obj_end(j);
		if (f->slab[0]) {
			ia_json_kstr(j, "slab_cache", f->slab);
			ia_json_ku64(j, "slab_object_size", f->slab_obj_size);
			ia_json_ku64(j, "slab_objects", f->slab_objects);
		}
		if (f->kind_bytes[IA_PAGE_FILE]) {
			ia_json_ku64(j, "file_dev", f->file_dev);
			ia_json_ku64(j, "file_ino", f->file_ino);
		}
	}
	ia_json_key(j, "stack");
	ia_json_arr_begin(j);
	for (int i = 0; i < IA_SITE_FRAMES && f->site[i][0]; i++)
		ia_json_str(j, f->site[i]);
	ia_json_arr_end(j);
	ia_json_kstr(j, "message", f->message);
	ia_json_obj_end(j);
}
