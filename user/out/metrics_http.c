// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "out/metrics_http.h"

/* Parse ADDR:PORT into ss; its length, or 0 when it is not one. */
static socklen_t parse_listen(const char *s, struct sockaddr_storage *ss)
{
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 2], *end;
	size_t hl;
	long port;

	if (!colon || colon - s >= (long)sizeof(host))
		return 0;
	hl = colon - s;
	memcpy(host, s, hl);
	host[hl] = 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 0 || port > 65535)
		return 0;
	memset(ss, 0, sizeof(*ss));
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		host[hl - 1] = 0;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		return inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1 ? sizeof(*a) : 0;
	}
	{
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		if (!hl || !strcmp(host, "*")) {
			a->sin_addr.s_addr = htonl(INADDR_ANY);
			return sizeof(*a);
		}
		return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? sizeof(*a) : 0;
	}
}

#ifdef IA_NO_HTTP

struct ia_http *ia_http_start(const char *listen, ia_http_render_fn fn, void *ctx,
			      char *err, size_t errlen)
{
	struct sockaddr_storage ss;

	if (!parse_listen(listen, &ss))
		snprintf(err, errlen, "--listen %s: not ADDR:PORT", listen);
	else
		snprintf(err, errlen, "this build has no HTTP server (built without "
			 "libmicrohttpd); use --textfile, or the dynamically linked binary");
	return NULL;
}

void ia_http_stop(struct ia_http *h)
{
}

unsigned long ia_http_requests(const struct ia_http *h)
{
	return 0;
}

#else
#include <microhttpd.h>

struct ia_http {
	struct MHD_Daemon *d;
	ia_http_render_fn fn;
	void *ctx;
	atomic_ulong requests;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     const char *type, char *body, size_t len)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result text(struct MHD_Connection *conn, unsigned int status,
			    const char *msg)
{
	char *body = strdup(msg);

	return body ? reply(conn, status, "text/plain; charset=utf-8", body, strlen(body))
		    : MHD_NO;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version,
			      const char *upload_data, size_t *upload_size, void **state)
{
	struct ia_http *h = cls;
	char *body = NULL;
	size_t len = 0;
	FILE *out;
	int ret;

	atomic_fetch_add(&h->requests, 1);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or HEAD only\n");
	if (!strcmp(url, "/"))
		return text(conn, MHD_HTTP_OK, "iommu-audit monitor: metrics at /metrics\n");
	if (strcmp(url, "/metrics"))
		return text(conn, MHD_HTTP_NOT_FOUND, "not found; metrics at /metrics\n");
	out = open_memstream(&body, &len);
	if (!out)
		return text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	ret = h->fn(h->ctx, out);
	if (fclose(out) || ret < 0) {
		free(body);
		return text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "rendering failed\n");
	}
	return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len);
}

struct ia_http *ia_http_start(const char *listen, ia_http_render_fn fn, void *ctx,
			      char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct ia_http *h;
	unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;

	if (!parse_listen(listen, &ss)) {
		snprintf(err, errlen, "--listen %s: not ADDR:PORT (e.g. 127.0.0.1:9477, "
			 "[::1]:9477)", listen);
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->fn = fn;
	h->ctx = ctx;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* a scraper or two: a few connections, closed when idle or slow */
	h->d = MHD_start_daemon(flags, ntohs(((struct sockaddr_in *)&ss)->sin_port), NULL,
				NULL, handle, h,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)8,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "cannot listen on %s (address in use, or not "
			 "this machine's?)", listen);
		free(h);
		return NULL;
	}
	return h;
}

void ia_http_stop(struct ia_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}

unsigned long ia_http_requests(const struct ia_http *h)
{
	return h ? atomic_load(&((struct ia_http *)h)->requests) : 0;
}

#endif
