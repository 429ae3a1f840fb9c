#!/bin/bash
# Record tests/data/sample.trace in the VM bench: the standard workload
# (tests/vm/workload.sh) on the stock kernel, strict mode. The CLI tests
# (tests/run-cli.sh) read it, so rerun this when the trace format changes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/tests/data/sample.trace
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
make -C "$root" -s static
"$root/tools/vm-run.sh" --mode strict -- \
	'iommu-audit record -o /tmp/s.trace -- sh /tests/workload.sh >/dev/null 2>&1; echo @@@B64; base64 /tmp/s.trace' > "$tmp"
sed -n '/^@@@B64$/,$p' "$tmp" | tail -n +2 | tr -d '\r' | base64 -d > "$out.new"
"$root/iommu-audit" dump "$out.new" > /dev/null
mv "$out.new" "$out"
echo "wrote $out ($(stat -c %s "$out") bytes)"
