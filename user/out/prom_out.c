// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include "check/devstats.h"
#include "live/coverage.h"
#include "out/prom_out.h"

/* A label value as the text format wants it: \\, \" and \n escaped. */
static void label_value(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', out);
		if (*s == '\n') {
			fputs("\\n", out);
			continue;
		}
		fputc(*s, out);
	}
	fputc('"', out);
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family of one unlabelled sample. */
static void scalar(FILE *out, const char *name, const char *type, const char *help, __u64 v)
{
	family(out, name, type, help);
	fprintf(out, "%s %" PRIu64 "\n", name, (uint64_t)v);
}

static void dev_labels(FILE *out, const struct ia_check_dev *d)
{
	fputs("device=", out);
	label_value(out, d->name);
	fputs(",driver=", out);
	label_value(out, d->driver);
}

/* One series per device of a per-device field (offset of a __u64). */
struct dev_metric {
	const char *name, *type, *help;
	size_t off;
};

static const struct dev_metric dev_metrics[] = {
	{ "iommu_audit_maps_total", "counter",
	  "Root DMA map and allocation requests checked.",
	  offsetof(struct ia_check_dev, maps) },
	{ "iommu_audit_map_failures_total", "counter",
	  "Root DMA map and allocation requests that failed.",
	  offsetof(struct ia_check_dev, failed) },
	{ "iommu_audit_requested_bytes_total", "counter",
	  "Bytes the checked requests asked for (an allocation: the pages it owns).",
	  offsetof(struct ia_check_dev, bytes_requested) },
	{ "iommu_audit_mapped_bytes_total", "counter",
	  "Bytes the IOMMU page tables received for the checked requests.",
	  offsetof(struct ia_check_dev, bytes_mapped) },
	{ "iommu_audit_exposed_bytes_total", "counter",
	  "Bytes mapped beyond the requests and the device's other live buffers.",
	  offsetof(struct ia_check_dev, bytes_exposed) },
	{ "iommu_audit_exposed_unrelated_pages_total", "counter",
	  "Whole CPU pages among the exposed bytes that no buffer of the device touches.",
	  offsetof(struct ia_check_dev, pages_exposed) },
	{ "iommu_audit_untrusted_exposed_bytes_total", "counter",
	  "Bytes an untrusted device reaches outside its bounce slots.",
	  offsetof(struct ia_check_dev, bytes_untrusted) },
	{ "iommu_audit_live_mappings", "gauge",
	  "DMA mappings live now (at the end of a trace).",
	  offsetof(struct ia_check_dev, live) },
	{ "iommu_audit_preexisting_unmaps_total", "counter",
	  "Unmaps of mappings made before the run started.",
	  offsetof(struct ia_check_dev, preexisting) },
};

