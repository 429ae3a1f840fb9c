#!/bin/bash
# Overhead of iommu-audit on DMA-heavy I/O, measured side by side in one VM
# boot (TCG timings are emulated and noisy: compare the ratios, not the
# seconds). For each of nvme and virtio-blk: N direct 4 KiB reads timed
# bare, under `iommu-audit devices` (aggregate only), under `iommu-audit
# record` (every event to a trace), `record --no-classify` (without what
# exposed pages hold) and `record --free-hooks` (page and slab frees
# watched too), alternating, R rounds each. The I/O is
# timed inside the command iommu-audit starts once its hooks are attached,
# so load/attach time is reported apart ("startup").
#
# usage: bench/overhead.sh [N=2000] [R=3]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-2000}
rounds=${2:-3}
make -C "$root" -s static
"$root/tools/vm-run.sh" --timeout 1800 -- "
	cat > /tmp/bench-fns <<'FNS'
N=$n
now() { cut -d' ' -f1 /proc/uptime; }
timed() { s=\$(now); dd if=\"\$1\" of=/dev/null bs=4096 count=\$N iflag=direct 2>/dev/null; e=\$(now); echo \"\$s \$e\" | awk '{printf \"%.2f\", \$2 - \$1}'; echo; }
FNS
	. /tmp/bench-fns
	for dev in \$IA_NVME_DEV \$IA_VIRTIO_DEV; do
		for r in \$(seq $rounds); do
			b=\$(timed \$dev)
			s0=\$(now)
			d=\$(iommu-audit devices -- sh -c \". /tmp/bench-fns; timed \$dev\" 2>/dev/null | head -1)
			s1=\$(now)
			c=\$(iommu-audit record -o /tmp/b.trace -- sh -c \". /tmp/bench-fns; timed \$dev\" 2>/dev/null | head -1)
			nc=\$(iommu-audit record --no-classify -o /tmp/nc.trace -- sh -c \". /tmp/bench-fns; timed \$dev\" 2>/dev/null | head -1)
			fh=\$(iommu-audit record --free-hooks -o /tmp/fh.trace -- sh -c \". /tmp/bench-fns; timed \$dev\" 2>/dev/null | head -1)
			st=\$(echo \"\$s0 \$s1 \$d\" | awk '{printf \"%.2f\", \$2 - \$1 - \$3}')
			echo \"RESULT \$dev \$r \$b \$d \$c \$(stat -c %s /tmp/b.trace) \$st \$nc \$(stat -c %s /tmp/nc.trace) \$fh\"
		done
	done" | awk -v n="$n" '
	/^RESULT/ { dev=$2; b[dev]+=$4; d[dev]+=$5; c[dev]+=$6; sz[dev]=$7; st[dev]+=$8; nc[dev]+=$9; nsz[dev]=$10; fh[dev]+=$11; k[dev]++;
		    printf "%-14s round %s: bare %5.2fs  devices %5.2fs (x%.2f)  record %5.2fs (x%.2f)  record --no-classify %5.2fs (x%.2f)  record --free-hooks %5.2fs (x%.2f)  startup+report %5.2fs\n", dev, $3, $4, $5, $5/$4, $6, $6/$4, $9, $9/$4, $11, $11/$4, $8 }
	END { for (x in k) printf "%-14s mean of %d rounds: devices x%.2f, record x%.2f, record --no-classify x%.2f, record --free-hooks x%.2f, startup+report %.2fs, trace %.0f B for %d reads (%.0f B/read; %.0f B/read without page records)\n", x, k[x], d[x]/b[x], c[x]/b[x], nc[x]/b[x], fh[x]/b[x], st[x]/k[x], sz[x], n, sz[x]/n, nsz[x]/n }'
