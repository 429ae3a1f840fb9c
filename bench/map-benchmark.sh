#!/bin/bash
# Per-call cost of tracing DMA mappings, with the kernel's own DMA load
# generator: CONFIG_DMA_MAP_BENCHMARK (kernel/dma/map_benchmark.c, built
# into the lab kernel, docs/lab-kernel.md) and its selftest client
# (tools/testing/selftests/dma/dma_map_benchmark.c, built statically from the
# lab tree). In one boot of the lab kernel (dma_debug=off), the edu device is
# bound to the dma_map_benchmark driver; T kernel threads map and unmap one
# buffer of N pages (dma_map_single, DMA_TO_DEVICE) for S seconds and report
# the mean map and unmap latency. Each round runs, back to back, for every
# thread count:
#   bare     no tracer
#   floor    bench/floor/: counter-only BPF programs on exactly the 11 hooks a
#            map/unmap pair fires under iommu-audit (the least any tracer on
#            them costs)
#   floor-clock, floor-record  the floor's programs each also reading the
#            clock once, or also writing one 96-byte record (header filled:
#            clock, CPU, pid) into a ring buffer the floor tracer drains
#            without wakeups (floor --work): what those two parts of every
#            `record` program cost, on their own
#   floor-probe, floor-direct, floor-lru, floor-taskstore  the floor's
#            programs each also doing one more operation (8 probe reads, 8
#            direct BTF loads, an LRU-hash lookup, a task-storage lookup:
#            bench/floor/floor.bpf.c): the price of each
#   devices  `iommu-audit devices` (aggregates)
#   record   `iommu-audit record` (every event to a trace: its lost events)
#   floor-prod  the floor of production mode's hooks: the 2 a pair fires
#            (exits of __iommu_dma_map and __iommu_dma_unmap; the flush-queue
#            flush runs per flush, not per pair, and not at all in strict
#            mode)
#   prod     `iommu-audit devices --production` (counters in BPF): its
#            ratio is against floor-prod's and, as the issue words its
#            target (fewer hooks than the floor), against the floor's
#   bpftrace Debian's bpftrace counting (@[probe] = count()) on the
#            floor's 11 hooks: what a standard tool pays for the same
#            attachment (bundled into the guest with its libraries; its -c
#            splits the command at spaces itself, no shell)
#   record-stats  `record` with IA_BPF_STATS=1: the kernel times each
#            program run (user/live/bpfstats.c), printed per program; its
#            latency includes that timing (two clock reads per run), so it
#            is not a ratio to compare, only where a record's cost goes
#   prod-stats  the same for `devices --production` (prod-cmp-stats: the
#            --compare binary's)
#   and with --compare BIN, prod, devices and record of another iommu-audit
#   binary (e.g. the one before a change), in the same boot.
# Overhead = the pair's latency (map + unmap) minus bare's of the same round;
# the ratio is the overhead over the floor's, per round. TCG timings are
# emulated and noisy, and the machine is shared: only ratios of one boot
# mean something, every round is printed.
#
# usage: bench/map-benchmark.sh [--granule G] [--seconds S] [--rounds R]
#            [--threads "1 2 4"] [--pages N] [--compare BIN] [--dma-debug]
#   G: iommu_lab.granule (default 4096: no lab parameter), S default 5,
#   R default 3, N (pages per map, the client's -g) default 1;
#   --dma-debug: boot with dma-debug on (the lab kernel's default) and run
#   bare only: its latency minus a dma_debug=off boot's bare is dma-debug's
#   cost (across two boots: compare with care);
#   --kernel-dir DIR: a built lab kernel entry (default: tools/lab-kernel.sh's)
#   --modes "M...": the modes to run, in this order (bare first)
#   --clocksource tsc|hpet: the guest's clock source (default tsc, the
#   one machines run on: `tsc=reliable`). Under TCG the guest's CPU is an
#   AuthenticAMD without constant_tsc, and the kernel takes the TSCs of two
#   such CPUs for unsynchronized ("Marking TSC unstable due to TSCs
#   unsynchronized", tsc.c's unsynchronized_tsc(): a guess by vendor, not
#   a measured warp; QEMU derives every vCPU's TSC from the host's) and
#   falls back to the HPET, whose every read is an emulated MMIO access
#   under QEMU's big lock: 0.25-0.5 us per clock read where the TSC's is
#   0.05-0.1 (docs/benchmarks.md), which over-weighs every clock read a
#   tracer makes against the floor that makes none. hpet: the kernel's own
#   choice, as every run before 2026-12-04 had it;
#   --append "ARGS": more kernel command line for the boot
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
G=4096 S=5 R=3 T="1 2 4" N=1 compare="" debug=0 kdir="" only="" extra_args="" clock=tsc
while [ $# -gt 0 ]; do
	case "$1" in
	--granule) G=$2; shift 2 ;;
	--seconds) S=$2; shift 2 ;;
	--rounds) R=$2; shift 2 ;;
	--threads) T=$2; shift 2 ;;
	--pages) N=$2; shift 2 ;;
	--compare) compare=$(realpath "$2"); shift 2 ;;
	--dma-debug) debug=1; shift ;;
	--kernel-dir) kdir=$2; shift 2 ;;
	--modes) only=$2; shift 2 ;;
	--append) extra_args="${extra_args:+$extra_args }$2"; shift 2 ;;
	--clocksource) clock=$2; shift 2 ;;
	*) echo "usage: $0 [--granule G] [--seconds S] [--rounds R] [--threads LIST] [--pages N] [--compare BIN] [--dma-debug] [--kernel-dir DIR] [--modes LIST] [--clocksource tsc|hpet] [--append ARGS]" >&2; exit 2 ;;
	esac