static void devices(FILE *out, const struct ia_prom_run *r)
{
	family(out, "iommu_audit_device_info", "gauge",
	       "A device seen doing DMA, with its IOMMU domain type and untrusted bit.");
	for (size_t i = 0; i < r->ndevs; i++) {
		fputs("iommu_audit_device_info{", out);
		dev_labels(out, &r->devs[i]);
		fputs(",domain_type=", out);
		label_value(out, ia_domain_type_str(r->devs[i].domain_type));
		fprintf(out, ",untrusted=\"%s\"} 1\n", r->devs[i].untrusted ? "true" : "false");
	}
	family(out, "iommu_audit_granule_bytes", "gauge",
	       "IOMMU granule of the device's DMA domain.");
	for (size_t i = 0; i < r->ndevs; i++) {
		fputs("iommu_audit_granule_bytes{", out);
		dev_labels(out, &r->devs[i]);
		fprintf(out, "} %" PRIu64 "\n", (uint64_t)r->devs[i].granule);
	}
	for (size_t m = 0; m < sizeof(dev_metrics) / sizeof(dev_metrics[0]); m++) {
		family(out, dev_metrics[m].name, dev_metrics[m].type, dev_metrics[m].help);
		for (size_t i = 0; i < r->ndevs; i++) {
			const char *base = (const char *)&r->devs[i];

			fprintf(out, "%s{", dev_metrics[m].name);
			dev_labels(out, &r->devs[i]);
			fprintf(out, "} %" PRIu64 "\n",
				(uint64_t)*(const __u64 *)(base + dev_metrics[m].off));
		}
	}
	family(out, "iommu_audit_lazy_flush_window_seconds", "histogram",
	       "Time from a lazy (flush-queue) unmap to the IOTLB flush that revokes it.");
	for (size_t i = 0; i < r->ndevs; i++) {
		const struct ia_check_dev *d = &r->devs[i];
		__u64 cum = 0;

		for (size_t b = 0; b <= IA_LAZY_BUCKETS; b++) {
			cum += d->lazy_hist[b];
			fputs("iommu_audit_lazy_flush_window_seconds_bucket{", out);
			dev_labels(out, d);
			if (b < IA_LAZY_BUCKETS)
				fprintf(out, ",le=\"%g\"} %" PRIu64 "\n",
					ia_lazy_bounds_ns[b] / 1e9, (uint64_t)cum);
			else
				fprintf(out, ",le=\"+Inf\"} %" PRIu64 "\n", (uint64_t)cum);
		}
		fputs("iommu_audit_lazy_flush_window_seconds_sum{", out);
		dev_labels(out, d);
		fprintf(out, "} %.9f\n", d->lazy_sum_ns / 1e9);
		fputs("iommu_audit_lazy_flush_window_seconds_count{", out);
		dev_labels(out, d);
		fprintf(out, "} %" PRIu64 "\n", (uint64_t)d->lazy_windows);
	}
}

static void findings(FILE *out, const struct ia_prom_run *r)
{
	family(out, "iommu_audit_findings_total", "counter",
	       "Occurrences of each finding code (docs/checks.md), folded or not.");
	for (size_t i = 0; i < r->ncodes; i++) {
		fputs("iommu_audit_findings_total{code=", out);
		label_value(out, r->codes[i].code);
		fprintf(out, ",severity=\"%s\"} %" PRIu64 "\n",
			ia_severity_str(r->codes[i].severity), (uint64_t)r->codes[i].count);
	}
	family(out, "iommu_audit_findings_distinct", "gauge",
	       "Distinct findings of each code (code, device, driver, call site) kept.");
	for (size_t i = 0; i < r->ncodes; i++) {
		fputs("iommu_audit_findings_distinct{code=", out);
		label_value(out, r->codes[i].code);
		fprintf(out, "} %" PRIu64 "\n", (uint64_t)r->codes[i].distinct);
	}
}

