#!/bin/sh
# Runs in the VM guest (busybox sh): each named case's guest() step, with
# its files collected in $OUT, then prints each case's files, packed,
# between markers so the host (tests/run-vm.sh) can unpack them
# (tests/split-guest-output.sh) and run the checks.
#
# usage: guest-main.sh CASE...
CASES_DIR=/tests/cases
export CASES_DIR
for name in "$@"; do
	OUT=/tmp/out/$name
	mkdir -p "$OUT"
	export OUT
	env | grep '^IA_' > "$OUT/env"
	start=$(date +%s)
	( . "$CASES_DIR/$name.sh" && guest ) > "$OUT/guest.log" 2>&1
	echo $? > "$OUT/guest.status"
	echo $(( $(date +%s) - start )) > "$OUT/guest.seconds"
done
# Each case's files as one gzip'd tar in base64: the output channel carries
# about 215 KB/s under TCG (docs/vm-bench.md), and JSON Lines shrink about
# tenfold (a fixture boot's 2.2 MB took 13 s over the serial line). tests/split-guest-output.sh unpacks it.
for name in "$@"; do
	echo "@@@BEGIN $name.tgz.b64"
	tar czf - -C /tmp/out "$name" | base64
	echo "@@@END"
done
