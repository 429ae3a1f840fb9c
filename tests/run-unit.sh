#!/bin/bash
# Run the cmocka unit test binaries given as arguments; print each one's
# output and a final "unit: N passed, N failed" line (test counts, from
# cmocka's own summary; IA_SUITE names the line, e.g. unit-asan). Exits 1 if any test failed or a binary crashed.
set -uo pipefail
passed=0
failed=0
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	echo "$out"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' <<< "$out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' <<< "$out" | tail -1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	# a crash or an exit without cmocka's summary still counts as a failure
	if [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		echo "not ok - $t exited $rc without a test summary"
		failed=$((failed + 1))
	fi
done
echo "${IA_SUITE:-unit}: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
