// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "check/checker.h"
#include "check/devstats.h"
#include "out/findings_out.h"
#include "live/hooks.h"
#include "lib/json.h"
#include "lib/openfile.h"

int ia_out_format_parse(const char *s)
{
	static const char *const names[] = { "text", "json", "junit", "sarif" };

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

int ia_baseline_load(struct ia_baseline *b, const char *path, char *err, size_t errlen)
{
	FILE *f = ia_fopen_regular(path);	/* a FIFO would block fopen() */
	char line[4096];
	size_t lineno = 0, found = 0;

	ia_u64map_init(&b->fps);
	if (!f) {
		snprintf(err, errlen, "baseline %s: %s", path,
			 errno == EINVAL ? "not a regular file" : strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "\"fingerprint\":");
		char hex[17] = "";

		lineno++;
		if (p) {
			p += strlen("\"fingerprint\":");
			while (*p == ' ' || *p == '"')
				p++;
		} else {
			p = line;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '\n' || *p == '#' || !*p)
				continue;
			if (*p == '{')
				continue;	/* a JSON line without one: the summary */
		}
		if (strspn(p, "0123456789abcdef") != 16) {
			snprintf(err, errlen, "baseline %s:%zu: not a fingerprint "
				 "(16 hex digits) or a `check -j` line", path, lineno);
			fclose(f);
			ia_u64map_free(&b->fps);
			return -1;
		}
		memcpy(hex, p, 16);
		if (ia_u64map_put(&b->fps, ia_fingerprint_key(hex), (void *)1, NULL)) {
			snprintf(err, errlen, "baseline %s: out of memory", path);
			fclose(f);
			ia_u64map_free(&b->fps);
			return -1;
		}
		found++;
	}
	fclose(f);
	return 0;
}

void ia_baseline_free(struct ia_baseline *b)
{
	ia_u64map_free(&b->fps);
}

bool ia_run_incomplete(const struct ia_run_summary *s)
{
	return s->lost || s->malformed || !s->coverage_complete;
}

void ia_check_dev_json(struct ia_json *j, const struct ia_check_dev *d)
{
	ia_json_kstr(j, "driver", d->driver);
	ia_json_kstr(j, "domain_type", ia_domain_type_str(d->domain_type));
	ia_json_ku64(j, "granule", d->granule);
	ia_json_kbool(j, "untrusted", d->untrusted);
	ia_json_ku64(j, "maps", d->maps);
	ia_json_ku64(j, "failed", d->failed);
	ia_json_ku64(j, "bytes_requested", d->bytes_requested);
	ia_json_ku64(j, "bytes_mapped", d->bytes_mapped);
	ia_json_ku64(j, "bytes_exposed", d->bytes_exposed);
	ia_json_ku64(j, "pages_exposed", d->pages_exposed);
}

bool ia_baseline_has(const struct ia_baseline *b, const struct ia_finding *f)
{
	return b && ia_u64map_get(&b->fps, ia_fingerprint_key(f->fingerprint));
}

bool ia_finding_fails(const struct ia_finding *f, int fail_level, const struct ia_baseline *b)
{
	return !f->uncertain && (int)f->severity >= fail_level && !ia_baseline_has(b, f);
}

/* ---- the page-table oracle's account (traces with snapshots only) ------- */

static const char *oracle_state(const struct ia_oracle_stats *o)
{
	return o->absent == o->snapshots ? "absent" : "compared";
}

void ia_oracle_print(const struct ia_oracle_stats *o, FILE *out)
{
	if (!o->snapshots)
		return;
	if (o->absent == o->snapshots) {
		fprintf(out, "page-table oracle: absent (the kernel dumps no page tables: "
			"CONFIG_INTEL_IOMMU_DEBUGFS); %" PRIu64 " snapshots\n", (uint64_t)o->snapshots);
		return;
	}
	fprintf(out, "page-table oracle: %" PRIu64 " snapshots, %" PRIu64 " device dumps compared, "
		"%" PRIu64 " differences, %" PRIu64 " in flight (tolerated); %" PRIu64 " starting "
		"states, %" PRIu64 " not compared (device not in the trace), %" PRIu64 " skipped\n",
		(uint64_t)o->snapshots, (uint64_t)o->compared, (uint64_t)o->differences,
		(uint64_t)o->tolerated, (uint64_t)o->seeded, (uint64_t)o->unresolved,
		(uint64_t)o->skipped);
}

void ia_oracle_json(const struct ia_oracle_stats *o, struct ia_json *j)
{
	if (!o->snapshots)
		return;
	ia_json_key(j, "oracle");
	ia_json_obj_begin(j);
	ia_json_kstr(j, "state", oracle_state(o));
	ia_json_ku64(j, "snapshots", o->snapshots);
	ia_json_ku64(j, "absent", o->absent);
	ia_json_ku64(j, "seeded", o->seeded);
	ia_json_ku64(j, "compared", o->compared);
	ia_json_ku64(j, "differences", o->differences);
	ia_json_ku64(j, "tolerated", o->tolerated);
	ia_json_ku64(j, "unresolved", o->unresolved);
	ia_json_ku64(j, "skipped", o->skipped);
	ia_json_obj_end(j);
}

