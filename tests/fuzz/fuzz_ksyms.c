// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The kallsyms parser on an input in /proc/kallsyms format (from memory,
 * with fmemopen), then symbolization of addresses around the symbols it
 * kept and of addresses the input names: a result is always a terminated
 * string that fits its buffer. Then the loader's lookup of named kernel
 * data (ia_ksyms_lookup) on the same input: never more found than asked,
 * and a name reported found has a nonzero address.
 */
#include <stdint.h>
#include "lib/ksyms.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = size ? fmemopen((void *)data, size, "r") : NULL;
	struct ia_ksyms *ks;
	char buf[64];

	static const char *const names[] = { "vmemmap_base", "_text", "_end", "a", "" };
	uint64_t addrs[5];
	int found, nonzero = 0;

	if (!f)
		return 0;
	found = ia_ksyms_lookup(f, names, (__u64 *)addrs, 5);
	for (int i = 0; i < 5; i++)
		nonzero += addrs[i] != 0;
	fz_require(found == nonzero, "found = the nonzero addresses", "");
	rewind(f);
	ks = ia_ksyms_read(f);
	fclose(f);
	if (!ks)
		return 0;
	for (size_t i = 0; i + 8 <= size && i < 64 * 8; i += 8) {
		uint64_t ip;

		memcpy(&ip, data + i, 8);
		if (ia_ksyms_symbolize(ks, ip, buf, sizeof(buf)))
			fz_require(memchr(buf, 0, sizeof(buf)) != NULL, "terminated", buf);
	}
	for (uint64_t ip = 0xffffffff81000000ULL; ip < 0xffffffff81000000ULL + 0x4000; ip += 0x100)
		ia_ksyms_symbolize(ks, ip, buf, sizeof(buf));
	ia_ksyms_symbolize(ks, ~0ULL, buf, sizeof(buf));
	ia_ksyms_free(ks);
	return 0;
}
