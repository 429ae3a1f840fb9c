// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * CRC-32 by carry-less multiplication: "Fast CRC Computation for Generic
 * Polynomials Using PCLMULQDQ Instruction" (Gopal et al., Intel, 2009),
 * the reflected variant Linux's arch/x86/crypto/crc32-pclmul_asm.S
 * implements; the constants are that paper's for the gzip polynomial
 * (x^n mod P for the fold distances, and the Barrett reduction's P and
 * u = x^64 / P), bit-reflected. Where the CPU has VPCLMULQDQ (AVX2's 32-byte
 * registers), the bulk is folded 128 bytes per step, two lanes per
 * instruction; the fold constants for that distance are computed the
 * same way (x^1056 and x^992 mod P).
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
#define VFOLD_TARGET __attribute__((target("vpclmulqdq,avx2,pclmul,sse4.1")))

/* x1 * x^(128 or 512, by k) folded onto the next 16 bytes d */
FOLD_TARGET static inline __m128i fold(__m128i x, __m128i k, __m128i d)
{
	__m128i lo = _mm_clmulepi64_si128(x, k, 0x00), hi = _mm_clmulepi64_si128(x, k, 0x11);

	return _mm_xor_si128(_mm_xor_si128(lo, hi), d);
}

/* Fold constants (x^(D + 32) mod P, x^(D - 32) mod P; bit-reflected, << 1)
 * for a fold distance of D bits: 512 (64 bytes), 128 (16 bytes). */
#define K512_LO	0x0154442bd4LL
#define K512_HI	0x01c6e41596LL

/*
 * The CRC register after the four 16-byte lanes x1..x4 (the 64 bytes
 * before p, the register folded in) and len more bytes at p (a multiple
 * of 16): the 64-byte steps, the lanes into one, the 16-byte steps, and
 * the reduction to 32 bits.
 */
FOLD_TARGET static inline __u32 crc_lanes(__m128i x1, __m128i x2, __m128i x3, __m128i x4,
					  const unsigned char *p, size_t len)
{
	const __m128i k1k2 = _mm_set_epi64x(K512_HI, K512_LO);
	const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009eLL, 0x01751997d0LL);
	const __m128i k5 = _mm_set_epi64x(0, 0x0163cd6124LL);
	const __m128i poly = _mm_set_epi64x(0x01f7011641LL, 0x01db710641LL);
	const __m128i mask32 = _mm_setr_epi32(~0, 0, ~0, 0);
	__m128i t;

	for (; len >= 64; p += 64, len -= 64) {
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

/*
 * The CRC register (not inverted, as zlib keeps it inside) after len bytes
 * at p: len >= 64, a multiple of 16.
 */
FOLD_TARGET static __u32 crc_fold(__u32 reg, const unsigned char *p, size_t len)
{
	__m128i x1 = _mm_loadu_si128((const __m128i *)p);

	x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)reg));
	return crc_lanes(x1, _mm_loadu_si128((const __m128i *)(p + 16)),
			 _mm_loadu_si128((const __m128i *)(p + 32)),
			 _mm_loadu_si128((const __m128i *)(p + 48)), p + 64, len - 64);
}

/* Both 16-byte halves of x folded onto d's (VPCLMULQDQ: two at a time). */
VFOLD_TARGET static inline __m256i vfold(__m256i x, __m256i k, __m256i d)
{
	__m256i lo = _mm256_clmulepi64_epi128(x, k, 0x00), hi = _mm256_clmulepi64_epi128(x, k, 0x11);

	return _mm256_xor_si256(_mm256_xor_si256(lo, hi), d);
}

/*
 * crc_fold() 128 bytes per step, eight 16-byte lanes in four 32-byte
 * registers (half the instructions per byte): len >= 128, a multiple of
 * 16. The eight lanes fold into crc_lanes()' four, which does the rest.
 */
VFOLD_TARGET static __u32 crc_fold256(__u32 reg, const unsigned char *p, size_t len)
{
	/* D = 1024 (128 bytes), and 512 to fold lane i onto lane i + 4 */
	const __m256i k1024 = _mm256_set_epi64x(0x014a7fe880LL, 0x01e88ef372LL,
						0x014a7fe880LL, 0x01e88ef372LL);
	const __m256i k512 = _mm256_set_epi64x(K512_HI, K512_LO, K512_HI, K512_LO);
	__m256i y0 = _mm256_loadu_si256((const __m256i *)p);
	__m256i y1 = _mm256_loadu_si256((const __m256i *)(p + 32));
	__m256i y2 = _mm256_loadu_si256((const __m256i *)(p + 64));
	__m256i y3 = _mm256_loadu_si256((const __m256i *)(p + 96));

	y0 = _mm256_xor_si256(y0, _mm256_setr_epi32((int)reg, 0, 0, 0, 0, 0, 0, 0));
	for (p += 128, len -= 128; len >= 128; p += 128, len -= 128) {
		y0 = vfold(y0, k1024, _mm256_loadu_si256((const __m256i *)p));
		y1 = vfold(y1, k1024, _mm256_loadu_si256((const __m256i *)(p + 32)));
		y2 = vfold(y2, k1024, _mm256_loadu_si256((const __m256i *)(p + 64)));
		y3 = vfold(y3, k1024, _mm256_loadu_si256((const __m256i *)(p + 96)));
	}
	y2 = vfold(y0, k512, y2);
	y3 = vfold(y1, k512, y3);
	return crc_lanes(_mm256_castsi256_si128(y2), _mm256_extracti128_si256(y2, 1),
			 _mm256_castsi256_si128(y3), _mm256_extracti128_si256(y3, 1), p, len);
}

enum ia_crc_impl ia_crc32_best(void)
{
	if (!__builtin_cpu_supports("pclmul") || !__builtin_cpu_supports("sse4.1"))
		return IA_CRC_ZLIB;
	if (__builtin_cpu_supports("vpclmulqdq") && __builtin_cpu_supports("avx2"))
		return IA_CRC_VPCLMUL;
	return IA_CRC_PCLMUL;
}

__u32 ia_crc32_impl(enum ia_crc_impl impl, __u32 crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t n = len & ~(size_t)15;

	if (impl != IA_CRC_ZLIB && len >= 64) {	/* buf is not NULL then */
		crc = impl == IA_CRC_VPCLMUL && len >= 128 ? ~crc_fold256(~crc, p, n) :
							     ~crc_fold(~crc, p, n);
		p += n;
		len -= n;
	}
	return crc_zlib(crc, p, len);
}
#else
enum ia_crc_impl ia_crc32_best(void)
{
	return IA_CRC_ZLIB;
}

__u32 ia_crc32_impl(enum ia_crc_impl impl, __u32 crc, const void *buf, size_t len)
{
	return crc_zlib(crc, buf, len);
}
#endif

__u32 ia_crc32(__u32 crc, const void *buf, size_t len)
{
	return ia_crc32_impl(ia_crc32_best(), crc, buf, len);
}
