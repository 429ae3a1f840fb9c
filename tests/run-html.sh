#!/bin/bash
# The HTML report (report --format html) rendered by headless Chromium
# (Debian's chromium, no network: every fetch would be a test failure,
# and the page has nothing to fetch): a screenshot that is not blank and
# shows the maps' colours (tests/html/png_stats.py), and the DOM
# (--dump-dom) whose device rows, totals and findings equal `report -j`'s
# and `check -j`'s (tests/html/dom_rows.py). Prints "html: N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/iommu-audit
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CASE=html
. "$root/tests/vm/lib-check.sh"
chromium_run() {	# ARGS...: headless, isolated, nothing fetched on its own
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --user-data-dir="$(mktemp -d -p "$tmp")" "$@" 2> "$tmp/chromium.err"
}
command -v chromium > /dev/null || { _fail "chromium is not installed (tools/deps.sh)"; }
for trace in sample.trace sample-after.trace; do
	CASE=html:$trace
	t=$root/tests/data/$trace
	"$bin" report "$t" --format html -o "$tmp/r.html"
	assert_eq "report --format html: exit" 0 "$?"
	assert_eq "self-contained: no URL to fetch" 0 "$(grep -oE '(src|href)=|url\(|@import|<script|<link' "$tmp/r.html" | wc -l)"
	chromium_run --window-size=1200,1600 --screenshot="$tmp/shot.png" "file://$tmp/r.html" > /dev/null
	[ -s "$tmp/shot.png" ] && _ok "screenshot written" || _fail "no screenshot: $(tail -2 "$tmp/chromium.err")"
	python3 "$root/tests/html/png_stats.py" "$tmp/shot.png" > "$tmp/png.json" 2>&1
	cp "$tmp/shot.png" "$root/.output/html-$trace.png" 2>/dev/null
	assert_jq "screenshot 1200 wide" "$tmp/png.json" .width 1200
	assert_ge "screenshot not blank: colours" 20 "$(jq .colours "$tmp/png.json")"
	assert_ge "screenshot not blank: 5%+ of pixels off the background (per mille)" 50 \
		"$(jq '.non_background * 1000 | floor' "$tmp/png.json")"
	assert_ge "the IOVA maps' green (requested) is drawn" 50 "$(jq .green "$tmp/png.json")"
	assert_ge "the IOVA maps' red (exposed) is drawn" 10 "$(jq .red "$tmp/png.json")"
	chromium_run --dump-dom "file://$tmp/r.html" > "$tmp/dom.html"
	python3 "$root/tests/html/dom_rows.py" "$tmp/dom.html" > "$tmp/dom.json"
	"$bin" -j report "$t" > "$tmp/report.json"
	"$bin" -j check "$t" > "$tmp/check.jsonl"
	assert_eq "DOM: the devices of report -j" \
		"$(jq -r '[.devices[].name] | sort | join(" ")' "$tmp/report.json")" \
		"$(jq -r '.devices | keys | sort | join(" ")' "$tmp/dom.json")"
	for dev in $(jq -r '.devices[].name' "$tmp/report.json"); do
		for k in maps bytes_requested bytes_mapped bytes_exposed pages_exposed live granule lazy_max_ns; do
			assert_eq "DOM $dev $k = report -j" \
				"$(jq ".devices[] | select(.name == \"$dev\") | .$k" "$tmp/report.json")" \
				"$(jq ".devices[\"$dev\"].$k" "$tmp/dom.json")"
		done
	done
	for k in maps bytes_requested bytes_mapped bytes_exposed pages_exposed; do
		assert_eq "DOM total $k = sum of report -j" \
			"$(jq "[.devices[].$k] | add" "$tmp/report.json")" "$(jq ".totals.$k" "$tmp/dom.json")"
	done
	assert_eq "DOM findings (code count) = check -j" \
		"$(jq -r 'select(.type == "finding") | .finding | "\(.code) \(.count)"' "$tmp/check.jsonl" | sort)" \
		"$(jq -r '.findings[] | "\(.code) \(.count)"' "$tmp/dom.json" | sort)"
	assert_eq "DOM run header: records" \
		"$(jq -r 'select(.type == "summary") | .records' "$tmp/check.jsonl")" "$(jq -r .run.records "$tmp/dom.json")"
	assert_eq "DOM: one SVG map per device with mappings" \
		"$(jq '[.devices[] | select(.maps > 0)] | length' "$tmp/report.json")" "$(jq .svg "$tmp/dom.json")"
done

# diff --format html: both runs' rows and the findings by status = diff -j
CASE=html:diff
a=$root/tests/data/sample.trace b=$root/tests/data/sample-after.trace
"$bin" diff "$a" "$b" --format html -o "$tmp/d.html"
assert_eq "diff --format html: exit as diff's (a NEW error)" 1 "$?"
chromium_run --window-size=1200,1400 --screenshot="$tmp/d.png" "file://$tmp/d.html" > /dev/null
python3 "$root/tests/html/png_stats.py" "$tmp/d.png" > "$tmp/dpng.json" 2>&1
assert_ge "diff screenshot not blank (per mille off the background)" 50 \
	"$(jq '.non_background * 1000 | floor' "$tmp/dpng.json")"
chromium_run --dump-dom "file://$tmp/d.html" > "$tmp/d.dom"
python3 "$root/tests/html/dom_rows.py" "$tmp/d.dom" > "$tmp/d.json"
"$bin" -j diff "$a" "$b" > "$tmp/diff.json"
for dev in $(jq -r '.devices[].name' "$tmp/diff.json"); do
	for run in old new; do
		for k in maps bytes_requested bytes_mapped bytes_exposed pages_exposed granule; do
			assert_eq "DOM $dev $run $k = diff -j" \
				"$(jq ".devices[] | select(.name == \"$dev\") | .$run.$k" "$tmp/diff.json")" \
				"$(jq ".devices[\"$dev/$run\"].$k" "$tmp/d.json")"
		done
	done
done
assert_eq "DOM findings (status code) = diff -j, unchanged left out" \
	"$(jq -r '.findings[] | select(.status != "unchanged") | "\(.status) \((.new // .old).code) \((.new // .old).count)"' "$tmp/diff.json" | sort)" \
	"$(jq -r '.findings[] | "\(.status) \(.code) \(.count)"' "$tmp/d.json" | sort)"
echo "html: $pass_count passed, $fail_count failed"
[ "$fail_count" -eq 0 ]
