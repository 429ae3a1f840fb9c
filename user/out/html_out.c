// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "check/devstats.h"
#include "live/coverage.h"
#include "out/html_out.h"
#include "out/rundiff.h"

#define MAP_CELLS	256	/* granules drawn per device, at most */
#define MAP_W		960	/* the map's width in pixels, at most */
#define MAP_H		60

static void esc(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*s, out);
		}
	}
}

static const char style[] =
"body{font:14px/1.4 sans-serif;margin:2em;color:#222;background:#fff}"
"h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:2em}"
"table{border-collapse:collapse;margin:.5em 0}"
"td,th{border:1px solid #ccc;padding:2px 8px}td.n{text-align:right}"
"th{background:#eef}tr.total td{font-weight:bold;background:#f6f6f6}"
".error{color:#b00}.warning{color:#a60}.info{color:#267}"
"pre{margin:0;font-size:12px}"
".legend span{display:inline-block;width:1em;height:1em;vertical-align:middle;"
"margin:0 .3em 0 1em}svg{border:1px solid #ccc;background:#fafafa}";

static void page_begin(FILE *out, const char *title)
{
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<title>%s</title><style>%s</style></head><body>\n<h1>%s</h1>\n", title, style,
		title);
}

static void header(FILE *out, const struct ia_html_run *r)
{
	const struct ia_trace_meta *m = r->meta;
	const struct ia_run_summary *s = r->summary;

	page_begin(out, "iommu-audit report");
	fputs("<table id=\"run\">\n<tr><th>trace</th><td>", out);
	esc(out, s->source ? s->source : "");
	fputs("</td></tr>\n<tr><th>kernel</th><td>", out);
	esc(out, m->kernel_release);
	fprintf(out, "</td></tr>\n<tr><th>page size</th><td class=\"n\">%u</td></tr>\n"
		"<tr><th>host</th><td>", m->page_size);
	esc(out, m->hostname);
	fputs("</td></tr>\n<tr><th>recorded by</th><td>iommu-audit ", out);
	esc(out, m->tool_version);
	fprintf(out, "</td></tr>\n<tr><th>records</th><td class=\"n\" id=\"records\">%" PRIu64
		"</td></tr>\n<tr><th>events lost</th><td class=\"n\" id=\"lost\">%" PRIu64
		"</td></tr>\n<tr><th>malformed records</th><td class=\"n\">%" PRIu64
		"</td></tr>\n<tr><th>coverage</th><td id=\"coverage\">%s</td></tr>\n</table>\n",
		(uint64_t)s->records, (uint64_t)s->lost, (uint64_t)s->malformed,
		s->coverage_complete ? "complete" : "incomplete");
}

static void num_cell(FILE *out, const char *cls, __u64 v)
{
	fprintf(out, "<td class=\"n %s\">%" PRIu64 "</td>", cls, (uint64_t)v);
}

static void device_table(FILE *out, const struct ia_html_run *r)
{
	struct ia_check_dev t = { 0 };

	fputs("<h2>Devices</h2>\n<table id=\"devices\">\n<tr><th>device</th><th>driver</th>"
	      "<th>domain</th><th>granule</th><th>untrusted</th><th>maps</th>"
	      "<th>requested</th><th>mapped</th><th>exposed</th><th>unrelated pages</th>"
	      "<th>live at end</th><th>longest lazy window (ns)</th></tr>\n", out);
	for (size_t i = 0; i < r->ndevs; i++) {
		const struct ia_check_dev *d = &r->devs[i];

		fputs("<tr class=\"dev\" data-name=\"", out);
		esc(out, d->name);
		fputs("\"><td>", out);
		esc(out, d->name);
		fputs("</td><td class=\"driver\">", out);
		esc(out, d->driver);
		fprintf(out, "</td><td>%s</td>", ia_domain_type_str(d->domain_type));
		num_cell(out, "granule", d->granule);
		fprintf(out, "<td>%s</td>", d->untrusted ? "yes" : "no");
		num_cell(out, "maps", d->maps);
		num_cell(out, "bytes_requested", d->bytes_requested);
		num_cell(out, "bytes_mapped", d->bytes_mapped);
		num_cell(out, "bytes_exposed", d->bytes_exposed);
		num_cell(out, "pages_exposed", d->pages_exposed);
		num_cell(out, "live", d->live);
		num_cell(out, "lazy_max_ns", d->lazy_max_ns);
		fputs("</tr>\n", out);
		ia_check_dev_add(&t, d);
	}
	fputs("<tr class=\"total\" id=\"totals\"><td colspan=\"5\">total</td>", out);
	num_cell(out, "maps", t.maps);
	num_cell(out, "bytes_requested", t.bytes_requested);
	num_cell(out, "bytes_mapped", t.bytes_mapped);
	num_cell(out, "bytes_exposed", t.bytes_exposed);
	num_cell(out, "pages_exposed", t.pages_exposed);
	num_cell(out, "live", t.live);
	fputs("<td></td></tr>\n</table>\n", out);
}

