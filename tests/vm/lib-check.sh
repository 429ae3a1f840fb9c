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
declare -gA FX_RES=()
fx_result_json() {
	local id k v
	jq -R -s 'split("\n") | map(select(length > 0) | split(" ")
		| map(capture("^(?<k>[^=]+)=(?<v>.*)$") | {(.k): (.v | tonumber? // .)}) | add)' \
		"$OUT/result.txt" > "$OUT/result.json"
	# FX_RES, for fx_res: "ID FIELD" -> value, the last line's that has it.
	# A value `jq -r` would print differently from a TSV cell (an array or
	# an object, a string with a tab, newline or backslash) is \001.
	FX_RES=()
	while IFS=$'\t' read -r id k v; do
		FX_RES["$id $k"]=$v
	done < <(jq -r '.[] | .id as $i | to_entries[] | select(.value != null and .value != false)
		| [$i, .key, (if (.value | type) == "array" or (.value | type) == "object"
			or ((.value | type) == "string" and (.value | test("[\t\n\\\\]")))
			then "\u0001" else .value | tostring end)] | @tsv' "$OUT/result.json")
}
# rq COND FIELD: FIELD of the (last) result line matching the jq COND
rq() { jq -r ".[] | select($1) | .$2 // empty" "$OUT/result.json" | tail -n 1; }
# fx_res ID FIELD: what `rq ".id == ID" FIELD` prints, from FX_RES: the fixture case asks about 750 times per check,
# and a jq process per question was 40 s of a 67-s check (7.2 strict).
fx_res() {
	if [ "${FX_RES["$1 $2"]-}" = $'\001' ]; then
		rq ".id == $1" "$2"
	elif [ -n "${FX_RES["$1 $2"]+set}" ]; then
		printf '%s\n' "${FX_RES["$1 $2"]}"
	fi
}
