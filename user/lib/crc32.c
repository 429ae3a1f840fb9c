// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * CRC-32 by carry-less multiplication: "Fast CRC Computation for Generic
 * Polynomials Using PCLMULQDQ Instruction" (Gopal et al., Intel, 2009),
 * the reflected variant Linux's arch/x86/crypto/crc32-pclmul_asm.S
 * implements; the constants are that paper's for the gzip polynomial
 * (x^n mod P for the fold distances, and the Barrett reduction's P and
 * u = x^64 / P), bit-reflected.
 */
#include <zlib.h>
#include "lib/crc32.h"

/* zlib's crc32() takes a uInt length */
static __u32 crc_zlib(__u32 crc, const unsigned char *p, size_t len)
{
	while (len) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

		crc = (__u32)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

#if defined(__x86_64__)
#include <immintrin.h>

#define FOLD_TARGET __attribute__((target("pclmul,sse4.1")))

/* x1 * x^(128 or 512, by k) folded onto the next 16 bytes d */
FOLD_TARGET static inline __m128i fold(__m128i x, __m128i k, __m128i d)
{
	__m128i lo = _mm_clmulepi64_si128(x, k, 0x00), hi = _mm_clmulepi64_si128(x, k, 0x11);

	return _mm_xor_si128(_mm_xor_si128(lo, hi), d);
}

/*
 * The CRC register (not inverted, as zlib keeps it inside) after len bytes
 * at p: len >= 64, a multiple of 16.
 */
FOLD_TARGET static __u32 crc_fold(__u32 reg, const unsigned char *p, size_t len)
{
	const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596LL, 0x0154442bd4LL);
	const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009eLL, 0x01751997d0LL);
	const __m128i k5 = _mm_set_epi64x(0, 0x0163cd6124LL);
	const __m128i poly = _mm_set_epi64x(0x01f7011641LL, 0x01db710641LL);
	const __m128i mask32 = _mm_setr_epi32(~0, 0, ~0, 0);
	__m128i x1 = _mm_loadu_si128((const __m128i *)p);
	__m128i x2 = _mm_loadu_si128((const __m128i *)(p + 16));
	__m128i x3 = _mm_loadu_si128((const __m128i *)(p + 32));
	__m128i x4 = _mm_loadu_si128((const __m128i *)(p + 48));
	__m128i t;

	x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)reg));
	for (p += 64, len -= 64; len >= 64; p += 64, len -= 64) {
		x1 = fold(x1, k1k2, _mm_loadu_si128((const __m128i *)p));
		x2 = fold(x2, k1k2, _mm_loadu_si128((const __m128i *)(p + 16)));
		x3 = fold(x3, k1k2, _mm_loadu_si128((const __m128i *)(p + 32)));
		x4 = fold(x4, k1k2, _mm_loadu_si128((const __m128i *)(p + 48)));
	}
	/* four lanes into one, then the 16-byte steps left */
	x1 = fold(x1, k3k4, x2);
	x1 = fold(x1, k3k4, x3);
	x1 = fold(x1, k3k4, x4);
	for (; len >= 16; p += 16, len -= 16)
		x1 = fold(x1, k3k4, _mm_loadu_si128((const __m128i *)p));
	/* 128 bits to 64 */
	t = _mm_clmulepi64_si128(x1, k3k4, 0x10);
	x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), t);
	t = _mm_srli_si128(x1, 4);
	x1 = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), k5, 0x00);
	x1 = _mm_xor_si128(x1, t);
	/* Barrett reduction to 32 */
	t = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), poly, 0x10);
	t = _mm_clmulepi64_si128(_mm_and_si128(t, mask32), poly, 0x00);
	x1 = _mm_xor_si128(x1, t);
	return (__u32)_mm_extract_epi32(x1, 1);
}

__u32 ia_crc32(__u32 crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (len >= 64 && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1")) {
		size_t n = len & ~(size_t)15;

		crc = ~crc_fold(~crc, p, n);
		p += n;
		len -= n;
	}
	return crc_zlib(crc, p, len);
}
#else
__u32 ia_crc32(__u32 crc, const void *buf, size_t len)
{
	return crc_zlib(crc, buf, len);
}
#endif
