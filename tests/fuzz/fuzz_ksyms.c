// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The kallsyms parser on an input in /proc/kallsyms format (from memory,
 * with fmemopen), then symbolization of addresses around the symbols it
 * kept and of addresses the input names: a result is always a terminated
 * string that fits its buffer. Then the loader's streaming lookup
 * (ia_ksyms_has(), which finds vmemmap_base and page_offset_base in
 * /proc/kallsyms) for names the input holds and one it cannot hold, each
 * answer checked against a reference reading of the same bytes.
 */
#include <stdint.h>
#include "lib/ksyms.h"
#include "fuzz_util.h"

/*
 * The reference: does some line of data have name as its third
 * blank-separated field? (Written apart from ia_ksyms_has(): one pass over
 * the bytes, no stdio. A NUL ends nothing here, while getline() keeps it in
 * the line and the field comparison then stops short of it: inputs with a
 * NUL are not compared.)
 */
static int ref_has(const uint8_t *data, size_t size, const char *name)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < size;) {
		size_t end = i, f = 0, fs = 0, fe = 0;

		while (end < size && data[end] != '\n')
			end++;
		for (size_t j = i; j < end && f < 3;) {
			while (j < end && (data[j] == ' ' || data[j] == '\t'))
				j++;
			if (j == end)
				break;
			fs = j;
			while (j < end && data[j] != ' ' && data[j] != '\t')
				j++;
			fe = j;
			f++;
		}
		if (f == 3 && fe - fs == nlen && !memcmp(data + fs, name, nlen))
			return 1;
		i = end + 1;
	}
	return 0;
}

/* ia_ksyms_has() on the input for name, compared with the reference. */
static void check_has(const uint8_t *data, size_t size, const char *name)
{
	FILE *f = fmemopen((void *)data, size, "r");
	int got;

	if (!f)
		return;
	got = ia_ksyms_has(f, name);
	fclose(f);
	fz_require(got >= 0, "ia_ksyms_has: no read error from memory", name);
	if (!memchr(data, 0, size))
		fz_require(got == ref_has(data, size, name), "ia_ksyms_has agrees", name);
}

/* The names the loader asks for, and the third field of the input's first lines. */
static void check_has_all(const uint8_t *data, size_t size)
{
	static const char *const fixed[] = { "vmemmap_base", "page_offset_base", "" };
	char name[300];

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check_has(data, size, fixed[i]);
	for (size_t i = 0, line = 0; i < size && line < 8; line++) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t end = nl ? (size_t)(nl - data) : size, n = 0;
		int f = 0;

		/* the third field of this line, if short enough to be a name */
		for (size_t j = i; j < end && f < 3; f++) {
			while (j < end && (data[j] == ' ' || data[j] == '\t'))
				j++;
			for (n = 0; j < end && data[j] != ' ' && data[j] != '\t'; j++)
				if (n < sizeof(name) - 1)
					name[n++] = (char)data[j];
		}
		name[n] = 0;
		if (f == 3 && n && n < sizeof(name) - 1 && !memchr(name, 0, n))
			check_has(data, size, name);
		i = end + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = size ? fmemopen((void *)data, size, "r") : NULL;
	struct ia_ksyms *ks;
	char buf[64];

	if (!f)
		return 0;
	check_has_all(data, size);
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
