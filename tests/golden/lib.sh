# golden_each FN: call FN NAME ARGS... for every case of tests/golden/cases,
# from the top of the tree, with TRACES replaced by tests/data (a relative
# path, so that the outputs, which name their traces, do not depend on
# where the tree is).
golden_each() {
	local fn=$1 name args
	cd "$(dirname "${BASH_SOURCE[0]}")/../.." || return 1
	while IFS='|' read -r name args; do
		case "$name" in ''|'#'*) continue ;; esac
		# shellcheck disable=SC2086  # the arguments are split on purpose
		"$fn" "$name" ${args//TRACES/tests/data}
	done < tests/golden/cases
}
