// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>
#include "live/coverage.h"
#include "lib/json.h"

void ia_coverage_to_meta(const struct ia_hook_status *st, size_t n,
			 struct ia_trace_meta *m)
{
	m->nr_hooks = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ia_hook_status *s = &st[i];
		char why[sizeof(s->reason) + 64];

		/* attached: say which variant and how; else why not */
		if (s->state != IA_HOOK_ATTACHED)
			snprintf(why, sizeof(why), "%s", s->reason);
		else if (s->kprobe)
			snprintf(why, sizeof(why), "%s by kprobe (%s)",
				 s->hook->v[s->variant].target, s->reason);
		else
			snprintf(why, sizeof(why), "%s", s->hook->v[s->variant].target);
		ia_trace_meta_add_hook(m, s->hook->name, s->state, why);
	}
}

static const struct ia_hook *hook_by_name(const char *name)
{
	for (size_t i = 0; i < ia_nr_hooks; i++)
		if (!strcmp(ia_hooks[i].name, name))
			return &ia_hooks[i];
	for (size_t i = 0; i < ia_nr_prod_hooks; i++)
		if (!strcmp(ia_prod_hooks[i].name, name))
			return &ia_prod_hooks[i];
	return NULL;
}

/*
 * Was the kernel of release rel ("6.1.0-56-amd64") older than version since
 * ("6.16")? False when either does not parse: then nothing is assumed.
 */
static bool release_before(const char *rel, const char *since)
{
	unsigned int a, b, x, y;

	if (sscanf(rel, "%u.%u", &a, &b) != 2 || sscanf(since, "%u.%u", &x, &y) != 2)
		return false;
	return a < x || (a == x && b < y);
}

__u32 ia_coverage_incomplete(const struct ia_trace_meta *m)
{
	__u32 bad = 0, seen = 0;

	for (__u32 i = 0; i < m->nr_hooks && i < IA_TRACE_MAX_HOOKS; i++) {
		const struct ia_hook *h = hook_by_name(m->hooks[i].name);

		if (!h)
			continue;	/* a hook of another version: no check needs it */
		seen |= 1;
		if (!ia_hook_state_covers(m->hooks[i].state))
			bad |= h->checks;
	}
	/* hooks this build knows but the trace does not list were not there,
	 * which loses nothing when the recorded kernel predates their API */
	for (size_t i = 0; i < ia_nr_hooks; i++) {
		const struct ia_hook *h = &ia_hooks[i];
		bool listed = false;

		for (__u32 k = 0; k < m->nr_hooks && k < IA_TRACE_MAX_HOOKS; k++)
			listed |= !strcmp(m->hooks[k].name, h->name);
		if (h->kind == IA_ATTACH_KSYM || h->unlisted_ok)
			continue;	/* traces before the row checked nothing
					 * with it, or as much without it */
		if (!listed && !(h->api_since && release_before(m->kernel_release, h->api_since)))
			bad |= h->checks;
	}
	return seen ? bad : IA_CHECK_ALL;
}

void ia_coverage_print(const struct ia_trace_meta *m, FILE *out, bool all)
{
	__u32 bad = ia_coverage_incomplete(m);

	if (all) {
		fprintf(out, "%-24s %-9s %s\n", "HOOK", "STATE", "TARGET / REASON");
		for (__u32 i = 0; i < m->nr_hooks && i < IA_TRACE_MAX_HOOKS; i++)
			fprintf(out, "%-24s %-9s %s\n", m->hooks[i].name,
				ia_trace_hook_state_str(m->hooks[i].state),
				m->hooks[i].reason);
	}
	fprintf(out, "coverage:");
	for (int c = 0; c < IA_NR_CHECKS; c++)
		fprintf(out, " %s=%s", ia_check_name(1u << c),
			bad & (1u << c) ? "partial" : "complete");
	fputc('\n', out);
}

void ia_coverage_json(const struct ia_trace_meta *m, struct ia_json *j)
{
	__u32 bad = ia_coverage_incomplete(m);

	ia_json_key(j, "coverage");
	ia_json_obj_begin(j);
	ia_json_key(j, "hooks");
	ia_json_arr_begin(j);
	for (__u32 i = 0; i < m->nr_hooks && i < IA_TRACE_MAX_HOOKS; i++) {
		const struct ia_trace_hook *h = &m->hooks[i];

		ia_json_obj_begin(j);
		ia_json_kstr(j, "name", h->name);
		ia_json_kstr(j, "state", ia_trace_hook_state_str(h->state));
		ia_json_kstr(j, h->state == IA_HOOK_ATTACHED ? "target" : "reason", h->reason);
		ia_json_obj_end(j);
	}
	ia_json_arr_end(j);
	ia_json_key(j, "checks");
	ia_json_obj_begin(j);
	for (int c = 0; c < IA_NR_CHECKS; c++)
		ia_json_kstr(j, ia_check_name(1u << c),
			     bad & (1u << c) ? "partial" : "complete");
	ia_json_obj_end(j);
	ia_json_kbool(j, "complete", !bad);
	ia_json_obj_end(j);
}
