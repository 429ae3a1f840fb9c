#!/bin/sh
# Runs in the VM guest (busybox sh): each named case's guest() step, with
# its files collected in $OUT, then prints every file between markers so
# the host (tests/run-vm.sh) can split them out and run the checks.
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
for name in "$@"; do
	for f in /tmp/out/$name/*; do
		echo "@@@BEGIN $name/${f##*/}"
		cat "$f"
		echo "@@@END"
	done
done
