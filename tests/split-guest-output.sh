#!/bin/bash
# Split a guest's output (tools/vm-run.sh's stdout) into files under DIR:
# the "@@@BEGIN PATH" ... "@@@END" sections (tests/split-sections.awk),
# then each NAME.tgz.b64 section (tests/vm/guest-main.sh packs a case's
# files that way) unpacked into DIR/NAME/. Exit 1 if an archive is damaged
# (the case's check then finds no guest.status and says so).
#
# usage: tests/split-guest-output.sh DIR OUTPUT
set -uo pipefail
dir=$1 output=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
awk -v dir="$dir" -f "$here/split-sections.awk" "$output"
rc=0
for a in "$dir"/*.tgz.b64; do
	[ -e "$a" ] || continue
	if ! base64 -d "$a" | tar xzf - -C "$dir"; then
		echo "split-guest-output: $a: damaged archive" >&2
		rc=1
	fi
	rm -f "$a"
done
exit $rc