/* ---- text ---------------------------------------------------------------- */

static void write_text(FILE *out, const struct ia_finding *f, size_t n,
		       const struct ia_baseline *b, int fail, const struct ia_run_summary *s)
{
	size_t per_sev[3] = { 0 }, failing = 0, baselined = 0;

	for (size_t i = 0; i < n; i++) {
		if (ia_baseline_has(b, &f[i])) {
			baselined++;
			continue;
		}
		ia_finding_print(&f[i], out);
		per_sev[f[i].severity <= IA_SEV_ERROR ? f[i].severity : IA_SEV_ERROR]++;
		failing += ia_finding_fails(&f[i], fail, b);
	}
	fprintf(out, "%zu findings: %zu errors, %zu warnings, %zu info; %zu known (baseline);"
		" %zu at or above --fail-on=%s\n", n - baselined, per_sev[IA_SEV_ERROR],
		per_sev[IA_SEV_WARNING], per_sev[IA_SEV_INFO], baselined, failing,
		ia_severity_str(fail));
	if (s->lost)
		fprintf(out, "incomplete: %" PRIu64 " events lost; findings they could explain "
			"are marked uncertain\n", (uint64_t)s->lost);
	ia_oracle_print(&s->oracle, out);
	if (!s->coverage_complete) {
		fprintf(out, "incomplete: hooks missing on this kernel; partial checks:");
		for (int c = 0; c < IA_NR_CHECKS; c++)
			if (s->incomplete_checks & (1u << c))
				fprintf(out, " %s", ia_check_name(1u << c));
		fputc('\n', out);
	}
}

/* ---- JSON Lines ---------------------------------------------------------- */

static void write_jsonl(FILE *out, const struct ia_finding *f, size_t n,
			const struct ia_baseline *b, int fail, const struct ia_run_summary *s)
{
	struct ia_json j;
	size_t failing = 0;

	for (size_t i = 0; i < n; i++) {
		/* one object per line: the finding's fields plus type/baseline */
		ia_json_init(&j, out, false);
		ia_json_obj_begin(&j);
		ia_json_kstr(&j, "type", "finding");
		ia_json_kbool(&j, "baseline", ia_baseline_has(b, &f[i]));
		ia_json_kbool(&j, "fails", ia_finding_fails(&f[i], fail, b));
		ia_json_key(&j, "finding");
		ia_finding_json(&f[i], &j);
		ia_json_obj_end(&j);
		fputc('\n', out);
		failing += ia_finding_fails(&f[i], fail, b);
	}
	ia_json_init(&j, out, false);
	ia_json_obj_begin(&j);
	ia_json_kstr(&j, "type", "summary");
	ia_json_kstr(&j, "source", s->source);
	ia_json_kstr(&j, "kernel", s->kernel);
	ia_json_ku64(&j, "findings", n);
	ia_json_ku64(&j, "failing", failing);
	ia_json_kstr(&j, "fail_on", ia_severity_str(fail));
	ia_json_ku64(&j, "lost", s->lost);
	ia_json_kbool(&j, "coverage_complete", s->coverage_complete);
	ia_json_ku64(&j, "records", s->records);
	ia_json_ku64(&j, "malformed", s->malformed);
	ia_oracle_json(&s->oracle, &j);
	ia_json_obj_end(&j);
	fputc('\n', out);
}

/* ---- JUnit XML ----------------------------------------------------------- */

static void xml_str(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&apos;", out); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
				fputc(*s, out);
		}
	}
}

/* One test suite per invariant, one test case per finding; failing
 * findings are <failure>s, the others pass with their text in system-out. */
static void write_junit(FILE *out, const struct ia_finding *f, size_t n,
			const struct ia_baseline *b, int fail, const struct ia_run_summary *s)
{
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"iommu-audit\">\n");
	for (__u32 inv = 1; inv < IA_INV_MAX; inv++) {
		size_t tests = 0, failures = 0;

		for (size_t i = 0; i < n; i++)
			if (f[i].invariant == inv) {
				tests++;
				failures += ia_finding_fails(&f[i], fail, b);
			}
		fprintf(out, "  <testsuite name=\"%s\" tests=\"%zu\" failures=\"%zu\">\n",
			ia_invariant_str(inv), tests ? tests : 1, failures);
		if (!tests)	/* an invariant with nothing to report passed */
			fprintf(out, "    <testcase classname=\"%s\" name=\"no findings\"/>\n",
				ia_invariant_str(inv));
		for (size_t i = 0; i < n; i++) {
			if (f[i].invariant != inv)
				continue;
			fprintf(out, "    <testcase classname=\"%s\" name=\"", ia_invariant_str(inv));
			xml_str(out, f[i].code);
			fputs(" ", out);
			xml_str(out, f[i].device);
			fprintf(out, " %s\">\n", f[i].fingerprint);
			fprintf(out, ia_finding_fails(&f[i], fail, b) ?
				"      <failure type=\"%s\" message=\"" :
				"      <system-out>%s: ", ia_severity_str(f[i].severity));
			xml_str(out, f[i].message);
			if (ia_finding_fails(&f[i], fail, b)) {
				fputs("\">", out);
				xml_str(out, f[i].site[0]);
				fputs("</failure>\n", out);
			} else {
				fprintf(out, " [x%" PRIu64 "]%s%s</system-out>\n", (uint64_t)f[i].count,
					f[i].uncertain ? " (uncertain)" : "",
					ia_baseline_has(b, &f[i]) ? " (baseline)" : "");
			}
			fputs("    </testcase>\n", out);
		}
		fputs("  </testsuite>\n", out);
	}
	fprintf(out, "  <!-- source: ");
	xml_str(out, s->source);
	fprintf(out, "; lost events: %" PRIu64 "; coverage %s -->\n</testsuites>\n",
		(uint64_t)s->lost, s->coverage_complete ? "complete" : "incomplete");
}

