/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The HTTP endpoint `monitor` serves its metrics on: GET /metrics answers
 * the Prometheus text exposition a callback renders; / says where they are;
 * anything else is 404, a method other than GET or HEAD 405.
 *
 * Built on GNU libmicrohttpd (Debian's libmicrohttpd12): a maintained,
 * small (one library, no dependencies we do not already load but GnuTLS,
 * which it links and we never enable), embeddable server with its own
 * thread, connection limits and timeouts, which is what a metrics endpoint
 * needs and what a hand-written server gets wrong (partial reads, slow
 * clients, HTTP/1.1 keep-alive). It runs its own thread: the render
 * callback is called there and must lock what it reads.
 *
 * A build without libmicrohttpd (the static binary: Debian has no static
 * p11-kit, which GnuTLS needs) has ia_http_start() fail with a message.
 */
#ifndef IA_METRICS_HTTP_H
#define IA_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Write the exposition to out; 0, or < 0 to answer 500. */
typedef int (*ia_http_render_fn)(void *ctx, FILE *out);

struct ia_http;

/*
 * Listen on ADDR:PORT (an IPv4 address, or [IPv6]:PORT; ADDR "*" or
 * empty: every address) and serve. NULL with a message in err on a bad
 * address or when the socket cannot be bound.
 */
struct ia_http *ia_http_start(const char *listen, ia_http_render_fn fn, void *ctx,
			      char *err, size_t errlen);
void ia_http_stop(struct ia_http *h);
/* Requests answered (any status), for the tool's own health. */
unsigned long ia_http_requests(const struct ia_http *h);

#endif
