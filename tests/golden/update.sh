#!/bin/bash
# Rewrite the golden outputs (tests/golden/NAME.out, NAME.rc) with what the
# current ./iommu-audit prints. Only for an intended change of output.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$here/../../iommu-audit
. "$here/lib.sh"
write() {
	local name=$1 rc=0
	shift
	"$bin" "$@" > "$here/$name.out" 2>/dev/null || rc=$?
	echo "$rc" > "$here/$name.rc"
	echo "golden: $name (exit $rc, $(wc -c < "$here/$name.out") bytes)"
}
golden_each write
