// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The reading of a verifier log under IA_BPF_STATS=1 (live/bpfstats.c): the
 * kernel's text in a fixed buffer, terminated or not (a log that filled its
 * buffer). The summary always fits and is terminated, is made of the
 * buffer's own bytes, and holds the "verification time" and "processed"
 * lines whole when the log has them and the output has room.
 */
#define _GNU_SOURCE	/* memmem */
#include <stdint.h>
#include "live/bpfstats.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exactly size bytes on the heap: a read past them is ASan's */
	char *log = malloc(size ? size : 1), out[256], big[4096];
	size_t n, len;

	if (!log)
		return 0;
	memcpy(log, data, size);
	len = strnlen(log, size);
	for (size_t outlen = 0; outlen <= sizeof(out); outlen += 37) {
		memset(out, 'x', sizeof(out));
		n = ia_bpf_stats_summary(log, size, out, outlen);
		if (!outlen) {
			fz_require(n == 0 && out[0] == 'x', "nothing written to an empty output", "");
			continue;
		}
		fz_require(n < outlen && out[n] == 0 && strlen(out) == n, "summary fits, terminated", out);
	}
	n = ia_bpf_stats_summary(log, size, big, sizeof(big));
	fz_require(n < sizeof(big) && big[n] == 0, "summary terminated", big);
	/* room enough: each line found is there whole, then "; " */
	if (size < sizeof(big) / 2 - 4) {
		const char *sep = strstr(big, "; ");
		char *t = memmem(log, len, "verification time", 17);

		fz_require(sep != NULL, "the separator", big);
		if (t) {
			size_t rest = len - (size_t)(t - log);	/* up to the NUL or the end */
			const char *nl = memchr(t, '\n', rest);
			size_t tl = nl ? (size_t)(nl - t) : rest;

			fz_require(!strncmp(big, t, tl) && big[tl] == ';', "the time line whole", big);
		} else {
			fz_require(big[0] == ';', "no time line: empty first part", big);
		}
	}
	free(log);
	return 0;
}
