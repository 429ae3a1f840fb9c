// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * guest-out: the VM bench guest's output channel (tools/vm-run.sh builds it
 * statically into the initramfs as /bin/ia-out; tools/guest-init.sh pipes
 * the command's stdout+stderr through it).
 *
 * It copies stdin to QEMU's ISA debugcon port (`-device isa-debugcon`),
 * which appends every byte written to the port to the host's output file.
 * Why not the second serial port, as before: under TCG an emulated 16550
 * moves 55-170 KB/s (an interrupt per 16-byte FIFO, each a trip through the
 * guest's 8250 driver), and the lab's random part sends 1.6 MB of traces and
 * logs; `rep outsb` to a port has no interrupt, no driver and no DMA (so
 * nothing the IOMMU under test sees), and QEMU turns each byte into one
 * write to the file.
 *
 *   ia-out [--port P]           copy stdin to port P (default 0xe9) until EOF
 *   ia-out [--port P] --probe   exit 0 if the port answers as a debugcon
 *
 * A debugcon reads back 0xe9 (its "readback" property); an empty ISA port
 * reads 0xff. SIGTERM, SIGINT and SIGHUP are ignored: the guest's init
 * stops every process the command left behind with SIGTERM before it
 * writes the exit marker through this same pipe, and ends it by closing the
 * pipe. Exit status: 0 at EOF, 1 when the port cannot be used (ioperm
 * refused: no CAP_SYS_RAWIO, or kernel lockdown) or a read fails, 2 for a
 * bad argument.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <unistd.h>

#define DEBUGCON_READBACK 0xe9

int main(int argc, char **argv)
{
	unsigned long port = 0xe9;
	int probe = 0;
	static unsigned char buf[1 << 16];

	for (int i = 1; i < argc; i++) {
		char *end;

		if (!strcmp(argv[i], "--probe")) {
			probe = 1;
		} else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
			errno = 0;
			port = strtoul(argv[++i], &end, 0);
			if (errno || *end || end == argv[i] || port > 0xffff) {
				fprintf(stderr, "ia-out: bad port %s\n", argv[i]);
				return 2;
			}
		} else {
			fprintf(stderr, "usage: ia-out [--port P] [--probe]\n");
			return 2;
		}
	}
	if (ioperm(port, 1, 1)) {
		fprintf(stderr, "ia-out: ioperm(0x%lx): %s\n", port, strerror(errno));
		return 1;
	}
	if (probe) {
		unsigned char v = inb(port);

		if (v == DEBUGCON_READBACK)
			return 0;
		fprintf(stderr, "ia-out: port 0x%lx reads 0x%02x, not a debugcon's 0x%02x\n",
			port, v, DEBUGCON_READBACK);
		return 1;
	}
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	for (;;) {
		ssize_t n = read(0, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "ia-out: read: %s\n", strerror(errno));
			return 1;
		}
		if (n == 0)
			return 0;
		outsb(port, buf, n);
	}
}