/* One granule of IOVA space and the bytes the samples put in it. */
struct cell {
	__u64 iova, mapped, requested, exposed;
};

static int cmp_cell(const void *a, const void *b)
{
	const struct cell *x = a, *y = b;

	return x->iova < y->iova ? -1 : x->iova > y->iova;
}

static __u64 overlap(__u64 a, __u64 b, __u64 c, __u64 d)
{
	__u64 lo = a > c ? a : c, hi = b < d ? b : d;

	return hi > lo ? hi - lo : 0;
}

/* The cells (granules) the samples touch, sorted; their count. */
static size_t cells_of(const struct ia_map_sample *s, size_t n, __u64 g, struct cell *c,
		       size_t max, size_t *cut)
{
	size_t k = 0;

	*cut = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ia_map_sample *m = &s[i];
		__u64 rs = m->dma, re = m->dma + m->requested;

		for (__u64 a = m->iova_lo & ~(g - 1); a < m->iova_hi; a += g) {
			size_t j;

			for (j = 0; j < k && c[j].iova != a; j++)
				;
			if (j == k) {
				if (k == max) {
					(*cut)++;
					continue;
				}
				c[k++] = (struct cell){ .iova = a };
			}
			c[j].mapped += overlap(a, a + g, m->iova_lo, m->iova_hi);
			c[j].requested += overlap(a, a + g, rs, re);
			c[j].exposed += overlap(a, a + g, rs - m->head, rs) +
					overlap(a, a + g, re, re + m->tail);
		}
	}
	qsort(c, k, sizeof(*c), cmp_cell);
	return k;
}

static void iova_map(FILE *out, const struct ia_html_run *r, size_t di)
{
	const struct ia_check_dev *d = &r->devs[di];
	__u64 g = d->granule ? d->granule : r->meta->page_size ? r->meta->page_size : 4096;
	struct cell *c = calloc(MAP_CELLS, sizeof(*c));
	const struct ia_map_sample *s;
	size_t n = 0, k, cut;
	int cw;

	s = r->ck ? ia_checker_dev_maps(r->ck, di, &n) : NULL;
	if (!c || !n) {
		fputs("<p>No mapping to draw.</p>\n", out);
		free(c);
		return;
	}
	k = cells_of(s, n, g, c, MAP_CELLS, &cut);
	/* few granules: wide columns; many: at least 3 pixels each */
	cw = MAP_W / k > 24 ? 24 : MAP_W / k < 4 ? 4 : (int)(MAP_W / k);
	fprintf(out, "<p>IOVA map: one column per %" PRIu64 "-byte granule the device's "
		"mappings used (%zu, gaps between them left out, lowest IOVA 0x%" PRIx64
		" on the left%s); its height is the bytes mapped there over the run, green "
		"the share requested, red the share exposed, grey the rest (another "
		"buffer's bytes, or boundary padding).</p>\n",
		(uint64_t)g, k, (uint64_t)c[0].iova, cut ? ", more not drawn" : "");
	fprintf(out, "<svg class=\"iova\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%zu\" "
		"height=\"%d\" role=\"img\">", k * cw + 2, MAP_H + 2);
	for (size_t i = 0; i < k; i++) {
		double h = MAP_H, x = 1 + i * cw;
		double rq = c[i].mapped ? h * c[i].requested / c[i].mapped : 0;
		double ex = c[i].mapped ? h * c[i].exposed / c[i].mapped : 0;

		if (rq + ex > h)
			ex = h - rq > 0 ? h - rq : 0;
		fprintf(out, "<rect x=\"%.0f\" y=\"1\" width=\"%d\" height=\"%d\" fill=\"#bbb\">"
			"<title>IOVA 0x%" PRIx64 ": %" PRIu64 " mapped, %" PRIu64 " requested, %"
			PRIu64 " exposed</title></rect>", x, cw - 1, MAP_H,
			(uint64_t)c[i].iova, (uint64_t)c[i].mapped, (uint64_t)c[i].requested,
			(uint64_t)c[i].exposed);
		fprintf(out, "<rect x=\"%.0f\" y=\"%.2f\" width=\"%d\" height=\"%.2f\" "
			"fill=\"#2a2\"/>", x, 1 + h - rq, cw - 1, rq);
		fprintf(out, "<rect x=\"%.0f\" y=\"%.2f\" width=\"%d\" height=\"%.2f\" "
			"fill=\"#d22\"/>", x, 1 + h - rq - ex, cw - 1, ex);
	}
	fputs("</svg>\n<div class=\"legend\"><span style=\"background:#2a2\"></span>requested"
	      "<span style=\"background:#d22\"></span>exposed<span style=\"background:#bbb\">"
	      "</span>mapped otherwise</div>\n", out);
	free(c);
}

