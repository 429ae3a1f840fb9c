#!/bin/bash
# Everything: unit tests, CLI tests, the same two built with ASan+UBSan
# (.output/asan/, `make SAN=1`), the fuzz smoke (each harness of tests/fuzz
# for FUZZ_SMOKE seconds, default 10), the HTML report in Chromium, VM
# tests, monitor's soak (2 minutes; builds the Debian package) and the lab
# suites on the 6.1 and 7.2 lab kernels (each is built first when its cache
# is empty: the two builds then run in different lanes), then one closing
# "N passed, N failed" line. Exit 0 only when all passed.
#
# The VM suite runs on three of Debian's stock kernels (tools/vm-kernel.sh
# fetches them into the cache the first time):
#   6.1 (bookworm's, the default)  every case, strict and lazy (a case
#                                  whose checks do not depend on the mode
#                                  says so: "# vm-modes: strict")
#   newest (sid's, 7.x)            the same
#   6.12 (trixie's)                smoke, record and fixture, strict: the
#                                  hooks are 6.1's there, so what can differ
#                                  is seen by these; lazy mode is 6.1's and
#                                  7.x's
# The VM suites run in two lanes side by side (IA_LANES=1: one after the
# other, output live).
# (CI time: docs/testing.md.)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
log=$root/.output/test-logs
mkdir -p "$log"
total_p=0
total_f=0
rc_all=0
times=()	# "suite seconds", for the closing lines

# tally NAME RC: add the summary line "NAME: N passed, N failed" of its log
tally() {
	local name=$1 rc=$2 line p f
	line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$log/$name.txt" | tail -1)
	p=$(sed -E 's/.* ([0-9]+) passed.*/\1/' <<< "$line")
	f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<< "$line")
	if [ -z "$line" ]; then	# the suite died before its summary
		p=0
		f=1
		echo "not ok - $name suite ended without a summary (exit $rc)"
	fi
	total_p=$((total_p + p))
	total_f=$((total_f + f))
	[ "$rc" -eq 0 ] || rc_all=1
}

# run_suite NAME CMD...: run, show output, add its summary
run_suite() {
	local name=$1 start rc
	shift
	start=$(date +%s)
	"$@" 2>&1 | tee "$log/$name.txt"
	rc=${PIPESTATUS[0]}
	times+=("$name $(( $(date +%s) - start ))s")
	tally "$name" "$rc"
}

# Lanes: the suites of one lane (a shell function calling in_lane for each)
# run one after another, the lanes side by side (IA_LANES=1: one lane after
# the other, output live). Most of a TCG guest's time is one busy vCPU
# (the verifier, one fixture command after another), so two VMs on two
# cores take little longer than one. A suite's output goes to its log and
# is shown whole, lane by lane, when all lanes are done.
in_lane() {	# NAME CMD...
	local name=$1 start rc
	shift
	start=$(date +%s)
	if [ "${IA_LANES:-2}" -le 1 ]; then
		"$@" 2>&1 | tee "$log/$name.txt"
		rc=${PIPESTATUS[0]}
	else
		"$@" > "$log/$name.txt" 2>&1
		rc=$?
	fi
	echo "$name $rc $(( $(date +%s) - start ))" >> "$log/lane-$LANE.done"
}
run_lanes() {	# LANE-FUNCTION...
	local pids=() l name rc secs
	for l in "$@"; do
		: > "$log/lane-$l.done"
		if [ "${IA_LANES:-2}" -le 1 ]; then
			LANE=$l "$l"
		else
			LANE=$l "$l" &
			pids+=($!)
		fi
	done
	for p in "${pids[@]}"; do wait "$p"; done
	for l in "$@"; do
		while read -r name rc secs; do
			[ "${IA_LANES:-2}" -le 1 ] || cat "$log/$name.txt"
			times+=("$name ${secs}s")
			tally "$name" "$rc"
		done < "$log/lane-$l.done"
	done
}

run_suite unit "$root/tests/run-unit.sh" "$@"
run_suite cli "$root/tests/run-cli.sh"
asan_units=()
for t in "$@"; do
	asan_units+=("${t/.output\/tests\//.output/asan/tests/}")
done
# The ASan builds' suites, then the VM suites, in two lanes side by side,
# each about half of the work (measured: docs/testing.md, "Time").
lane_a() {
	in_lane unit-asan env IA_SUITE=unit-asan "$root/tests/run-unit.sh" "${asan_units[@]}"
	in_lane cli-asan env IA_SUITE=cli-asan IA_BIN="$root/.output/asan/iommu-audit" \
		"$root/tests/run-cli.sh"
	in_lane html "$root/tests/run-html.sh"
	in_lane vm "$root/tests/run-vm.sh" --mode both
	in_lane vm-6.12 "$root/tests/run-vm.sh" --kernel 6.12 --mode strict smoke record fixture
	in_lane lab-7.2 "$root/tests/lab/run.sh" --version 7.2 --name lab-7.2
}
lane_b() {
	in_lane fuzz "$root/tests/run-fuzz.sh" --time "${FUZZ_SMOKE:-10}" "$root"/.output/fuzz/fuzz_*
	in_lane vm-newest "$root/tests/run-vm.sh" --kernel newest --mode both
	in_lane lab "$root/tests/lab/run.sh" --version 6.1
	in_lane soak "$root/tests/run-soak.sh" --minutes 2
}
run_lanes lane_a lane_b
echo
echo "# suite times: ${times[*]}"
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ] && [ "$rc_all" -eq 0 ]
