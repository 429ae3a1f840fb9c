# Assertions for the host side of the VM tests (bash, jq). Sourced by
# tests/run-vm.sh before a case's check(). Each assertion prints one
# "ok - ..." or "not ok - ...: expected ..., got ..." line and counts it.

pass_count=0
fail_count=0

_ok() { pass_count=$((pass_count + 1)); echo "ok - $CASE: $1"; }
_fail() { fail_count=$((fail_count + 1)); echo "not ok - $CASE: $1"; }

# assert_eq DESC EXPECTED ACTUAL
assert_eq() {
	if [ "$2" = "$3" ]; then _ok "$1"; else _fail "$1: expected '$2', got '$3'"; fi
}

# assert_ge DESC MIN ACTUAL (integers)
assert_ge() {
	if [[ "$3" =~ ^-?[0-9]+$ ]] && [ "$3" -ge "$2" ]; then _ok "$1 ($3 >= $2)"
	else _fail "$1: expected >= $2, got '$3'"; fi
}

# assert_jq DESC FILE FILTER EXPECTED: jq -r FILTER on FILE must print EXPECTED
assert_jq() {
	local got
	got=$(jq -r "$3" "$2" 2>&1 | tr '\n' ' ' | sed 's/ $//')
	assert_eq "$1" "$4" "$got"
}

# env_get NAME: a variable the guest exported (IA_NVME_BDF, ...)
env_get() { sed -n "s/^$1=//p" "$OUT/env"; }

# fx_result_json: the DMA fixture's result log ($OUT/result.txt) as a JSON
# array of its lines' key=value fields, numbers as numbers ($OUT/result.json)
fx_result_json() {
	jq -R -s 'split("\n") | map(select(length > 0) | split(" ")
		| map(capture("^(?<k>[^=]+)=(?<v>.*)$") | {(.k): (.v | tonumber? // .)}) | add)' \
		"$OUT/result.txt" > "$OUT/result.json"
}
