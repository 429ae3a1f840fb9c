# Randomized differential test (issue 13): a seeded random program of DMA
# API operations (tests/model/gen.py, written by tests/run-vm.sh to
# .output/vm-tests[/<release>]/model/program.txt before the boot, its seed on its first line)
# runs through the fixture's batch file while iommu-audit records; on the
# host an independent model (tests/model/model.py: the DMA API's semantics
# and dma-iommu's rounding rules, not the checker's code) computes from the
# fixture's log what every operation must have made (requests, page-table
# writes and removals, bounces, output segments) and the findings the run
# must have, and compares them with the trace's dump and `check -j`.
# The trace and the log come back gzipped and base64-encoded (the console
# is slow); dump and check run on the host with the same binary.
# vm-opts: --mem 6144

RANDOM_LOG_KB=32768	# the result log: ~150 bytes per operation

guest() {
	_prog=/extra/model/program.txt
	if [ ! -f "$_prog" ] || [ ! -f /extra/fixture/ia_fixture.ko ]; then
		echo "no /extra/model/program.txt or fixture (tests/run-vm.sh makes them)"
		return 1
	fi
	head -n 1 "$_prog" > "$OUT/program.head"
	insmod /extra/fixture/ia_fixture.ko log_kb=$RANDOM_LOG_KB > "$OUT/load.log" 2>&1
	echo $? > "$OUT/load.rc"
	_start=$(date +%s)
	# --no-classify: what the exposed pages hold is not modelled, and its
	# page records were a fifth of the trace's records at 16K
	iommu-audit record --no-classify --device "$IA_EDU_BDF" -o /tmp/rnd.trace -- sh -c \
		"cat $_prog > /sys/kernel/debug/ia_fixture/batch &&
		 echo $IA_EDU_BDF > /sys/bus/pci/drivers/ia_fixture/unbind" > "$OUT/record.log" 2>&1
	echo $? > "$OUT/record.rc"
	echo $(( $(date +%s) - _start )) > "$OUT/record.seconds"
	gzip -c /tmp/rnd.trace | base64 > "$OUT/trace.gz.b64"
	gzip -c /sys/kernel/debug/ia_fixture/result | base64 > "$OUT/result.gz.b64"
	rmmod ia_fixture
	dmesg | grep -c 'WARNING:' > "$OUT/warnings"
	dmesg | grep -c -E 'BUG:|Oops|general protection' > "$OUT/oops"
}

check() {
	local seed ops
	seed=$(sed -n 's/.*--seed \([0-9]*\).*/\1/p' "$OUT/program.head")
	echo "# random fixture program: seed $seed (reproduce: IA_SEED=$seed tests/run-vm.sh --mode $MODE random)"
	assert_eq "module loads" 0 "$(cat "$OUT/load.rc")"
	assert_eq "record: exit 0" 0 "$(cat "$OUT/record.rc")"
	assert_eq "no oops or BUG" 0 "$(cat "$OUT/oops")"
	base64 -d "$OUT/trace.gz.b64" | gunzip > "$OUT/rnd.trace"
	base64 -d "$OUT/result.gz.b64" | gunzip > "$OUT/result.txt"
	"$root/iommu-audit" dump "$OUT/rnd.trace" > "$OUT/dump.jsonl"
	# --each: one finding per occurrence, with its request: compared per operation
	"$root/iommu-audit" -j check --each "$OUT/rnd.trace" > "$OUT/check.jsonl"
	assert_eq "trace: no events lost" 0 \
		"$(jq -r 'select(.type == "trailer") | .lost_ringbuf + .lost_inflight + .lost_stack' "$OUT/dump.jsonl")"
	ops=$(grep -vc '^#' "$results/model/program.txt")
	assert_eq "fixture ran every line of the program (ids 2 ..)" "$ops" \
		"$(awk '/cmd=probe/ { p = 1; next } p && !/cmd=unbind/ { n++ } END { print n }' "$OUT/result.txt")"
	assert_ge "at least 10000 operations" 10000 "$ops"
	python3 "$root/tests/model/model.py" "$OUT/result.txt" "$OUT/dump.jsonl" "$OUT/check.jsonl" \
		--json "$OUT/model.json" > "$OUT/model.txt" 2>&1
	echo "# model ($MODE): $(tail -n 1 "$OUT/model.txt"); record took $(cat "$OUT/record.seconds")s"
	assert_eq "model vs trace and check: 0 mismatches (seed $seed; $OUT/model.txt)" 0 \
		"$(jq -r .mismatches "$OUT/model.json" 2>/dev/null || echo "model failed: $(tail -3 "$OUT/model.txt")")"
}