done
case $clock in
tsc) extra_args="tsc=reliable${extra_args:+ $extra_args}" ;;
hpet) ;;
*) echo "$0: --clocksource: tsc or hpet, not $clock" >&2; exit 2 ;;
esac
make -C "$root" -s static floor
[ -n "$kdir" ] || kdir=$("$root/tools/lab-kernel.sh")

# The client: its one kernel header in a directory of its own (the kernel's
# include/ would shadow the libc's linux/types.h).
out=$root/.output/bench/mapbench
mkdir -p "$out/bin" "$out-inc/linux"
cp "$kdir/build/include/linux/map_benchmark.h" "$out-inc/linux/"
cc -O2 -static -I"$out-inc" "$kdir/build/tools/testing/selftests/dma/dma_map_benchmark.c" \
	-o "$out/bin/dma_map_benchmark"
cp "$root/.output/bench/floor" "$out/bin/floor"
rm -f "$out/bin/iommu-audit-cmp"
[ -z "$compare" ] || cp "$compare" "$out/bin/iommu-audit-cmp"
# bpftrace and its libraries (LLVM, clang: ~200 MB) in a directory of their own
bt=$root/.output/bench/bpftrace
[ -x "$bt/bin/bpftrace" ] || "$root/tools/guest-bundle.sh" "$bt" "$(command -v bpftrace)"

# the 11 programs a dma_map_single/unmap pair runs under iommu-audit (6.1)
hooks="fentry:iommu_dma_map_page fexit:iommu_dma_map_page fentry:__iommu_dma_map
fexit:__iommu_dma_map fexit:__iommu_map tp:map fentry:iommu_dma_unmap_page
fexit:iommu_dma_unmap_page fexit:__iommu_unmap tp:unmap fexit:__iommu_dma_unmap"
append=""
[ "$G" -eq 4096 ] || append="iommu_lab.granule=$G"
[ "$debug" = 1 ] || append="$append dma_debug=off"
[ -z "$extra_args" ] || append="$append $extra_args"
# production mode's: the exits of the two functions every pair passes
prod_hooks="fexit:__iommu_dma_map fexit:__iommu_dma_unmap"
# the floor's hooks as bpftrace probes (kfunc/kretfunc: fentry/fexit)
bt_probes=$(for h in $hooks; do
	case $h in fentry:*) echo "kfunc:${h#*:}" ;; fexit:*) echo "kretfunc:${h#*:}" ;;
	tp:*) echo "tracepoint:iommu:${h#*:}" ;; esac; done | paste -sd, -)
modes="bare floor floor-prod prod bpftrace devices record record-stats"
[ -z "$compare" ] || modes="$modes prod-cmp devices-cmp record-cmp"
[ -z "$only" ] || modes=$only
[ "$debug" = 0 ] || modes="bare"

