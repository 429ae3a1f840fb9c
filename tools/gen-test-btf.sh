#!/bin/bash
# Regenerate tests/data/btf/<release>.btf: the few types of each stock VM
# kernel's BTF that tests/unit/test_hooks.c checks the hook table and the
# CO-RE flavours (bpf/core_fixes.bpf.h) against, so that the unit tests run
# offline and without a VM. A few KB each instead of the kernel's ~5 MB.
#
# usage: tools/gen-test-btf.sh [KERNEL...]   (default: 6.1 6.12 newest)
#   KERNEL as tools/vm-run.sh --kernel takes it; fetched into the cache.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/tests/data/btf
tool=$root/.output/tools/btf-extract
mkdir -p "$out" "$(dirname "$tool")"
if [ ! -x "$tool" ] || [ "$root/tools/btf-extract.c" -nt "$tool" ]; then
	gcc -O2 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
		"$root/tools/btf-extract.c" -lbpf -lelf -lz -o "$tool"
fi
# Every function the hook table names (REQ("f", ...), EXIT(...), VIA(...)),
# the variants of every kernel, so that each BTF shows which exist.
mapfile -t funcs < <(grep -oE '\b[A-Z]+\("[a-z_0-9]+"' "$root/user/live/hooks.c" |
	sed 's/.*"\(.*\)"/\1/' | grep -vxE 'map|unmap' | sort -u)
specs=("${funcs[@]}"
	# the other candidates for 7.x's moved hooks, and the IOVA API (6.16)
	swiotlb_tbl_map_single fq_flush_timeout fq_ring_free dma_map_phys dma_unmap_phys
	dma_iova_try_alloc dma_iova_link dma_iova_sync dma_iova_unlink
	dma_iova_destroy dma_iova_free
	btf_trace_map btf_trace_unmap
	# the dma:* tracepoints (6.12; 6.18 names) and the structs that say
	# whether an API is there at all (struct ia_hook.api_struct)
	btf_trace_dma_map_phys btf_trace_dma_unmap_phys btf_trace_dma_map_page btf_trace_dma_unmap_page
	btf_trace_dma_map_resource btf_trace_dma_unmap_resource btf_trace_dma_map_sg btf_trace_dma_map_sg_err
	btf_trace_dma_unmap_sg btf_trace_dma_alloc btf_trace_dma_free btf_trace_dma_alloc_pages
	btf_trace_dma_free_pages btf_trace_dma_alloc_sgt btf_trace_dma_alloc_sgt_err btf_trace_dma_free_sgt
	btf_trace_dma_sync_single_for_cpu btf_trace_dma_sync_single_for_device btf_trace_dma_sync_sg_for_cpu btf_trace_dma_sync_sg_for_device
	struct:dma_iova_state:addr struct:trace_event_raw_dma_map:size
	# what the CO-RE flavours read: the cookie type and the granule
	struct:iommu_domain:type,cookie_type,pgsize_bitmap,iova_cookie
	struct:iommu_dma_cookie:type,iovad,fq_flush_finish_cnt,fq_domain
	struct:iova_domain:granule)
for k in "${@:-6.1 6.12 newest}"; do
	for kk in $k; do
		kdir=$("$root/tools/vm-kernel.sh" --kernel "$kk")
		rel=$(basename "$kdir")
		"$tool" "$kdir/vmlinux" "$out/$rel.btf.tmp" "${specs[@]}" 2> "$out/$rel.btf.log" ||
			{ cat "$out/$rel.btf.log" >&2; exit 1; }
		mv "$out/$rel.btf.tmp" "$out/$rel.btf"
		echo "gen-test-btf: $out/$rel.btf ($(wc -c < "$out/$rel.btf") bytes; absent: $(sed 's/^btf-extract: //' "$out/$rel.btf.log" | tr '\n' ';'))"
		rm -f "$out/$rel.btf.log"
	done
done
