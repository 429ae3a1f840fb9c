#!/bin/sh
# Runs in the lab-kernel guest (tests/lab/run.sh copies it, with
# scenarios.sh, to /extra/lab/). Prints "@@@BEGIN name" ... "@@@END"
# sections that run.sh splits into files; binary files (traces) go out in
# base64 sections named "b64/<file>".
#
# usage: guest.sh PART...   parts, in order:
#   workload        the bench workload (tests/vm/workload.sh) recorded on
#                   every device: trace, report
#   seed            the seed scenarios (scenarios.sh), in one recording;
#                   in a strict boot again lazily in the same recording
#                   (the edu group switched to DMA-FQ), then back to DMA
#   sg              only the map_sg scenario, in a recording of its own
#                   (what `iommu-audit diff` compares across sg_fix boots)
#   freed           memory freed while mapped (record --free-hooks), with
#                   IOMMU_DEBUG_PAGEALLOC's warnings (dmesg) beside it
#   oracle          the page-table oracle's injected difference (scen_oracle)
#   iova            the two-step IOVA API at the lab granule (scen_iova;
#                   7.2 with iommu_lab.sg_fix=0)
#   dmadebug        the lifecycle bugs with dma-debug reporting every error
#                   (ends with the fixture unbound: run it last)
#   random          the randomized differential program (tests/vm/cases/
#                   random.sh's guest step: /extra/model/program.txt through
#                   the fixture's batch file under record); it loads the
#                   fixture itself (a 32 MiB log, the program's ids from 2),
#                   after unloading the other parts' one, and unloads it.
#                   After dmadebug: dma-debug keeps the entries of the
#                   program's leaks, and reported one of them at dmadebug's
#                   unbind when random ran first
LAB=$(dirname "$0")

sec() { echo "@@@BEGIN $1"; }
end() { echo "@@@END"; }
# b64 FILE NAME: the file as a base64 section (busybox base64)
b64() { sec "b64/$2"; base64 "$1"; end; }

# scenario NAME [SETUP-CMD TEARDOWN-CMD [CHECK-ARG [RECORD-ARG]]]: record
# scen_NAME on the edu device (with RECORD-ARG), check it (with CHECK-ARG)
# (a SETUP-CMD's id in $IA_SETUP_ID, its result line in section scen/NAME/setup)
scenario() {
	_n=$1
	if [ -n "${2:-}" ]; then
		iafx $2 > "/tmp/$_n.setup"
		IA_SETUP_ID=$(sed -n '1s/^id=\([0-9]*\) .*/\1/p' "/tmp/$_n.setup")
		export IA_SETUP_ID
		sec "scen/$_n/setup"; cat "/tmp/$_n.setup"; end
	fi
	FX_LOG=/tmp/$_n.fx
	export FX_LOG
	: > "$FX_LOG"
	iommu-audit record ${5:-} --device "$IA_EDU_BDF" -o "/tmp/$_n.trace" -- \
		sh -c ". '$LAB/scenarios.sh' && scen_$_n" > "/tmp/$_n.rec" 2>&1
	_rc=$?
	[ -z "${3:-}" ] || iafx $3 > /dev/null
	sec "scen/$_n/fx"; cat "$FX_LOG"; end
	sec "scen/$_n/record"; cat "/tmp/$_n.rec"; echo "record_rc=$_rc"; end
	sec "scen/$_n/check"; iommu-audit -j check ${4:-} "/tmp/$_n.trace"; end
	b64 "/tmp/$_n.trace" "$_n.trace"
}

fixture_load() {
	sec fixture_load; iafx load 2>&1; echo "rc=$?"; end
}

sec cmdline; cat /proc/cmdline; end
sec uname; uname -r; end
sec drivers
for v in NVME E1000E VIRTIO EDU; do
	eval bdf=\$IA_${v}_BDF
	drv=$(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver" 2>/dev/null)" 2>/dev/null)
	typ=$(cat "/sys/bus/pci/devices/$bdf/iommu_group/type" 2>/dev/null)
	echo "$v $bdf driver=${drv:-none} type=${typ:-none}"
