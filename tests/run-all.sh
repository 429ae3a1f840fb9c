#!/bin/bash
# Everything: unit tests, CLI tests, the same two built with ASan+UBSan
# (.output/asan/, `make SAN=1`), the fuzz smoke (each harness of tests/fuzz
# for FUZZ_SMOKE seconds, default 25), the HTML report in Chromium, VM
# tests, monitor's soak (2 minutes; builds the Debian package) and the lab suite (the lab
# kernel is built first when its cache is empty), then one closing
# "N passed, N failed" line. Exit 0 only when all passed.
#
# The VM suite runs on three of Debian's stock kernels (tools/vm-kernel.sh
# fetches them into the cache the first time):
#   6.1 (bookworm's, the default)  every case, strict and lazy
#   newest (sid's, 7.x)            every case, strict and lazy
#   6.12 (trixie's)                smoke and record in both modes, fixture
#                                  in strict: the hooks are 6.1's there, so
#                                  what can differ is seen by these
# (CI time: docs/testing.md.)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
log=$root/.output/test-logs
mkdir -p "$log"
total_p=0
total_f=0
rc_all=0
times=()	# "suite seconds", for the closing lines

# run_suite NAME CMD...: run, show output, add its "NAME: N passed, N failed"
run_suite() {
	local name=$1 line p f start
	shift
	start=$(date +%s)
	"$@" 2>&1 | tee "$log/$name.txt"
	local rc=${PIPESTATUS[0]}
	times+=("$name $(( $(date +%s) - start ))s")
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

run_suite unit "$root/tests/run-unit.sh" "$@"
run_suite cli "$root/tests/run-cli.sh"
asan_units=()
for t in "$@"; do
	asan_units+=("${t/.output\/tests\//.output/asan/tests/}")
done
run_suite unit-asan env IA_SUITE=unit-asan "$root/tests/run-unit.sh" "${asan_units[@]}"
run_suite cli-asan env IA_SUITE=cli-asan IA_BIN="$root/.output/asan/iommu-audit" \
	"$root/tests/run-cli.sh"
run_suite fuzz "$root/tests/run-fuzz.sh" --time "${FUZZ_SMOKE:-25}" "$root"/.output/fuzz/fuzz_*
run_suite html "$root/tests/run-html.sh"
run_suite vm "$root/tests/run-vm.sh" --mode both
run_suite soak "$root/tests/run-soak.sh" --minutes 2
run_suite vm-newest "$root/tests/run-vm.sh" --kernel newest --mode both
run_suite vm-6.12 "$root/tests/run-vm.sh" --kernel 6.12 --mode both smoke record
run_suite vm-6.12-fixture "$root/tests/run-vm.sh" --kernel 6.12 --mode strict --name vm-6.12-fixture fixture
run_suite lab "$root/tests/lab/run.sh"
echo
echo "# suite times: ${times[*]}"
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ] && [ "$rc_all" -eq 0 ]