/* ---- SARIF 2.1.0 --------------------------------------------------------- */

static const char *sarif_level(const struct ia_finding *f)
{
	switch (f->severity) {
	case IA_SEV_ERROR:	return "error";
	case IA_SEV_WARNING:	return "warning";
	default:		return "note";
	}
}

static void write_sarif(FILE *out, const struct ia_finding *f, size_t n,
			const struct ia_baseline *b, int fail, const struct ia_run_summary *s)
{
	struct ia_json j;

	ia_json_init(&j, out, true);
	ia_json_obj_begin(&j);
	ia_json_kstr(&j, "version", "2.1.0");
	ia_json_kstr(&j, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
	ia_json_key(&j, "runs");
	ia_json_arr_begin(&j);
	ia_json_obj_begin(&j);
	ia_json_key(&j, "tool");
	ia_json_obj_begin(&j);
	ia_json_key(&j, "driver");
	ia_json_obj_begin(&j);
	ia_json_kstr(&j, "name", "iommu-audit");
	ia_json_obj_end(&j);
	ia_json_obj_end(&j);
	ia_json_key(&j, "results");
	ia_json_arr_begin(&j);
	for (size_t i = 0; i < n; i++) {
		ia_json_obj_begin(&j);
		ia_json_kstr(&j, "ruleId", f[i].code);
		ia_json_kstr(&j, "level", sarif_level(&f[i]));
		ia_json_key(&j, "message");
		ia_json_obj_begin(&j);
		ia_json_kstr(&j, "text", f[i].message);
		ia_json_obj_end(&j);
		/* kernel call sites are logical locations, not files */
		ia_json_key(&j, "locations");
		ia_json_arr_begin(&j);
		ia_json_obj_begin(&j);
		ia_json_key(&j, "logicalLocations");
		ia_json_arr_begin(&j);
		ia_json_obj_begin(&j);
		ia_json_kstr(&j, "fullyQualifiedName", f[i].site[0][0] ? f[i].site[0] : f[i].device);
		ia_json_kstr(&j, "kind", f[i].site[0][0] ? "function" : "module");
		ia_json_obj_end(&j);
		ia_json_arr_end(&j);
		ia_json_obj_end(&j);
		ia_json_arr_end(&j);
		ia_json_key(&j, "partialFingerprints");
		ia_json_obj_begin(&j);
		ia_json_kstr(&j, "iommuAudit/v1", f[i].fingerprint);
		ia_json_obj_end(&j);
		if (ia_baseline_has(b, &f[i]))
			ia_json_kstr(&j, "baselineState", "unchanged");
		ia_json_key(&j, "properties");
		ia_finding_json(&f[i], &j);
		ia_json_obj_end(&j);
	}
	ia_json_arr_end(&j);
	ia_json_key(&j, "properties");
	ia_json_obj_begin(&j);
	ia_json_kstr(&j, "source", s->source);
	ia_json_kstr(&j, "kernel", s->kernel);
	ia_json_ku64(&j, "lost", s->lost);
	ia_json_kbool(&j, "coverageComplete", s->coverage_complete);
	ia_json_kstr(&j, "failOn", ia_severity_str(fail));
	ia_json_obj_end(&j);
	ia_json_obj_end(&j);
	ia_json_arr_end(&j);
	ia_json_close_all(&j);
}

void ia_findings_write(FILE *out, enum ia_out_format fmt, const struct ia_finding *f,
		       size_t n, const struct ia_baseline *b, int fail_level,
		       const struct ia_run_summary *s)
{
	switch (fmt) {
	case IA_OUT_TEXT:	write_text(out, f, n, b, fail_level, s); break;
	case IA_OUT_JSON:	write_jsonl(out, f, n, b, fail_level, s); break;
	case IA_OUT_JUNIT:	write_junit(out, f, n, b, fail_level, s); break;
	case IA_OUT_SARIF:	write_sarif(out, f, n, b, fail_level, s); break;
	}
}