done
end
sec dmesg_boot; dmesg; end
loaded=0
for part in "$@"; do
	case "$part" in
	workload)
		iommu-audit record -o /tmp/workload.trace -- sh /tests/workload.sh \
			> /tmp/workload.out 2>&1
		rc=$?
		sec workload/out; cat /tmp/workload.out; echo "workload_rc=$rc"; end
		sec workload/report; iommu-audit -j report /tmp/workload.trace; end
		sec workload/report.txt; iommu-audit report /tmp/workload.trace; end
		b64 /tmp/workload.trace workload.trace
		;;
	random)
		read -r _t0 _ < /proc/uptime
		[ $loaded -eq 0 ] || iafx unload > /dev/null 2>&1
		loaded=0
		mkdir -p /tmp/random
		(OUT=/tmp/random CASES_DIR=/tests/cases; . /tests/cases/random.sh && guest)
		read -r _tg _ < /proc/uptime
		for f in /tmp/random/*; do sec "random/${f##*/}"; cat "$f"; end; done
		# the part's guest time (total, the case's guest step, the output
		# over the console)
		read -r _t1 _ < /proc/uptime
		sec random/part.seconds
		echo "$_t0 $_tg $_t1" | awk '{ printf "total %.1f guest %.1f output %.1f\n", $3 - $1, $2 - $1, $3 - $2 }'
		end
		;;
	seed|sg|oracle|freed|dmadebug|iova)
		[ $loaded -eq 1 ] || fixture_load
		loaded=1
		case "$part" in
		seed)
			scenario seed "" "" --each
			# strict again for the parts after it (scen_seed
			# ended lazy): a new default domain, as at boot
			if [ "$IA_MODE" = strict ]; then
				read -r _t0 _ < /proc/uptime
				sec seed/restore
				(. "$LAB/scenarios.sh" && group_type DMA)
				read -r _t1 _ < /proc/uptime
				echo "restore_seconds start=$_t0 end=$_t1"
				end
			fi
			;;
		sg) scenario sg ;;
		iova)
			read -r _t0 _ < /proc/uptime
			# before 6.16 (no IOVA API) only the fixture's
			# refusal: a recording would hold nothing
			_v=$(uname -r)
			_mj=${_v%%.*} _mn=${_v#*.}
			_mn=${_mn%%.*}
			if [ "$_mj" -gt 6 ] || { [ "$_mj" -eq 6 ] && [ "$_mn" -ge 16 ]; }; then
				scenario iova
			else
				: > /tmp/iova.fx
				(FX_LOG=/tmp/iova.fx; . "$LAB/scenarios.sh" && scen_iova)
				sec scen/iova/fx; cat /tmp/iova.fx; end
			fi
			read -r _t1 _ < /proc/uptime
			sec iova/seconds; echo "$_t0 $_t1"; end
			;;
		oracle) scenario oracle "map_single 300 100 from" ;;
		freed)
			dmesg -c > /dev/null
			scenario freed "" "" "" --free-hooks
			sec freed/dmesg; dmesg; end
			;;
		dmadebug)
			# every error, not only the first (show_num_errors = 1);
			# no driver_filter: the unbind leak report names no driver
			echo 1 > /sys/kernel/debug/dma-api/all_errors
			sec dmadebug/before; cat /sys/kernel/debug/dma-api/error_count; end
			dmesg -c > /dev/null
			scenario dmadebug
			sec dmadebug/dmesg; dmesg; end
			sec dmadebug/error_count; cat /sys/kernel/debug/dma-api/error_count; end
			# quiet again (its first error was shown long ago): a random
			# program after it makes thousands, each with a stack on the
			# console (ttyS0)
			echo 0 > /sys/kernel/debug/dma-api/all_errors
			;;
		esac
		;;
	*) echo "guest.sh: unknown part $part" >&2; exit 2 ;;
	esac
done
sec dmesg_end; dmesg; end
sec fixture_result; cat /sys/kernel/debug/ia_fixture/result 2>/dev/null; end
exit 0
