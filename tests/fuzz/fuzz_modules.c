// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The /proc/modules digest (ia_modules_digest(), lib/ksyms.c) on any input
 * (from memory, with fmemopen): a live run reads the file at each new call
 * stack. It must not crash, and it is a function of the input: the same
 * bytes read twice give the same digest.
 */
#include <stdint.h>
#include "lib/ksyms.h"
#include "fuzz_util.h"

static __u64 digest(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "r");
	__u64 h;

	if (!f)
		abort();
	h = ia_modules_digest(f);
	fclose(f);
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_require(digest(data, size) == digest(data, size), "the same input, the same digest", "");
	return 0;
}