static void health(FILE *out, const struct ia_prom_run *r)
{
	static const char *const causes[IA_DROP_MAX] = {
		[IA_DROP_RINGBUF] = "ringbuf", [IA_DROP_INFLIGHT] = "inflight",
		[IA_DROP_STACK] = "stack",
	};
	static const char *const states[] = { NULL, "attached", "missing", "failed" };
	const struct ia_trace_meta *m = r->meta;
	__u32 bad = ia_coverage_incomplete(m), nstate[4] = { 0 };

	family(out, "iommu_audit_build_info", "gauge",
	       "The iommu-audit version and the kernel it watches.");
	fputs("iommu_audit_build_info{version=", out);
	label_value(out, m->tool_version);
	fputs(",kernel=", out);
	label_value(out, m->kernel_release);
	fputs("} 1\n", out);
	if (r->start_time > 0) {
		family(out, "iommu_audit_start_time_seconds", "gauge",
		       "When the hooks were attached, Unix time.");
		fprintf(out, "iommu_audit_start_time_seconds %.3f\n", r->start_time);
	}
	scalar(out, "iommu_audit_events_total", "counter", "Event records checked.", r->records);
	family(out, "iommu_audit_events_lost_total", "counter",
	       "Events the kernel side could not deliver, by cause.");
	for (int i = 0; i < IA_DROP_MAX; i++)
		fprintf(out, "iommu_audit_events_lost_total{cause=\"%s\"} %" PRIu64 "\n",
			causes[i], (uint64_t)r->lost[i]);
	if (r->ring_size) {
		/* a reader behind its workload: pending near the size is
		 * where ringbuf losses come next */
		scalar(out, "iommu_audit_ring_size_bytes", "gauge", "The event ring's size.",
		       r->ring_size);
		scalar(out, "iommu_audit_ring_pending_bytes", "gauge",
		       "Bytes of records in the ring not read yet.", r->ring_pending);
		scalar(out, "iommu_audit_ring_reads_cut_total", "counter",
		       "Reads ended at the time budget with records still waiting (reader behind).",
		       r->reads_cut);
		scalar(out, "iommu_audit_reader_boosts_total", "counter",
		       "Times the reader fell behind and raised its priority until it caught up.",
		       r->reader_boosts);
	}
	scalar(out, "iommu_audit_malformed_records_total", "counter",
	       "Records too short for their type (never read).", r->malformed);
	family(out, "iommu_audit_coverage_complete", "gauge",
	       "1 when every check is complete with the hooks attached.");
	fprintf(out, "iommu_audit_coverage_complete %d\n", !bad);
	family(out, "iommu_audit_check_complete", "gauge",
	       "1 when the check is complete with the hooks attached.");
	for (int b = 0; b < IA_NR_CHECKS; b++)
		fprintf(out, "iommu_audit_check_complete{check=\"%s\"} %d\n",
			ia_check_name(1u << b), !(bad & (1u << b)));
	family(out, "iommu_audit_hook_attached", "gauge",
	       "1 when the hook is attached, 0 when missing on this kernel or failed.");
	for (__u32 i = 0; i < m->nr_hooks && i < IA_TRACE_MAX_HOOKS; i++) {
		fputs("iommu_audit_hook_attached{hook=", out);
		label_value(out, m->hooks[i].name);
		fprintf(out, "} %d\n", m->hooks[i].state == IA_HOOK_ATTACHED);
		if (m->hooks[i].state < 4)
			nstate[m->hooks[i].state]++;
	}
	family(out, "iommu_audit_hooks", "gauge", "Hooks by state.");
	for (int s = 1; s < 4; s++)
		fprintf(out, "iommu_audit_hooks{state=\"%s\"} %u\n", states[s], nstate[s]);
	if (r->programs >= 0) {
		family(out, "iommu_audit_programs_attached", "gauge",
		       "BPF programs attached.");
		fprintf(out, "iommu_audit_programs_attached %d\n", r->programs);
	}
}

static void state(FILE *out, const struct ia_checker_state *s)
{
	const struct { const char *kind; size_t n; } held[] = {
		{ "findings", s->findings }, { "stacks", s->stacks },
		{ "devices", s->devices }, { "domains", s->domains },
		{ "pending", s->pending }, { "live_mappings", s->live_maps },
		{ "unmapped_handles", s->unmapped }, { "lazy_queued", s->lazy_queued },
	};
	const struct { const char *kind; __u64 n; } dropped[] = {
		{ "findings", s->findings_dropped }, { "stacks", s->stacks_dropped },
		{ "devices", s->devices_dropped }, { "pending", s->pending_expired },
		{ "unmapped_handles", s->unmapped_forgotten },
	};

	family(out, "iommu_audit_state_entries", "gauge",
	       "Entries of the checker's state, by kind (bounded: docs/monitor.md).");
	for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++)
		fprintf(out, "iommu_audit_state_entries{kind=\"%s\"} %zu\n", held[i].kind,
			held[i].n);
	family(out, "iommu_audit_state_dropped_total", "counter",
	       "What the state's bounds made the checker drop or forget, by kind.");
	for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		fprintf(out, "iommu_audit_state_dropped_total{kind=\"%s\"} %" PRIu64 "\n",
			dropped[i].kind, (uint64_t)dropped[i].n);
	family(out, "iommu_audit_out_of_memory", "gauge",
	       "1 when an allocation failed: totals may be incomplete.");
	fprintf(out, "iommu_audit_out_of_memory %d\n", s->oom);
}

int ia_prom_write(FILE *out, const struct ia_prom_run *r)
{
	devices(out, r);
	findings(out, r);
	health(out, r);
	if (r->state)
		state(out, r->state);
	return ferror(out) ? -EIO : 0;
}
