#!/bin/bash
# The checker's speed and memory (issue 15: at least 10 M records/s on one
# core, at most 64 bytes per live mapping), on the traces of
# bench/checker-scale.c: N live dma_map_page mappings of one device, then
# all unmapped, 5 N records (N = 200000: 1 M records; 2000000: 10 M).
#
# For each size, ROUNDS rounds of
#   direct   the records fed to the checker as they are made (no trace)
#   replay   the same records read back from a trace file, as `check`
#            reads one (reader, CRC, checker; the file is written once,
#            then in the page cache)
# each giving records per second of the process's CPU time (user +
# system: one core's work, which the other engineers' load on this
# shared machine does not change much; wall time swings), its peak RSS
# (the kernel's maximum resident set) and, for direct, the heap bytes per
# live mapping (glibc mallinfo2 and the checker's pools, which are mapped
# outside malloc, around the maps). Then the spread (min,
# max) over the rounds. With --callgrind, the instructions of one run of
# N = 100000 (500001 records) under valgrind, repeatable to the
# instruction: the program total for direct, ia_checker_from_trace
# inclusive for replay.
#
# --bin PATH measures another build's checker-scale (a copy: comparing a
# branch with main, or before with after).
#
# usage: bench/checker-speed.sh [--rounds R=5] [--sizes "200000 2000000"]
#                               [--callgrind] [--dir DIR=/tmp] [--bin PATH]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=5
sizes="200000 2000000"
callgrind=0
dir=${TMPDIR:-/tmp}
bin=
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift 2 ;;
	--sizes) sizes=$2; shift 2 ;;
	--callgrind) callgrind=1; shift ;;
	--dir) dir=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	*) echo "usage: $0 [--rounds R] [--sizes \"N...\"] [--callgrind] [--dir DIR] [--bin PATH]" >&2
	   exit 2 ;;
	esac
done
if [ -z "$bin" ]; then
	make -C "$root" -s bench
	bin=$root/.output/bench/checker-scale
fi
trace=$(mktemp "$dir/checker-speed.XXXXXX.trace")
out=$(mktemp)
trap 'rm -f "$trace" "$out"' EXIT

# run MODE N: one run; prints "rate rss_kb bytes_per_mapping"
run() {
	local mode=$1 n=$2 rate bpm rss
	if [ "$mode" = direct ]; then
		/usr/bin/time -f 'RSS %M' -o "$out.time" "$bin" "$n" > "$out"
		bpm=$(sed -nE 's/.* ([0-9.]+) bytes per live mapping.*/\1/p' "$out")
		rate=$(sed -nE 's/.*; ([0-9.]+) M records\/s.*/\1/p' "$out")
	else
		/usr/bin/time -f 'RSS %M' -o "$out.time" "$bin" --replay "$trace" > "$out"
		bpm=-
		rate=$(sed -nE 's/.*: ([0-9.]+) M records\/s.*/\1/p' "$out")
	fi
	rss=$(sed -nE 's/^RSS ([0-9]+)/\1/p' "$out.time")
	rm -f "$out.time"
	[ -n "$rate" ] && [ -n "$rss" ] || { echo "checker-scale gave no figures:" >&2; cat "$out" >&2; exit 1; }
	echo "$rate $rss $bpm"
}

for n in $sizes; do
	recs=$((5 * n + 1))
	"$bin" --trace "$trace" "$n" > /dev/null	# written once
	for mode in direct replay; do
		all=()
		for r in $(seq "$rounds"); do
			read -r rate rss bpm <<< "$(run "$mode" "$n")"
			printf '%-7s %9d records  round %d: %6.2f M records/s CPU  peak RSS %7d KiB  %s bytes per live mapping\n' \
				"$mode" "$recs" "$r" "$rate" "$rss" "$bpm"
			all+=("$rate $rss $bpm")
		done
		printf '%s\n' "${all[@]}" | awk -v m="$mode" -v recs="$recs" -v n="$n" '
			{ r[NR] = $1; s += $1; if (NR == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1
			  if ($2 > rss) rss = $2; bpm = $3 }
			END { printf "%-7s %9d records: %.2f M records/s mean of %d rounds (%.2f-%.2f), peak RSS %d KiB (%.1f bytes per live mapping at the peak), heap %s bytes per live mapping\n",
				m, recs, s / NR, NR, lo, hi, rss, rss * 1024 / n, bpm }'
	done
done
rm -f "$trace"

if [ "$callgrind" = 1 ]; then
	n=100000
	"$bin" --trace "$trace" "$n" > /dev/null
	cg=$(mktemp "$dir/checker-speed.XXXXXX.cg")
	valgrind --tool=callgrind --callgrind-out-file="$cg" "$bin" "$n" > /dev/null 2>&1
	d=$(callgrind_annotate "$cg" 2>/dev/null | sed -nE 's/^ *([0-9,]+) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
	valgrind --tool=callgrind --callgrind-out-file="$cg" --toggle-collect=ia_checker_from_trace \
		"$bin" --replay "$trace" > /dev/null 2>&1
	t=$(callgrind_annotate "$cg" 2>/dev/null | sed -nE 's/^ *([0-9,]+) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
	rm -f "$cg"
	awk -v d="$d" -v t="$t" -v recs=$((5 * n + 1)) 'BEGIN {
		printf "callgrind, %d records: direct %.1f M instructions (%.0f per record), replay %.1f M (%.0f per record)\n",
			recs, d / 1e6, d / recs, t / 1e6, t / recs }'
fi
