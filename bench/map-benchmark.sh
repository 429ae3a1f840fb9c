#!/bin/bash
# Per-call cost of iommu-audit's hooks, with the kernel's own DMA load
# generator: CONFIG_DMA_MAP_BENCHMARK (kernel/dma/map_benchmark.c, built
# into the lab kernel, docs/lab-kernel.md) and its selftest client
# (tools/testing/selftests/dma/dma_map_benchmark.c, built statically from the
# lab tree). In one boot of the lab kernel, the edu device is bound to the
# dma_map_benchmark driver; kernel threads then dma_map_single/unmap one
# buffer of -g pages in a loop for S seconds and report the mean map and
# unmap latency. Rounds alternate: bare, under `iommu-audit devices`
# (aggregates) and under `iommu-audit record` (every event to a trace, whose
# record count and lost events are shown). TCG timings are emulated and
# noisy: compare the ratios of one boot.
#
# usage: bench/map-benchmark.sh [--granule G] [--seconds S] [--rounds R]
#                               [--threads T] [--pages N]
#   G: iommu_lab.granule (default 4096: no lab parameter), S default 5,
#   R default 3, T default 1, N (pages per map, the client's -g) default 1
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
G=4096 S=5 R=3 T=1 N=1
while [ $# -gt 0 ]; do
	case "$1" in
	--granule) G=$2; shift 2 ;;
	--seconds) S=$2; shift 2 ;;
	--rounds) R=$2; shift 2 ;;
	--threads) T=$2; shift 2 ;;
	--pages) N=$2; shift 2 ;;
	*) echo "usage: $0 [--granule G] [--seconds S] [--rounds R] [--threads T] [--pages N]" >&2; exit 2 ;;
	esac
done
make -C "$root" -s static
kdir=$("$root/tools/lab-kernel.sh")

# The client: its one kernel header in a directory of its own (the kernel's
# include/ would shadow the libc's linux/types.h).
out=$root/.output/bench/mapbench
mkdir -p "$out/bin" "$out-inc/linux"
cp "$kdir/build/include/linux/map_benchmark.h" "$out-inc/linux/"
cc -O2 -static -I"$out-inc" "$kdir/build/tools/testing/selftests/dma/dma_map_benchmark.c" \
	-o "$out/bin/dma_map_benchmark"

append=""
[ "$G" -eq 4096 ] || append="iommu_lab.granule=$G"
"$root/tools/vm-run.sh" --kernel-dir "$kdir" --timeout 3600 ${append:+--append "$append"} \
	--extra "$out" -- "
	echo dma_map_benchmark > /sys/bus/pci/devices/\$IA_EDU_BDF/driver_override
	echo \$IA_EDU_BDF > /sys/bus/pci/drivers_probe
	[ -e /sys/kernel/debug/dma_map_benchmark ] || { echo 'no /sys/kernel/debug/dma_map_benchmark'; exit 1; }
	bench='dma_map_benchmark -t $T -s $S -g $N -d 1'
	# the client's output -> \"MAP UNMAP\" (mean latencies, us)
	lat() { sed -n 's/^average \(un\)*map latency(us):\([0-9.]*\).*/\2/p' | tr '\n' ' '; }
	for r in \$(seq $R); do
		b=\$(sh -c \"\$bench\" | lat)
		d=\$(iommu-audit devices -- sh -c \"\$bench\" 2>/dev/null | lat)
		c=\$(iommu-audit record -o /tmp/m.trace -- sh -c \"\$bench\" 2>/tmp/rec.err | lat)
		recs=\$(sed -n 's/^recorded \([0-9]*\) records.*/\1/p' /tmp/rec.err)
		lost=\$(sed -n 's/.*lost \([0-9]*\).*/\1/p' /tmp/rec.err | head -1)
		echo \"RESULT \$r \$b \$d \$c \$recs \${lost:-?}\"
	done" | awk -v g="$G" -v s="$S" -v t="$T" -v n="$N" '
	/^RESULT/ { k++; bm += $3; bu += $4; dm += $5; du += $6; cm += $7; cu += $8
		printf "round %s: map/unmap us: bare %s/%s  devices %s/%s (x%.2f/x%.2f)  record %s/%s (x%.2f/x%.2f), %s records in the trace, lost %s\n",
			$2, $3, $4, $5, $6, $5 / $3, $6 / $4, $7, $8, $7 / $3, $8 / $4, $9, $10 }
	/^no / { print; bad = 1 }
	END { if (!k) exit 1
		printf "granule %d, %d thread(s), %d page(s) per map, %d s per run, mean of %d rounds: devices map x%.2f unmap x%.2f, record map x%.2f unmap x%.2f\n",
			g, t, n, s, k, dm / bm, du / bu, cm / bm, cu / bu }'
