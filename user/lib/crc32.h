/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * CRC-32 (the zlib / gzip polynomial, reflected 0xedb88320): the same
 * value as zlib's crc32(crc, buf, len), faster on x86-64 CPUs with
 * PCLMULQDQ (carry-less multiplication folds 64 bytes per step; 128 with
 * VPCLMULQDQ), zlib's own code elsewhere and for the bytes a 16-byte step
 * leaves. Debian's
 * zlib 1.2.13 has no such path: its crc32() ran at about 2.2 GB/s here,
 * 30 % of a trace replay (docs/benchmarks.md).
 */
#ifndef IA_CRC32_H
#define IA_CRC32_H

#include <stddef.h>
#include <linux/types.h>

/* crc: the CRC of the bytes before buf (0 for none). */
__u32 ia_crc32(__u32 crc, const void *buf, size_t len);

/* The ways ia_crc32() computes it, the fastest the CPU has first taken;
 * each by name for the tests (one the CPU lacks must not be asked for). */
enum ia_crc_impl {
	IA_CRC_ZLIB,		/* zlib's crc32() */
	IA_CRC_PCLMUL,		/* 64 bytes per step, PCLMULQDQ and SSE4.1 */
	IA_CRC_VPCLMUL,		/* 128 per step, VPCLMULQDQ and AVX2 */
};
enum ia_crc_impl ia_crc32_best(void);
__u32 ia_crc32_impl(enum ia_crc_impl impl, __u32 crc, const void *buf, size_t len);

#endif
