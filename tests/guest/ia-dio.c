// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ia-dio: direct-I/O reads into a buffer at a chosen offset inside a page,
 * for the VM tests. busybox dd cannot place its buffer, and the exposure a
 * driver's mapping creates depends on exactly that offset.
 *
 * usage: ia-dio DEVICE OFFSET LEN [COUNT]
 *   OFFSET  byte offset of the buffer inside a page-aligned area (a
 *           multiple of the device's logical block size, e.g. 512)
 *   LEN     bytes per read (a multiple of the logical block size)
 * Prints the buffer's virtual address offset and exits 0 when every read
 * returned LEN bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long off, len, count = 1;
	void *area;
	int fd;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: ia-dio DEVICE OFFSET LEN [COUNT]\n");
		return 2;
	}
	off = strtol(argv[2], NULL, 0);
	len = strtol(argv[3], NULL, 0);
	if (argc == 5)
		count = strtol(argv[4], NULL, 0);
	if (off < 0 || len <= 0 || count <= 0 || off + len > (1 << 20)) {
		fprintf(stderr, "ia-dio: bad OFFSET/LEN/COUNT\n");
		return 2;
	}
	if (posix_memalign(&area, 4096, (1 << 20) + 4096)) {
		fprintf(stderr, "ia-dio: out of memory\n");
		return 1;
	}
	memset(area, 0, (1 << 20) + 4096);	/* fault the pages in */
	fd = open(argv[1], O_RDONLY | O_DIRECT);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	for (long i = 0; i < count; i++) {
		ssize_t n = pread(fd, (char *)area + off, len, 0);

		if (n != len) {
			fprintf(stderr, "ia-dio: read %zd of %ld bytes: %s\n", n, len,
				n < 0 ? strerror(errno) : "short");
			return 1;
		}
	}
	close(fd);
	return 0;
}
