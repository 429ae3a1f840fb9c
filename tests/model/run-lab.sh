#!/bin/bash
# The random differential test (tests/vm/cases/random.sh) on the lab kernel
# (docs/lab-kernel.md), one boot per IOMMU granule: the same program
# generator, fixture and independent model, with iommu_lab.granule=G.
#
# usage: tests/model/run-lab.sh [--kdir DIR] [--mode strict|lazy] [GRANULE...]
#   GRANULE: 4096 16384 65536 (default: all three)
#   --kdir DIR  a built lab kernel (default: tools/lab-kernel.sh, which
#               builds it when its cache is empty)
#   IA_SEED, IA_RANDOM_OPS as for tests/run-vm.sh
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
kdir="" mode=strict
while [ $# -gt 0 ]; do
	case "$1" in
	--kdir) kdir=${2:?}; shift 2 ;;
	--mode) mode=${2:?}; shift 2 ;;
	-h|--help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	-*) echo "unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
granules=("$@")
[ ${#granules[@]} -eq 0 ] && granules=(4096 16384 65536)
[ -n "$kdir" ] || kdir=$("$root/tools/lab-kernel.sh") || exit 1
. "$root/tests/vm/lib-check.sh"
fx=$root/.output/model-lab/fixture
"$root/tests/fixture/build.sh" --kdir "$kdir/build" "$fx" > /dev/null || { _fail "fixture build"; exit 1; }
"$root/tests/model/program.sh" "$root/.output/model" 16384 || exit 1
echo "# lab kernel $kdir"
for g in "${granules[@]}"; do
	res=$root/.output/model-lab/g$g-$mode
	rm -rf "$res"
	mkdir -p "$res"
	start=$(date +%s)
	# dma_debug=off: the fixture's wrong calls are not about dma-debug here
	"$root/tools/vm-run.sh" --kernel-dir "$kdir" --mode "$mode" --mem 6144 --timeout 900 \
		--append "iommu_lab.granule=$g dma_debug=off oops=panic" \
		--extra "$fx" --extra "$root/.output/model" -- sh /tests/guest-main.sh random \
		> "$res/guest.out" 2> "$res/vm-run.err"
	rc=$?
	echo "# lab g$g ($mode): vm-run exit $rc in $(( $(date +%s) - start ))s"
	CASE="random-lab[g$g $mode]"
	if [ $rc -ne 0 ]; then
		_fail "vm-run exited $rc: $(tail -3 "$res/vm-run.err" | tr '\n' ' ')"
		continue
	fi
	"$root/tests/split-guest-output.sh" "$res" "$res/guest.out"
	# random.sh's check() finds the program in $results/model
	OUT=$res/random MODE=$mode results=$root/.output
	export OUT MODE
	unset -f guest check
	. "$root/tests/vm/cases/random.sh"
	check
	assert_eq "granule of the edu domain" "$g" \
		"$(jq -r 'select(.type == "device") | .granule' "$OUT/dump.jsonl" | head -n 1)"
done
echo "lab random: $pass_count passed, $fail_count failed"
[ "$fail_count" -eq 0 ]