"$root/tools/vm-run.sh" --kernel-dir "$kdir" --timeout 5400 --append "$append" \
	--extra "$out" --extra "$bt" -- "
	echo dma_map_benchmark > /sys/bus/pci/devices/\$IA_EDU_BDF/driver_override
	echo \$IA_EDU_BDF > /sys/bus/pci/drivers_probe
	[ -e /sys/kernel/debug/dma_map_benchmark ] || { echo 'no /sys/kernel/debug/dma_map_benchmark'; exit 1; }
	echo \"DMADEBUG \$(cat /sys/kernel/debug/dma-api/disabled 2>/dev/null || echo none)\"
	cs=\$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
	echo \"CLOCKSOURCE \$cs\"
	[ \"\$cs\" = $clock ] || { echo \"no $clock clocksource in the guest (it runs on \$cs)\"; exit 1; }
	# the client's output -> \"MAP UNMAP\" (mean latencies, us)
	lat() { sed -n 's/^average \(un\)*map latency(us):\([0-9.]*\).*/\2/p' | tr '\n' ' '; }
	lost() { sed -n 's/.*lost \([0-9]*\).*/\1/p' /tmp/rec.err | head -1; }
	# the reader's own CPU from its start to its last drain (record -v:
	# not the loading before), the records it wrote and the times it fell
	# behind and raised its priority, the most MiB it saw waiting and the
	# seconds it was raised, as CPU:RECORDS:BOOSTS:MIB:RAISED: what draining
	# the ring costs the vCPUs the benchmark's threads share with it
	reader() { awk '/^reader: [0-9.]* s of CPU/ { c = \$2; n = \$7; w = \$15; t = \$22 } /^reader: fell behind/ { b = \$4 } END { if (n != \"\") printf \"%s:%d:%d:%s:%s\", c, n, b, w, t }' /tmp/rec.err; }
	rec() { \"\$@\" 2>/tmp/rec.err; }
	for r in \$(seq $R); do
		for t in $T; do
			bench=\"dma_map_benchmark -t \$t -s $S -g $N -d 1\"
			for m in $modes; do
				l=- ; x='' c=''
				case \$m in
				bare) x=\$(sh -c \"\$bench\" | lat) ;;
				floor) x=\$(floor $(echo $hooks) -- sh -c \"\$bench\" 2>/dev/null | lat) ;;
				floor-prod) x=\$(floor $prod_hooks -- sh -c \"\$bench\" 2>/dev/null | lat) ;;
				floor-*) x=\$(floor --work \${m#floor-} $(echo $hooks) -- sh -c \"\$bench\" 2>/dev/null | lat) ;;
				devices) x=\$(iommu-audit devices -- sh -c \"\$bench\" 2>/dev/null | lat) ;;
				prod) x=\$(iommu-audit devices --production -- sh -c \"\$bench\" 2>/dev/null | lat) ;;
				record) x=\$(rec iommu-audit -v record -o /tmp/m.trace -- sh -c \"\$bench\" | lat); l=\$(lost); c=\$(reader) ;;
				bpftrace) x=\$(bpftrace -e '$bt_probes { @[probe] = count(); }' -c \"\$bench\" 2>/tmp/bt.err | lat) ;;
				record-stats|record-cmp-stats) p=iommu-audit; [ \$m = record-stats ] || p=iommu-audit-cmp
					x=\$(rec env IA_BPF_STATS=1 \$p -v record -o /tmp/m.trace -- sh -c \"\$bench\" | lat); l=\$(lost); c=\$(reader)
					grep '^bpf-run:' /tmp/rec.err | sed \"s/^bpf-run:/STATS \$r \$t \$m/\" ;;
				prod-stats|prod-cmp-stats) p=iommu-audit; [ \$m = prod-stats ] || p=iommu-audit-cmp
					x=\$(IA_BPF_STATS=1 \$p devices --production -- sh -c \"\$bench\" 2>/tmp/rec.err | lat)
					grep '^bpf-run:' /tmp/rec.err | sed \"s/^bpf-run:/STATS \$r \$t \$m/\" ;;
				prod-cmp) x=\$(iommu-audit-cmp devices --production -- sh -c \"\$bench\" 2>/dev/null | lat) ;;
				devices-cmp) x=\$(iommu-audit-cmp devices -- sh -c \"\$bench\" 2>/dev/null | lat) ;;
				record-cmp) x=\$(rec iommu-audit-cmp -v record -o /tmp/m.trace -- sh -c \"\$bench\" | lat); l=\$(lost); c=\$(reader) ;;
				esac
				rm -f /tmp/m.trace
				echo \"RESULT \$r \$t \$m \$x \${l:--} \${c:--}\"
			done
		done
	done" | awk -v g="$G" -v s="$S" -v n="$N" -v debug="$debug" '
	/^DMADEBUG/ { print "dma-debug disabled: " $2 }
	/^CLOCKSOURCE/ { print "guest clocksource: " $2 }
	/^no / { print; bad = 1 }
	/^STATS/ { stats[++nstats] = sprintf("threads %s round %s %s: %s", $3, $2, $4, substr($0, index($0, $5))) }
	/^RESULT/ && NF >= 7 {
		r = $2; t = $3; m = $4; pair = $5 + $6
		lat[r, t, m] = pair; lostv[r, t, m] = $7; rdr[r, t, m] = NF >= 8 ? $8 : "-"
		if (!(m in seen)) { seen[m] = 1; order[++nm] = m }
		if (!((r, t) in rt)) { rt[r, t] = 1 }
		if (!(t in tseen)) { tseen[t] = 1; ts[++nt] = t }
		if (r > nr) nr = r
	}
	END {
		if (!nm) exit 1
		for (i = 1; i <= nstats; i++) print "bpf-run " stats[i]
		printf "granule %d, %d page(s) per map, %d s per run, %s\n", g, n, s,
			debug ? "dma-debug ON (bare only)" : "dma_debug=off"
		for (i = 1; i <= nt; i++) {
			t = ts[i]
			for (r = 1; r <= nr; r++) {
				b = lat[r, t, "bare"]
				line = sprintf("threads %d round %d: us per pair: bare %.1f", t, r, b)
				for (k = 2; k <= nm; k++) {
					m = order[k]; o = lat[r, t, m] - b
					# each mode against the floor of its own hooks
					fl = m ~ /^prod/ ? "floor-prod" : "floor"; f = lat[r, t, fl] - b
					line = line sprintf("  %s %.1f (+%.1f", m, lat[r, t, m], o)
					if (m != "floor" && m != "floor-prod" && m !~ /-stats$/ && f > 0) {
						q = o / f; line = line sprintf(", x%.2f %s", q, fl)
						sum[t, m] += q; if (!((t, m) in lo) || q < lo[t, m]) lo[t, m] = q
						if (!((t, m) in hi) || q > hi[t, m]) hi[t, m] = q; cnt[t, m]++
					}
					# the issue: production at most 1.0x the (11-hook) floor
					f11 = lat[r, t, "floor"] - b
					if (m ~ /^prod/ && f11 > 0) {
						q = o / f11; line = line sprintf(", x%.2f floor", q); m2 = m "/floor"
						sum[t, m2] += q; if (!((t, m2) in lo) || q < lo[t, m2]) lo[t, m2] = q
						if (!((t, m2) in hi) || q > hi[t, m2]) hi[t, m2] = q; cnt[t, m2]++
					}
					if (lostv[r, t, m] != "-") line = line ", lost " lostv[r, t, m]
					# the reader: CPU seconds, and per record written
					if (rdr[r, t, m] != "-" && split(rdr[r, t, m], rc, ":") == 5 && rc[2] > 0)
						line = line sprintf(", reader %.2f s, %.2f us/record, ring at most %s MiB, behind %d (raised %s s)", rc[1], rc[1] * 1e6 / rc[2], rc[4], rc[3], rc[5])
					line = line ")"
				}
				print line
			}
			for (k = 3; k <= nm; k++) {
				m = order[k]
				fl = m ~ /^prod/ ? "floor-prod" : "floor"
				if (cnt[t, m]) printf "threads %d: %s overhead / %s overhead: mean x%.2f, rounds x%.2f-x%.2f\n", t, m, fl, sum[t, m] / cnt[t, m], lo[t, m], hi[t, m]
				m2 = m "/floor"
				if (m ~ /^prod/ && cnt[t, m2]) printf "threads %d: %s overhead / floor overhead: mean x%.2f, rounds x%.2f-x%.2f\n", t, m, sum[t, m2] / cnt[t, m2], lo[t, m2], hi[t, m2]
			}
		}
	}'
