# The checker on the stock kernel (issue 4): real sub-page exposures with
# their call sites, no translation or alignment error (on a correct kernel
# those would be false positives), and `live --record` then `check` of the
# same run giving the same findings. Output formats and baselines too.

# ia-dio (tests/guest/ia-dio.c): 4 direct reads of 1024 bytes into a buffer
# 512 bytes into a page: nvme maps exactly that (one PRP entry), so each
# read exposes 512 bytes before and 4096-512-1024 = 2560 after.
DIO_OFF=512
DIO_LEN=1024
DIO_COUNT=4

guest() {
	cmd="sh /tests/workload.sh; ia-dio $IA_NVME_DEV $DIO_OFF $DIO_LEN $DIO_COUNT"
	iommu-audit -j live --record /tmp/l.trace -- sh -c "$cmd" > "$OUT/live.jsonl"
	echo $? > "$OUT/live.rc"
	iommu-audit -j check /tmp/l.trace > "$OUT/check.jsonl"
	echo $? > "$OUT/check.rc"
	iommu-audit check /tmp/l.trace > "$OUT/check.txt"
	iommu-audit check /tmp/l.trace --fail-on info > /dev/null
	echo $? > "$OUT/failon.rc"
	iommu-audit check /tmp/l.trace --fail-on info --baseline "$OUT/check.jsonl" > "$OUT/baseline.txt"
	echo $? > "$OUT/baseline.rc"
	iommu-audit check /tmp/l.trace --format junit -o "$OUT/check.xml"
	iommu-audit check /tmp/l.trace --format sarif -o "$OUT/check.sarif"
	iommu-audit -j report /tmp/l.trace > "$OUT/report.json"
	iommu-audit report /tmp/l.trace > "$OUT/report.txt"
}

# findings of a JSON Lines file as sorted "code device site-function" lines
finding_set() {
	jq -r 'select(.type == "finding") | .finding
		| "\(.code) \(.device) \((.stack[0] // "") | split("+")[0]) \(.count)"' "$1" | sort
}

check() {
	local nvme e1000e
	nvme=$(env_get IA_NVME_BDF)
	e1000e=$(env_get IA_E1000E_BDF)
	assert_eq "live exit code (info findings only)" 0 "$(cat "$OUT/live.rc")"
	assert_eq "check exit code" 0 "$(cat "$OUT/check.rc")"
	assert_eq "live and check of the same run: same findings" \
		"$(finding_set "$OUT/live.jsonl")" "$(finding_set "$OUT/check.jsonl")"
	assert_jq "no translation finding on the stock kernel" "$OUT/check.jsonl" \
		'select(.type == "finding" and .finding.invariant == "translation") | .finding.code' ""
	assert_jq "no alignment finding on the stock kernel" "$OUT/check.jsonl" \
		'select(.type == "finding" and .finding.invariant == "alignment") | .finding.code' ""
	assert_jq "no lifecycle error" "$OUT/check.jsonl" \
		'select(.type == "finding" and .finding.severity == "error") | .finding.code' ""

	# e1000e: three 142-byte frames, each exposing the rest of its page
	assert_jq "e1000e frames: sub-page exposure" "$OUT/check.jsonl" \
		"select(.type == \"finding\" and .finding.device == \"$e1000e\"
			and (.finding.stack[0] // \"\" | startswith(\"e1000_xmit_frame\")))
		 | \"\(.finding.code) \(.finding.count) \(.finding.exposed_bytes)\"" \
		"exposure.sub_page 3 $((3 * (4096 - 142)))"
	# nvme: ia-dio's reads, exact head and tail
	assert_jq "nvme ia-dio reads: head, tail, total, count" "$OUT/check.jsonl" \
		"select(.type == \"finding\" and .finding.device == \"$nvme\"
			and .finding.code == \"exposure.sub_page\" and .finding.len == $DIO_LEN)
		 | \"\(.finding.head) \(.finding.tail) \(.finding.exposed_bytes) \(.finding.count)\"" \
		"$DIO_OFF $((4096 - DIO_OFF - DIO_LEN)) $((DIO_COUNT * (4096 - DIO_LEN))) $DIO_COUNT"
	assert_jq "nvme finding names the driver's call site" "$OUT/check.jsonl" \
		"select(.type == \"finding\" and .finding.device == \"$nvme\" and .finding.len == $DIO_LEN)
		 | .finding.stack | map(select(startswith(\"nvme_\"))) | length > 0" true

	# exit codes, baseline, formats
	assert_eq "--fail-on info fails on the info findings" 1 "$(cat "$OUT/failon.rc")"
	assert_eq "--baseline of the same run: nothing new, exit 0" 0 "$(cat "$OUT/baseline.rc")"
	assert_eq "baseline text says all known" yes \
		"$(grep -q '^0 findings:.*known (baseline)' "$OUT/baseline.txt" && echo yes || echo no)"
	assert_eq "JUnit XML is well formed" 0 \
		"$(xmllint --noout "$OUT/check.xml" > /dev/null 2>&1; echo $?)"
	# the finding invariants of docs/checks.md: translation, exposure,
	# alignment, lifecycle, temporal, failed, oracle (the IOVA API's
	# findings are lifecycle and exposure ones; the oracle's suite is there,
	# empty, on a kernel without the page-table dump)
	assert_eq "JUnit: one suite per invariant" \
		"translation exposure alignment lifecycle temporal failed oracle" \
		"$(grep -o '<testsuite name="[^"]*"' "$OUT/check.xml" | cut -d'"' -f2 | tr '\n' ' ' | sed 's/ $//')"
	assert_jq "SARIF: version and one result per finding" "$OUT/check.sarif" \
		'"\(.version) \(.runs[0].results | length)"' \
		"2.1.0 $(jq -s '[.[] | select(.type == "finding")] | length' "$OUT/check.jsonl")"
	# report: exposure per device matches the findings' totals
	assert_jq "report: nvme bytes exposed = its exposure findings" "$OUT/report.json" \
		".devices[] | select(.name == \"$nvme\") | .bytes_exposed" \
		"$(jq -s "[.[] | select(.type == \"finding\" and .finding.device == \"$nvme\"
			and .finding.invariant == \"exposure\") | .finding.exposed_bytes] | add // 0" "$OUT/check.jsonl")"
	assert_jq "report: worst call site of e1000e" "$OUT/report.json" \
		".devices[] | select(.name == \"$e1000e\") | .worst_sites[0].site | startswith(\"e1000_xmit_frame\")" true
}
