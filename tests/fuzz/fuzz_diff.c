// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `diff` on two traces from one input: its first 4 bytes (little endian)
 * say where OLD ends, the rest is OLD then NEW. Both are checked and
 * paired (findings by fingerprint, devices by name), with and without a
 * --device filter, and written as text and JSON (valid JSON always).
 */
#include <stdint.h>
#include "check/checker.h"
#include "lib/json.h"
#include "out/rundiff.h"
#include "trace/trace.h"
#include "fuzz_util.h"

struct run {
	struct ia_trace_reader *r;
	struct ia_checker *ck;
	struct ia_run_summary s;
};

static bool load(struct run *run, const uint8_t *data, size_t size, const char *name)
{
	char err[512];

	run->ck = NULL;
	if (ia_trace_open_mem(data, size, name, &run->r, err, sizeof(err)))
		return false;
	if (ia_checker_replay(run->r, name, 0, NULL, &run->ck, &run->s, err, sizeof(err))) {
		ia_trace_close(run->r);
		return false;
	}
	return true;
}

static void unload(struct run *run)
{
	ia_checker_free(run->ck);
	ia_trace_close(run->r);
}

static void compare(const struct run *old, const struct run *new, const struct ia_diff_opts *o)
{
	struct ia_rundiff d;
	struct ia_json j;
	struct fz_out out;

	if (ia_rundiff_build(&d, old->ck, new->ck, o))
		return;
	ia_rundiff_print(fz_begin(&out), &d, &old->s, &new->s, o->fail_level);
	fz_end(&out);
	fz_free(&out);
	ia_json_init(&j, fz_begin(&out), false);
	ia_rundiff_json(&j, &d, &old->s, &new->s, o->fail_level);
	fz_json_doc(fz_end(&out), "diff -j: one JSON document");
	fz_free(&out);
	ia_rundiff_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const devs[] = { "0000:00:01.0", "dev0" };
	struct ia_diff_opts all = { .fail_level = IA_SEV_WARNING };
	struct ia_diff_opts some = { .fail_level = IA_SEV_INFO, .devices = devs,
				     .nr_devices = 2 };
	struct run old, new;
	size_t split;

	if (size < 4)
		return 0;
	split = (size_t)(data[0] | data[1] << 8 | data[2] << 16 | (uint32_t)data[3] << 24);
	data += 4;
	size -= 4;
	if (split > size)
		split = size / 2;
	if (!load(&old, data, split, "old.trace"))
		return 0;
	if (load(&new, data + split, size - split, "new.trace")) {
		compare(&old, &new, &all);
		compare(&old, &new, &some);
		compare(&new, &old, &all);
		unload(&new);
	}
	unload(&old);
	return 0;
}
