#!/bin/bash
# The lab suite (docs/lab-kernel.md): per kernel version, build (once) the
# lab kernel (tools/lab-kernel.sh --version V), build the DMA fixture against
# it, boot it once per row of BOOTS below with iommu_lab.granule=G, run
# tests/lab/guest.sh's parts and check the results on the host with
# tests/lab/check.py:
#   - every device reports granule G, the workload passes, real drivers'
#     exposure per granule;
#   - the seed scenarios' findings per granule (exact bytes and pages);
#   - dma-debug side by side: every error it logs is also an iommu-audit
#     finding for the same handle;
#   - the map_sg fix (patch 0002) before/after: `iommu-audit diff`.
# Prints ok/not ok lines and "lab: N passed, N failed"; exit 1 on failure.
#
# usage: tests/lab/run.sh [--version V]... [--only NAME]... [--name N]
#   --version V   6.1 or 7.2 (default: $IA_LAB_VERSIONS, else 6.1)
#   --only NAME   a row of BOOTS
#   --name N      the summary line's name (default lab)
# Results: .output/lab/<V>/<NAME>/ (one file per guest section, traces, the
# console log in vm-run.err).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

# name           granule mode   mem  parts                 extra kernel args
BOOTS=(
	"g4096         4096  strict 6144 workload,seed,freed,dmadebug iommu.debug_pagealloc=1"
	"g16384        16384 strict 6144 workload,seed,sg,dmadebug,random -"
	"g65536        65536 strict 6144 workload,seed,oracle,random -"
	"g16384-lazy   16384 lazy   2048 workload,freed         iommu.debug_pagealloc=1"
	"g16384-nosgfix 16384 strict 2048 sg,iova               iommu_lab.sg_fix=0"
)
only=()
versions=()
suite_name=lab
while [ $# -gt 0 ]; do
	case "$1" in
	--only) only+=("${2:?--only needs a name}"); shift 2 ;;
	--version) versions+=("${2:?--version needs 6.1 or 7.2}"); shift 2 ;;
	--name) suite_name=${2:?--name needs a name}; shift 2 ;;
	*) echo "usage: $0 [--version V]... [--only NAME]... [--name N]" >&2; exit 2 ;;
	esac
done
[ ${#versions[@]} -gt 0 ] || read -r -a versions <<<"${IA_LAB_VERSIONS:-6.1}"

pass=0 fail=0
count() {	# the ok/not ok lines on stdin, added to the totals (not in a pipe:
		# a pipeline's last command runs in a subshell)
	local line
	while IFS= read -r line; do
		echo "$line"
		case "$line" in
		"ok "*) pass=$((pass + 1)) ;;
		"not ok "*) fail=$((fail + 1)) ;;
		esac
	done
}
nok() { count <<<"not ok - $*"; }
summary() { echo "$suite_name: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

# random_check LABEL RES MODE G: the random part against the model, by the
# VM case's own check() (tests/vm/cases/random.sh), in a subshell of its own
random_check() (
	CASE="$1 random" OUT=$2/random MODE=$3 results=$2
	. "$root/tests/vm/lib-check.sh"
	. "$root/tests/vm/cases/random.sh"
	check
	assert_eq "granule of the edu domain" "$4" \
		"$(jq -r 'select(.type == "device") | .granule' "$OUT/dump.jsonl" | head -n 1)"
)

# suite V: every row of BOOTS (or --only) on lab kernel V
suite() {
local V=$1 out start kdir fx ran=() row name G mode mem parts extra res append t rc b
out=$root/.output/lab/$V
start=$(date +%s)
# what the guest runs, per version: two versions' suites may run at once
labx=$out/lab
mkdir -p "$labx"
install -m 644 "$root/tests/lab/scenarios.sh" "$labx/scenarios.sh"
install -m 755 "$root/tests/lab/guest.sh" "$labx/guest.sh"
if ! kdir=$("$root/tools/lab-kernel.sh" --version "$V"); then
	nok "$V: tools/lab-kernel.sh --version $V failed"
	return
fi
echo "# lab kernel $V: $(cat "$kdir/release") ($kdir), ready after $(( $(date +%s) - start ))s"

fx=$out/fixture
if ! "$root/tests/fixture/build.sh" --kdir "$kdir/build" "$fx"; then
	nok "$V: fixture build against the lab kernel"
	return
fi

for row in "${BOOTS[@]}"; do
	read -r name G mode mem parts extra <<<"$row"
	if [ ${#only[@]} -gt 0 ] && [[ " ${only[*]} " != *" $name "* ]]; then
		continue
	fi
	ran+=("$name")
	res=$out/$name
	rm -rf "$res"
	mkdir -p "$res"
	append=""
	[ "$G" -eq 4096 ] || append="iommu_lab.granule=$G"
	[ "$extra" = - ] || append="$append $extra"
	model=()
	if [[ ",$parts," == *",random,"* ]]; then
		"$root/tests/model/program.sh" "$res/model" "$G" || { nok "$V $name: random program"; continue; }
		model=(--extra "$res/model")
	fi
	t=$(date +%s)
	"$root/tools/vm-run.sh" --kernel-dir "$kdir" --mode "$mode" --mem "$mem" \
		--timeout 1200 ${append:+--append "$append"} --extra "$fx" --extra "$labx" "${model[@]}" -- \
		sh /extra/lab/guest.sh ${parts//,/ } >"$res/guest.out" 2>"$res/vm-run.err"
	rc=$?
	echo "# $V $name: granule $G, $mode, ${append:-no lab arguments}: vm-run exit $rc in $(( $(date +%s) - t ))s"
	awk -v dir="$res" -f "$root/tests/split-sections.awk" "$res/guest.out"
	for b in "$res"/b64/*; do
		[ -f "$b" ] && base64 -d "$b" >"$res/$(basename "$b")"
	done
	if [ $rc -ne 0 ]; then
		nok "$V $name: vm-run exited $rc: $(tail -5 "$res/vm-run.err" | tr '\n' ' ')"
		continue
	fi
	count < <(python3 "$root/tests/lab/check.py" --name "$name" --kernel "$V" --granule "$G" --mode "$mode" \
		--parts "$parts" --binary "$root/iommu-audit" "$res" 2>&1)
	[[ ",$parts," != *",random,"* ]] || count < <(random_check "$V $name" "$res" "$mode" "$G" 2>&1)
done

# Before/after the map_sg fix (patch 0002), the way a patch author would
# compare two kernels: the same scenario on both boots.
if [[ " ${ran[*]} " == *" g16384 "* && " ${ran[*]} " == *" g16384-nosgfix "* ]]; then
	count < <(python3 "$root/tests/lab/check.py" --diff --kernel "$V" --granule 16384 --binary "$root/iommu-audit" \
		"$out/g16384-nosgfix/sg.trace" "$out/g16384/sg.trace" 2>&1)
fi
}

for V in "${versions[@]}"; do
	suite "$V"
done
summary
