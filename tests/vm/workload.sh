#!/bin/sh
# The bench's standard traffic, with known sizes, on each DMA device.
# Runs in the guest. Sizes here are asserted by tests/vm/cases/*.sh.
set -e
# nvme and virtio-blk: direct I/O, so each dd block is one DMA request
for dev in "$IA_NVME_DEV" "$IA_VIRTIO_DEV"; do
	dd if="$dev" of=/dev/null bs=4096 count=4 iflag=direct 2>/dev/null
	dd if="$dev" of=/dev/null bs=65536 count=2 iflag=direct 2>/dev/null
	dd if=/dev/zero of="$dev" bs=4096 count=2 oflag=direct 2>/dev/null
done
# e1000e: ICMP echo with a 100-byte payload = 142-byte frames
# (14 Ethernet + 20 IP + 8 ICMP + 100); nobody answers 192.0.2.2
ping -c 3 -i 0.2 -W 1 -s 100 192.0.2.2 >/dev/null 2>&1 || true