static void sites(FILE *out, const struct ia_html_run *r, const struct ia_check_dev *d)
{
	bool any = false;

	for (size_t i = 0; i < r->nfindings; i++) {
		const struct ia_finding *f = &r->findings[i];

		if (f->invariant != IA_INV_EXPOSURE || strcmp(f->device, d->name))
			continue;
		if (!any)
			fputs("<table class=\"sites\"><tr><th>call site</th><th>code</th>"
			      "<th>mappings</th><th>exposed bytes</th><th>unrelated pages</th>"
			      "</tr>\n", out);
		any = true;
		fputs("<tr class=\"site\"><td>", out);
		esc(out, f->site[0][0] ? f->site[0] : "(no call stack)");
		fputs("</td><td>", out);
		esc(out, f->code);
		fputs("</td>", out);
		num_cell(out, "mappings", f->count);
		num_cell(out, "exposed_bytes", f->exposed_bytes);
		num_cell(out, "pages_exposed", f->exposed_pages);
		fputs("</tr>\n", out);
	}
	fputs(any ? "</table>\n" : "<p>Nothing exposed.</p>\n", out);
}

static void finding_row(FILE *out, const struct ia_finding *f, const char *status);

static void findings(FILE *out, const struct ia_html_run *r)
{
	fprintf(out, "<h2>Findings</h2>\n<p id=\"nfindings\">%zu findings (repeats folded)"
		"</p>\n<table id=\"findings\"><tr><th>severity</th><th>code</th><th>device</th>"
		"<th>count</th><th>exposed bytes</th><th>what</th><th>call stack</th></tr>\n",
		r->nfindings);
	for (size_t i = 0; i < r->nfindings; i++)
		finding_row(out, &r->findings[i], NULL);
	fputs("</table>\n", out);
}

/* One finding: severity, code, device, count, exposed bytes, message,
 * call stack; status (diff) as a data attribute when not NULL. */
static void finding_row(FILE *out, const struct ia_finding *f, const char *status)
{
	const char *sev = ia_severity_str(f->severity);

	{
		fprintf(out, "<tr class=\"finding\" data-fingerprint=\"%s\"%s%s%s><td class=\"%s\">%s%s"
			"</td><td class=\"code\">", f->fingerprint, status ? " data-status=\"" : "",
			status ? status : "", status ? "\"" : "", sev, sev,
			f->uncertain ? " (uncertain)" : "");
		esc(out, f->code);
		fputs("</td><td>", out);
		esc(out, f->device);
		fputs(" (", out);
		esc(out, f->driver);
		fputs(")</td>", out);
		num_cell(out, "count", f->count);
		num_cell(out, "exposed_bytes", f->exposed_bytes);
		fputs("<td>", out);
		esc(out, f->message);
		fputs("</td><td><pre>", out);
		for (int k = 0; k < IA_SITE_FRAMES && f->site[k][0]; k++) {
			esc(out, f->site[k]);
			fputc('\n', out);
		}
		fputs("</pre></td></tr>\n", out);
	}
}

