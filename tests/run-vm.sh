#!/bin/bash
# VM tests: boot the bench guest once per invalidation mode, run every case's
# guest() step in it, then check the results on the host with each case's
# check(). Prints one ok/not ok line per assertion and a final
# "vm: N passed, N failed" line; exits 1 if anything failed.
#
# usage: tests/run-vm.sh [--mode strict|lazy|both] [CASE...]
#   CASE: a file name under tests/vm/cases/ without .sh (default: all)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
modes=(strict lazy)
if [ "${1:-}" = "--mode" ]; then
	case "$2" in both) ;; strict|lazy) modes=("$2") ;; *) echo "bad mode $2" >&2; exit 2 ;; esac
	shift 2
fi
case "${1:-}" in
-h|--help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
-*) echo "unknown option $1 (try --help)" >&2; exit 2 ;;
esac
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
	for f in "$root"/tests/vm/cases/*.sh; do cases+=("$(basename "$f" .sh)"); done
fi
for c in "${cases[@]}"; do	# a typo fails now, not after a boot
	[ -f "$root/tests/vm/cases/$c.sh" ] || { echo "no case $c in tests/vm/cases/" >&2; exit 2; }
done
. "$root/tests/vm/lib-check.sh"
CASES_DIR=$root/tests/vm/cases

# A case may ask for other boot options with a line "# vm-opts: ..." (e.g.
# --mem 6144 for swiotlb); cases with the same options share one boot.
vm_opts() { sed -n 's/^# vm-opts: *//p' "$CASES_DIR/$1.sh" | head -1; }
mapfile -t groups < <(for c in "${cases[@]}"; do echo "$(vm_opts "$c")"; done | sort -u)

# Static guest helpers and the DMA fixture module go in when built.
extras=()
for d in guest fixture; do
	[ -d "$root/.output/$d" ] && extras+=(--extra "$root/.output/$d")
done

run_boot() {	# MODE OPTS CASE...: one boot, then the checks of its cases
	local mode=$1 opts=$2 res rc start
	shift 2
	res=$root/.output/vm-tests/$mode
	mkdir -p "$res"
	local log=$res/boot-${opts//[^a-z0-9]/_}
	start=$(date +%s)
	# shellcheck disable=SC2086
	"$root/tools/vm-run.sh" --mode "$mode" --timeout 900 "${extras[@]}" $opts -- \
		sh /tests/guest-main.sh "$@" > "$log.out" 2> "$log.err"
	rc=$?
	echo "# vm ($mode${opts:+, $opts}): $* ran in $(( $(date +%s) - start ))s, vm-run exit $rc"
	if [ $rc -ne 0 ]; then
		CASE="boot[$mode${opts:+ $opts}]" _fail "vm-run exited $rc: $(tail -5 "$log.err" | tr '\n' ' ')"
		return
	fi
	# split "@@@BEGIN case/file" ... "@@@END" blocks into files
	awk -v dir="$res" -f "$root/tests/split-sections.awk" "$log.out"
	for c in "$@"; do
		CASE="$c[$mode]"
		OUT=$res/$c
		MODE=$mode
		export OUT MODE
		if [ ! -f "$OUT/guest.status" ]; then
			_fail "no output from the guest"
			continue
		fi
		# each case defines guest() and check(); check runs in this shell
		# so that the counters come back
		unset -f guest check
		. "$CASES_DIR/$c.sh"
		check
	done
}

for mode in "${modes[@]}"; do
	rm -rf "$root/.output/vm-tests/$mode"
	for g in "${groups[@]}"; do
		members=()
		for c in "${cases[@]}"; do [ "$(vm_opts "$c")" = "$g" ] && members+=("$c"); done
		run_boot "$mode" "$g" "${members[@]}"
	done
done
echo "vm: $pass_count passed, $fail_count failed"
[ "$fail_count" -eq 0 ]
