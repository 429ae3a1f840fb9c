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
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
	for f in "$root"/tests/vm/cases/*.sh; do cases+=("$(basename "$f" .sh)"); done
fi
. "$root/tests/vm/lib-check.sh"
CASES_DIR=$root/tests/vm/cases

for mode in "${modes[@]}"; do
	res=$root/.output/vm-tests/$mode
	rm -rf "$res"
	mkdir -p "$res"
	start=$(date +%s)
	"$root/tools/vm-run.sh" --mode "$mode" --timeout 900 --extra "$root/.output/guest" -- \
		sh /tests/guest-main.sh "${cases[@]}" > "$res/output.txt" 2> "$res/vm-run.err"
	rc=$?
	echo "# vm ($mode): guest ran in $(( $(date +%s) - start ))s, vm-run exit $rc"
	if [ $rc -ne 0 ]; then
		CASE=boot-$mode _fail "vm-run exited $rc: $(tail -5 "$res/vm-run.err" | tr '\n' ' ')"
		continue
	fi
	# split "@@@BEGIN case/file" ... "@@@END" blocks into files
	awk -v dir="$res" '
		/^@@@BEGIN / { split($2, p, "/"); system("mkdir -p \"" dir "/" p[1] "\""); f = dir "/" $2; next }
		/^@@@END$/ { close(f); f = ""; next }
		f != "" { print > f }
	' "$res/output.txt"
	for c in "${cases[@]}"; do
		CASE="$c[$mode]"
		OUT=$res/$c
		MODE=$mode
		export OUT MODE
		if [ ! -f "$OUT/guest.status" ]; then
			_fail "no output from the guest"
			continue
		fi
		# each case defines guest() and check(); a subshell keeps them apart
		# but the counters must come back: run check in this shell
		unset -f guest check
		. "$CASES_DIR/$c.sh"
		check
	done
done
echo "vm: $pass_count passed, $fail_count failed"
[ "$fail_count" -eq 0 ]