static void coverage(FILE *out, const struct ia_trace_meta *m)
{
	static const char *const states[] = { "?", "attached", "missing", "failed" };

	fputs("<h2>Coverage</h2>\n<table id=\"hooks\"><tr><th>hook</th><th>state</th>"
	      "<th>detail</th></tr>\n", out);
	for (__u32 i = 0; i < m->nr_hooks && i < IA_TRACE_MAX_HOOKS; i++) {
		fputs("<tr><td>", out);
		esc(out, m->hooks[i].name);
		fprintf(out, "</td><td>%s</td><td>", states[m->hooks[i].state < 4 ?
							     m->hooks[i].state : 0]);
		esc(out, m->hooks[i].reason);
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n", out);
}

int ia_html_report(FILE *out, const struct ia_html_run *r)
{
	header(out, r);
	device_table(out, r);
	for (size_t i = 0; i < r->ndevs; i++) {
		fputs("<h2>", out);
		esc(out, r->devs[i].name);
		fputs(" (", out);
		esc(out, r->devs[i].driver);
		fputs(")</h2>\n", out);
		iova_map(out, r, i);
		sites(out, r, &r->devs[i]);
	}
	findings(out, r);
	coverage(out, r->meta);
	fputs("</body></html>\n", out);
	return ferror(out) ? -EIO : 0;
}

static void diff_run_row(FILE *out, const char *which, const struct ia_run_summary *s)
{
	fprintf(out, "<tr><th>%s</th><td>", which);
	esc(out, s->source ? s->source : "");
	fputs("</td><td>", out);
	esc(out, s->kernel ? s->kernel : "");
	fprintf(out, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
		"</td><td>%s</td></tr>\n", (uint64_t)s->records, (uint64_t)s->lost,
		s->coverage_complete ? "complete" : "incomplete");
}

int ia_html_diff(FILE *out, const struct ia_rundiff *d, const struct ia_run_summary *old,
		 const struct ia_run_summary *new)
{
	static const char *const heads[IA_DIFF_STATUS_MAX] = {
		"NEW (only in the new run: regressions)", "FIXED (only in the old run)",
		"CHANGED (in both runs; count or exposure differs)", "unchanged",
	};

	page_begin(out, "iommu-audit diff");
	fputs("<table id=\"runs\"><tr><th>run</th><th>trace</th><th>kernel</th><th>records</th>"
	      "<th>events lost</th><th>coverage</th></tr>\n", out);
	diff_run_row(out, "old", old);
	diff_run_row(out, "new", new);
	fputs("</table>\n<h2>Devices</h2>\n<table id=\"devices\"><tr><th>device</th><th>run</th>"
	      "<th>driver</th><th>granule</th><th>maps</th><th>requested</th><th>mapped</th>"
	      "<th>exposed</th><th>unrelated pages</th></tr>\n", out);
	for (size_t i = 0; i < d->ndevs; i++) {
		const struct ia_diff_dev *v = &d->devs[i];
		const struct ia_check_dev *rows[2] = { v->in_old ? &v->old : NULL,
						       v->in_new ? &v->new : NULL };
		static const char *const runs[2] = { "old", "new" };

		for (int k = 0; k < 2; k++) {
			const struct ia_check_dev *x = rows[k];

			fputs("<tr class=\"dev\" data-name=\"", out);
			esc(out, v->name);
			fprintf(out, "\" data-run=\"%s\"><td>", runs[k]);
			esc(out, v->name);
			fprintf(out, "</td><td>%s</td><td>", runs[k]);
			if (!x) {
				fputs("not in this run</td><td colspan=\"6\"></td></tr>\n", out);
				continue;
			}
			esc(out, x->driver);
			fputs("</td>", out);
			num_cell(out, "granule", x->granule);
			num_cell(out, "maps", x->maps);
			num_cell(out, "bytes_requested", x->bytes_requested);
			num_cell(out, "bytes_mapped", x->bytes_mapped);
			num_cell(out, "bytes_exposed", x->bytes_exposed);
			num_cell(out, "pages_exposed", x->pages_exposed);
			fputs("</tr>\n", out);
		}
		if (v->in_old && v->in_new) {
			fprintf(out, "<tr class=\"delta\"><td></td><td>delta</td><td></td>"
				"<td class=\"n\">%" PRId64 "</td><td class=\"n\">%" PRId64
				"</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">%" PRId64
				"</td><td class=\"n\">%" PRId64 "</td><td class=\"n\">%" PRId64
				"</td></tr>\n",
				(int64_t)(v->new.granule - v->old.granule),
				(int64_t)(v->new.maps - v->old.maps),
				(int64_t)(v->new.bytes_requested - v->old.bytes_requested),
				(int64_t)(v->new.bytes_mapped - v->old.bytes_mapped),
				(int64_t)(v->new.bytes_exposed - v->old.bytes_exposed),
				(int64_t)(v->new.pages_exposed - v->old.pages_exposed));
		}
	}
	fputs("</table>\n", out);
	for (int st = 0; st < IA_DIFF_UNCHANGED; st++) {
		fprintf(out, "<h2>%s</h2>\n<p class=\"count\" id=\"n-%s\">%zu</p>\n", heads[st],
			ia_diff_status_str(st), d->count[st]);
		if (!d->count[st])
			continue;
		fputs("<table><tr><th>severity</th><th>code</th><th>device</th><th>count</th>"
		      "<th>exposed bytes</th><th>what</th><th>call stack</th></tr>\n", out);
		for (size_t i = 0; i < d->nfindings; i++) {
			const struct ia_diff_finding *f = &d->findings[i];

			if ((int)f->status == st)
				finding_row(out, f->new ? f->new : f->old, ia_diff_status_str(st));
		}
		fputs("</table>\n", out);
	}
	fprintf(out, "<p id=\"n-unchanged\">%zu unchanged</p>\n</body></html>\n",
		d->count[IA_DIFF_UNCHANGED]);
	return ferror(out) ? -EIO : 0;
}
