// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A tiny HTTP client for the soak test in the guest (tests/run-soak.sh):
 * GET http://ADDR:PORT/PATH over loopback, the body to OUTFILE (or
 * nowhere), and one line on stdout: "STATUS BYTES MILLISECONDS" (status 0:
 * no connection or no answer within 10 s). Static: the guest has no libc.
 *
 * usage: ia-scrape ADDR PORT PATH [OUTFILE]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 10 };
	static char buf[1 << 16];
	size_t total = 0, hdr_end = 0;
	char *resp = NULL, req[512];
	int fd, status = 0;
	double t0 = now_ms();
	FILE *out = NULL;
	ssize_t n;

	if (argc < 4 || inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) {
		fprintf(stderr, "usage: ia-scrape ADDR PORT PATH [OUTFILE]\n");
		return 2;
	}
	a.sin_port = htons(atoi(argv[2]));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		printf("0 0 %.3f\n", now_ms() - t0);
		return 1;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", argv[3], argv[1]);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		printf("0 0 %.3f\n", now_ms() - t0);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		char *r = realloc(resp, total + n + 1);

		if (!r)
			return 1;
		resp = r;
		memcpy(resp + total, buf, n);
		total += n;
		resp[total] = 0;
	}
	close(fd);
	if (resp && sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
		status = 0;
	if (resp) {
		char *e = strstr(resp, "\r\n\r\n");

		hdr_end = e ? (size_t)(e - resp) + 4 : total;
	}
	if (argc > 4 && resp && (out = fopen(argv[4], "w"))) {
		fwrite(resp + hdr_end, 1, total - hdr_end, out);
		fclose(out);
	}
	printf("%d %zu %.3f\n", status, total - hdr_end, now_ms() - t0);
	free(resp);
	return status == 200 ? 0 : 1;
}
