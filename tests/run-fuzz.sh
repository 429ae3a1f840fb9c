#!/bin/bash
# Run libFuzzer harnesses (tests/fuzz/fuzz_*.c, built by `make fuzz-build`)
# for a bounded time each, on the seed corpus checked in under
# tests/fuzz/corpus/NAME/ plus a working corpus in .output/fuzz/corpus/NAME/
# (what the runs found, kept between runs, not in git). A crash, a leak, a
# timeout (an input taking more than 10 s), an out-of-memory or a broken
# property (fuzz_util.h) fails the harness; its input is kept in
# .output/fuzz/artifacts/NAME/. Prints one line per harness with its
# executions, coverage and corpus, then "fuzz: N passed, N failed".
# --fork N: N fuzzing processes per harness (libFuzzer -fork), for long runs;
# a crash, timeout or out-of-memory still ends the run and fails it.
# --max-len B: the largest input libFuzzer makes (default 131072). Smaller
# inputs run faster (fuzz_trace: about 800 executions/s at 128 KiB, 3500 at
# 16 KiB on one core), so a long run that must reach many executions can
# trade trace length for count; a seed longer than B is cut to its first B
# bytes, which the reader must then report as truncated.
# --runs N: stop after N executions (or --time S, whichever first).
#
# usage: tests/run-fuzz.sh [--time S] [--runs N] [--nice] [--fork N] [--max-len B] HARNESS...
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
time=25
nice=()
fork=()
max_len=131072
runs=-1
while [ $# -gt 0 ]; do
	case $1 in
	--time) time=$2; shift 2 ;;
	--nice) nice=(nice -n 19); shift ;;
	# fork mode ignores timeouts and out-of-memory unless told not to
	--fork) fork=(-fork="$2" -ignore_crashes=0 -ignore_timeouts=0 -ignore_ooms=0); shift 2 ;;
	--max-len) max_len=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--help|-h) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run-fuzz.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "run-fuzz.sh: no harness given" >&2; exit 2; }
passed=0
failed=0
logdir=$root/.output/fuzz/logs
mkdir -p "$logdir"
for bin in "$@"; do
	name=$(basename "$bin")
	seeds=$root/tests/fuzz/corpus/$name
	work=$root/.output/fuzz/corpus/$name
	art=$root/.output/fuzz/artifacts/$name/
	log=$logdir/$name.log
	mkdir -p "$work" "$art"
	if [ ! -x "$bin" ] || [ ! -d "$seeds" ]; then
		echo "not ok - fuzz: $name: harness or seed corpus $seeds missing"
		failed=$((failed + 1))
		continue
	fi
	# -error_exitcode/-timeout_exitcode: any finding is a non-zero exit
	"${nice[@]}" "$bin" "${fork[@]}" -max_total_time="$time" -timeout=10 -rss_limit_mb=2048 \
		-max_len="$max_len" -runs="$runs" -print_final_stats=1 -error_exitcode=77 \
		-timeout_exitcode=78 -artifact_prefix="$art" "$work" "$seeds" > "$log" 2>&1
	rc=$?
	# -fork: the executions of the jobs finished, as its "#N: cov:" lines count them
	if [ ${#fork[@]} -gt 0 ]; then
		execs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$log" | tail -1)
	else
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	fi
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+(/[0-9]+[a-zA-Z]*)?' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		echo "ok - fuzz: $name: ${time}s, max_len $max_len, ${execs:-?} executions, ${cov:-no coverage line}"
		passed=$((passed + 1))
	else
		echo "not ok - fuzz: $name: exit $rc after ${execs:-?} executions (log $log):"
		grep -E '^==[0-9]+==ERROR|^SUMMARY|fuzz property broken|ALARM|out-of-memory|Test unit written' \
			"$log" | head -5 | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
