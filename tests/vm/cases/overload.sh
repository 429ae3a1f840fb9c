# Overload (issue 14): events lost on purpose, in one recording, for both
# causes: a 1 MiB ring buffer (--ringbuf-mb 1) whose reader is stopped
# (SIGSTOP, as a starved reader on a loaded machine is) for 5 s under
# direct reads on both disks, and in-flight stacks of one frame
# (IA_FAULT_INFLIGHT_DEPTH=1, docs/testing.md), which overflow at every
# nested request (map_page -> __iommu_dma_map). The recording ends by a
# SIGINT while its command still runs (the signal case's `record`: its
# trace is complete, with a trailer). The drops are counted per
# cause, equal in `record -j` and the trace's trailer; record, check, report
# and devices -i exit 3; every finding is uncertain (the lost records could
# explain it), none fails the run, none is certain.
# vm-kernels: 6.1 (the tool's own handling, the same on every kernel; a BPF load and unload per run cost 1-5 min of TCG on 7.2)
# vm-modes: strict (drops happen in the ring buffer and the in-flight
# stacks, before any IOTLB flush)

guest() {
	IA_FAULT_INFLIGHT_DEPTH=1 iommu-audit -j record --ringbuf-mb 1 -o /tmp/ov.trace -- sh -c '
		for dev in $IA_NVME_DEV $IA_VIRTIO_DEV; do
			(while :; do dd if=$dev of=/dev/null bs=4096 count=64 iflag=direct 2> /dev/null; done) &
			loops="$loops $!"
		done
		sleep 1
		kill -STOP $PPID
		sleep 5
		kill -CONT $PPID
		sleep 1
		kill $loops
		# the dd in flight finishes first: no detach under I/O (signals.sh)
		while pidof dd > /dev/null; do sleep 0.1; done
		kill -INT $PPID
		sleep 60' > "$OUT/record.json" 2> "$OUT/record.err"
	echo $? > "$OUT/record.rc"
	iommu-audit dump /tmp/ov.trace > /tmp/ov.dump
	echo $? > "$OUT/dump.rc"
	tail -1 /tmp/ov.dump > "$OUT/trailer.json"
	grep -vc '"type":"\(header\|trailer\)"' /tmp/ov.dump > "$OUT/dumped.count"
	iommu-audit -j check --each /tmp/ov.trace > "$OUT/check.jsonl"
	echo $? > "$OUT/check.rc"
	iommu-audit check --fail-on info /tmp/ov.trace > "$OUT/check-info.txt" 2>&1
	echo $? > "$OUT/check-info.rc"
	iommu-audit -j report /tmp/ov.trace > "$OUT/report.json"
	echo $? > "$OUT/report.rc"
	iommu-audit -j devices -i /tmp/ov.trace > "$OUT/devices.json"
	echo $? > "$OUT/devices.rc"
	# the knob is checked: out of range is a load error, not a silent default
	IA_FAULT_INFLIGHT_DEPTH=9 iommu-audit record -o /tmp/bad.trace -d 1 > "$OUT/badknob.log" 2>&1
	echo $? > "$OUT/badknob.rc"
}

check() {
	local j=$OUT/record.json
	assert_eq "record exit code (events lost)" 3 "$(cat "$OUT/record.rc")"
	assert_ge "ring-buffer drops counted" 1 "$(jq .lost_ringbuf "$j")"
	assert_ge "in-flight stack drops counted" 1 "$(jq .lost_inflight "$j")"
	assert_jq "trailer: the ring-buffer drops stored" "$OUT/trailer.json" .lost_ringbuf "$(jq .lost_ringbuf "$j")"
	assert_jq "trailer: the in-flight drops stored" "$OUT/trailer.json" .lost_inflight "$(jq .lost_inflight "$j")"
	assert_eq "record SIGINT mid-command: the command stopped (SIGTERM)" 143 "$(jq .command_status "$j")"
	assert_eq "dump: complete, events lost (exit 3)" 3 "$(cat "$OUT/dump.rc")"
	assert_jq "trailer: every record in the trace counted" "$OUT/trailer.json" .records "$(cat "$OUT/dumped.count")"
	assert_ge "records made it while not stopped" 1000 "$(jq .records "$j")"
	assert_eq "check exit code (incomplete, nothing certain fails)" 3 "$(cat "$OUT/check.rc")"
	assert_eq "check --fail-on info: still 3 (uncertain findings never fail)" 3 "$(cat "$OUT/check-info.rc")"
	# the lost records make findings (writes without their request, nested
	# requests taken for roots): all of them uncertain
	assert_ge "findings from the damaged record stream" 1 \
		"$(jq -s '[.[] | select(.type == "finding")] | length' "$OUT/check.jsonl")"
	assert_eq "no finding certain" 0 \
		"$(jq -s '[.[] | select(.type == "finding" and (.finding.uncertain | not))] | length' "$OUT/check.jsonl")"
	assert_eq "the text output: no finding line without 'uncertain'" 0 \
		"$(grep -cE '^(error|warning|info) ' "$OUT/check-info.txt")"
	assert_eq "report exit code" 3 "$(cat "$OUT/report.rc")"
	assert_eq "devices -i exit code" 3 "$(cat "$OUT/devices.rc")"
	assert_jq "devices -i: the drops shown" "$OUT/devices.json" '.lost.ringbuf > 0 and .lost.inflight > 0' true
	assert_eq "IA_FAULT_INFLIGHT_DEPTH=9 refused, exit 1" 1 "$(cat "$OUT/badknob.rc")"
	assert_eq "IA_FAULT_INFLIGHT_DEPTH=9: the message" 1 \
		"$(grep -c 'IA_FAULT_INFLIGHT_DEPTH=9: 1 to 4' "$OUT/badknob.log")"
}
