# Sourced by tests/run-cli.sh: bad arguments generated from each command's
# option table, as its --help synopsis gives it ("[--duration S]", "-o FILE",
# "[--format text|json|junit|sarif]"): for every option taking a value, the
# value missing and each bad value of its kind; for every command, unknown
# options, a value given to an option that takes none, and wrong positional
# arguments. Each must exit 2 (before loading anything into the kernel),
# with a message on stderr and, under -j, exactly one JSON document with an
# "error" string on stdout.

# bad values by the synopsis' metavariable
bad_values() {
	case $1 in
	S) printf '%s\n' "" abc nan inf -inf -1 0 5abc 1e400 0x10 " 5" "5 " 1.5.2 .5 \
		4294967297 99999999999999999999 1y ;;
	N) printf '%s\n' "" abc 0 -1 5abc 4294967297 99999999999999999999 " 1" 1.0 ;;
	NAME) printf '%s\n' "" "$(printf 'x%.0s' $(seq 32))" ;;
	LEVEL) printf '%s\n' "" fatal "error " ERRORS ;;
	F|text*) printf '%s\n' "" yaml "json " ;;
	FILE|TRACE) printf '%s\n' /nonexistent/dir/file ;;
	esac
}

# base arguments that make the rest of a command line valid
base_args() {
	case $1 in
	check|report|dump) echo "$sample" ;;
	diff) echo "$sample $sample" ;;
	record) echo "-o $tmp/gen.trace" ;;
	*) echo "" ;;
	esac
}

# only values refused while parsing or before the run: a bad --record or
# record -o path is found when the file is created, after BPF is loaded
file_checked_early() {
	case "$1 $2" in
	"live --baseline"|"check --baseline"|"live -o"|"check -o"|"coverage --btf"|\
	"coverage -i"|"devices -i") return 0 ;;
	esac
	return 1
}

gen_n=0
gen_case() {	# gen_case WHAT ARGS... : -j iommu-audit ARGS must be a JSON usage error
	local what=$1 name="gen$gen_n"
	shift
	gen_n=$((gen_n + 1))
	"$bin" -j "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" < /dev/null
	local rc=$?
	if [ $rc -eq 2 ] && jq -e '.error | type == "string"' "$tmp/$name.out" > /dev/null 2>&1 &&
	   [ "$(jq -s length "$tmp/$name.out" 2>/dev/null)" = 1 ] && [ -s "$tmp/$name.err" ]; then
		gen_ok=$((gen_ok + 1))
	else
		gen_bad=$((gen_bad + 1))
		_fail "bad arguments, $what: -j $*: expected exit 2 and one JSON error, got exit $rc, stdout '$(head -c 200 "$tmp/$name.out")'"
	fi
}

gen_ok=0
gen_bad=0
for cmd in live check report diff record devices dump coverage; do
	synopsis=$("$bin" "$cmd" --help | sed -n '1,/^$/p')
	# shellcheck disable=SC2046
	read -r -a base <<< "$(base_args "$cmd")"
	# "--opt VALUE" and "-o VALUE" pairs of the synopsis
	while read -r opt meta; do
		[ -n "$opt" ] || continue
		gen_case "$cmd $opt without its value" "$cmd" "${base[@]}" "$opt"
		while IFS= read -r v; do
			case $meta in FILE|TRACE) file_checked_early "$cmd" "$opt" || continue ;; esac
			gen_case "$cmd $opt '$v'" "$cmd" "${base[@]}" "$opt" "$v"
			[ "${opt#--}" != "$opt" ] && gen_case "$cmd $opt='$v'" "$cmd" "${base[@]}" "$opt=$v"
		done < <(bad_values "$meta")
	done < <(grep -oE '(--[a-z-]+|-[a-zA-Z]) ([A-Z]+|[a-z]+(\|[a-z]+)+)' <<< "$synopsis" | sort -u)
	for o in --bogus -Z --help=x -- ; do
		[ "$o" = -- ] && continue
		gen_case "$cmd unknown option $o" "$cmd" "${base[@]}" "$o"
	done
done
# positional arguments
gen_case "check without TRACE" check
gen_case "check with two traces" check "$sample" "$sample"
gen_case "report without TRACE" report
gen_case "report with two traces" report "$sample" "$sample"
gen_case "dump with two traces" dump "$sample" "$sample"
gen_case "diff with one trace" diff "$sample"
gen_case "diff with three traces" diff "$sample" "$sample" "$sample"
gen_case "coverage with an argument" coverage extra
gen_case "coverage --btf and -i" coverage --btf "$sample" -i "$sample"
gen_case "record without -o" record
gen_case "devices -i and a COMMAND" devices -i "$sample" -- true
for o in --duration=1 --status=1 --device=x; do
	gen_case "devices -i with $o" devices -i "$sample" "$o"
done
gen_case "live options given to check" check "$sample" --duration 1
gen_case "live options given to check" check "$sample" --record x.trace
gen_case "no command" -v
gen_case "unknown global option" --bogus check "$sample"
gen_case "unknown command" frobnicate
assert_ge "bad arguments generated from the option tables" 200 "$gen_n"
assert_eq "bad arguments: all $gen_n exit 2 with one JSON error under -j" 0 "$gen_bad"
