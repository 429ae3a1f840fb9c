#!/bin/bash
# Derive tests/data/sample-after.trace from tests/data/sample.trace: the
# "after the patch" run of the diff tests (tests/run-cli.sh, tests/unit
# cover the logic; docs/checks.md "Comparing two runs" shows the output).
# tools/trace-edit.c drops and changes requests of the recorded run, so
# what differs is known:
#   --drop 15              nvme's coherent allocation (with its nested
#                          __iommu_dma_map) still mapped at the end: the
#                          lifecycle.live_at_end finding is FIXED
#   --drop 161 --drop 163  e1000e's third frame, its map and its unmap: the
#                          exposure.sub_page finding is CHANGED (x3 -> x2)
#   --size 38=32           virtio-blk unmaps a 16-byte header with size 32:
#                          a NEW lifecycle.size_mismatch error
# Request ids are the "req" fields of `iommu-audit dump`: when sample.trace
# is recorded again (tools/make-sample-trace.sh), pick them anew. The output
# is byte for byte reproducible; the CLI tests check that it is.
#
# usage: tools/make-diff-trace.sh [OUT]   (default: tests/data/sample-after.trace)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/tests/data/sample-after.trace}
make -C "$root" -s --no-print-directory .output/tools/trace-edit
"$root/.output/tools/trace-edit" "$root/tests/data/sample.trace" "$out" \
	--drop 15 --drop 161 --drop 163 --size 38=32
