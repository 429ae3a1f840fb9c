# The lab's seed scenarios (docs/lab-kernel.md, "Seed scenarios"): busybox sh
# functions, sourced in the guest by tests/lab/guest.sh. Each appends the
# fixture's result lines to $FX_LOG; tests/lab/check.py holds what each must
# give per granule. scen_seed runs them all in one recording (one BPF load,
# not eight: 5-12 s each under TCG), each after a "scen=NAME" line; the
# checker runs with --each (the fixture makes every allocation from one
# function, and folding would merge the scenarios' findings) and check.py
# gives each scenario the findings inside the time span of its fixture
# calls (their t0/t1 and the findings' ts are both CLOCK_MONOTONIC).
# In a strict boot the same recording then runs them all again lazily
# (scen_seed_lazy): lazy mode at every granule without a boot or a BPF
# load of its own.
SEED_SCENARIOS="single coherent contig atomic pages noncontig sg untrusted classify"
scen_seed() {
	seed_run ""
	[ "$IA_MODE" = lazy ] || scen_seed_lazy
}

# seed_run TAG: every seed scenario, each after a "scen=NAME TAG" line
seed_run() {
	for _s in $SEED_SCENARIOS; do
		echo "scen=$_s$1" >> "$FX_LOG"
		[ "$_s" != untrusted ] || iafx untrusted 1 > /dev/null
		"scen_$_s"
		[ "$_s" != untrusted ] || iafx untrusted 0 > /dev/null
	done
}

# The edu group's default domain switched to DMA-FQ at run time
# (/sys/kernel/iommu_groups/N/type, docs/lab-kernel.md "Lazy mode without
# a lazy boot"), the seed scenarios again tagged "@lazy", and a wait for
# the flush queue's timer (10 ms) so that every lazy unmap is flushed
# inside the recording.
scen_seed_lazy() {
	read -r _u0 _ < /proc/uptime
	echo "scen=switch" >> "$FX_LOG"
	# in place, the fixture bound (iommu_group_store_type(): DMA -> DMA-FQ
	# is the one switch allowed with a driver bound; the domain stays the
	# same): a map and unmap then, read against the new type; then the
	# unbind and bind give the probe line of the new domain
	group_type_bound DMA-FQ >> "$FX_LOG"
	fx map_single 0 4096 to && fx unmap "$FX_ID"
	iafx unbind >> "$FX_LOG"
	iafx bind >> "$FX_LOG"
	seed_run @lazy
	sleep 0.2
	read -r _u1 _ < /proc/uptime
	# what the lazy half cost in the guest (its trace's output aside)
	echo "seed_lazy_seconds start=$_u0 end=$_u1" >> "$FX_LOG"
}

# group_type TYPE: unbind the fixture, write TYPE to the edu device's IOMMU
# group type, bind it again. Prints the unbind line, "group_type want=TYPE
# rc=WRITE-STATUS now=WHAT-THE-FILE-SAYS err=WRITE-ERROR" and the probe
# line (its domain= and granule= are the new domain's, as the fixture reads
# them).
group_type() {
	iafx unbind
	group_type_bound "$1"
	iafx bind
}

# group_type_bound TYPE: the write alone, with whatever driver is bound
group_type_bound() {
	_gt=/sys/bus/pci/devices/$IA_EDU_BDF/iommu_group/type
	_err=$( (echo "$1" > "$_gt") 2>&1)
	_rc=$?
	echo "group_type want=$1 rc=$_rc now=$(cat "$_gt") err=$(echo $_err | tr ' ' _)"
}

# fx CMD ARGS...: one fixture command (docs/fixture.md); its id in $FX_ID,
# the handle and phys its result line gives in $FX_DMA, $FX_PHYS (read with
# the shell's own expansions: a fork costs milliseconds under TCG)
FX_NL='
'
fx() {
	_out=$(iafx "$@")
	_rc=$?
	printf '%s\n' "$_out" >> "$FX_LOG"
	_l=${_out%%"$FX_NL"*}
	fx_get FX_ID id
	fx_get FX_DMA dma
	fx_get FX_PHYS phys
	return $_rc
}

# fx_get VAR KEY: VAR = KEY's value in the result line $_l ("" when absent)
fx_get() {
	_t=" $_l"
	case "$_t" in
	*" $2="*) _v=${_t#*" $2="}; _v=${_v%% *} ;;
	*) _v= ;;
	esac
	eval "$1=\$_v"
}

# A sub-granule buffer: the granule slack, byte for byte.
scen_single() { fx map_single 100 200 to && fx unmap "$FX_ID"; }

# dma_alloc_coherent(4096): GFP_KERNEL (the remap path), forced contiguous,
# and GFP_ATOMIC (both __iommu_dma_map of one page); get_sgtable of each.
scen_coherent() { fx alloc_coherent 4096 && _a=$FX_ID && fx get_sgtable "$_a"; fx free "$_a"; }
scen_contig() { fx alloc_coherent 4096 contig && _a=$FX_ID && fx get_sgtable "$_a"; fx free "$_a"; }
scen_atomic() { fx alloc_coherent 4096 atomic && _a=$FX_ID && fx get_sgtable "$_a"; fx free "$_a"; }

scen_pages() { fx alloc_pages 4096 to && fx free_pages "$FX_ID"; }
scen_noncontig() { fx alloc_noncontig 4096 to && fx free_noncontig "$FX_ID"; }

# One segment on the second page of a 16 KiB-aligned block: page aligned,
# never aligned to a 16K or 64K granule.
scen_sg() { fx map_sg 4096:4096 to && fx unmap "$FX_ID"; }

# An untrusted device (scen_seed sets untrusted 1 around it: the device
# record changes, and so does the checker's view): the sub-granule buffer
# is bounced through swiotlb.
scen_untrusted() { fx map_single 100 200 to && fx unmap "$FX_ID"; }

# What the exposed memory is (issue 17; the stock kernels' VM case
# classify): a slab object of the fixture's own cache, 200 bytes of a page
# cache page, an alloc_pages() buffer, each mapped and unmapped alone (no
# other live buffer of the device shares their granules). Each map's
# result line names what every CPU page of its granules holds, read by the
# kernel's own predicates before and after the map (pages=): the witness
# tests/lab/check.py holds the finding's exposed bytes by kind to.
scen_classify() {
	fx map_slab to && fx unmap "$FX_ID"
	fx map_file /extra/lab/scenarios.sh 100 200 to && fx unmap "$FX_ID"
	fx map_single 100 200 to && fx unmap "$FX_ID"
}

# Freed while mapped (record --free-hooks), side by side with 7.2's
# IOMMU_DEBUG_PAGEALLOC (iommu.debug_pagealloc=1; 6.1 has none and ignores
# the parameter): a page freed while mapped, a slab object freed while
# mapped, and (lazy mode) a page the fixture frees right after its unmap,
# before the flush queue's flush (10 ms later).
scen_freed() {
	fx map_single 0 4096 to && _p=$FX_ID && fx free_mapped "$_p"; fx unmap "$_p"
	fx map_slab to && _s=$FX_ID && fx free_mapped "$_s"; fx unmap "$_s"
	fx map_single 0 4096 to && fx unmap "$FX_ID"
	sleep 0.1
}

# dma-debug side by side: every error class of kernel/dma/debug.c the
# fixture can make without harming the guest (docs/lab-kernel.md, "dma-debug
# side by side"; tests/lab/check.py DMA_DEBUG), each after the comment with
# dma-debug's words, then a leak reported at unbind.
scen_dmadebug() {
	_probe=$(iafx result | sed -n '/cmd=probe/p' | tail -1)
	_g=$(printf '%s\n' "$_probe" | sed -n 's/.* granule=\([0-9]*\).*/\1/p')
	_mss=$(printf '%s\n' "$_probe" | sed -n 's/.* max_seg=\([0-9]*\).*/\1/p')
	_sb=$(printf '%s\n' "$_probe" | sed -n 's/.* boundary=\([0-9]*\).*/\1/p')
	# frees DMA memory with different size / direction
	fx map_single 0 300 from && fx unmap "$FX_ID" 100
	fx map_page 0 512 to && fx unmap "$FX_ID" 512 from
	# tries to free DMA memory it has not allocated: twice, never mapped
	fx map_single 64 128 bidi && _d=$FX_ID && fx unmap "$_d" &&
		fx double_unmap "$_d"
	fx unmap_bogus 0x10000 4096 to
	# tries to free an invalid DMA memory address (DMA_MAPPING_ERROR)
	fx unmap_bogus 0xffffffffffffffff 4096 to
	# tries to sync DMA memory it has not allocated (past the end, after
	# the unmap); syncs DMA memory outside allocated range
	fx map_single 100 200 to && _s=$FX_ID && fx sync "$_s" 4096 64 dev &&
		fx sync "$_s" 0 400 dev && fx unmap "$_s"
	fx map_single 0 256 to && _s=$FX_ID && _h=$FX_DMA && fx unmap "$_s" &&
		fx sync_bogus "$_h" 256 cpu
	# syncs DMA memory with different direction (+ device read-only DMA
	# memory for cpu / device write-only DMA memory to device)
	fx map_single 0 256 to && _s=$FX_ID && fx sync_dir "$_s" from cpu && fx unmap "$_s"
	fx map_single 0 256 from && _s=$FX_ID && fx sync_dir "$_s" to dev && fx unmap "$_s"
	# frees DMA memory with wrong function (7.x: single and resource are
	# one type, "different attributes" says it)
	fx map_single 0 256 to && fx unmap_as "$FX_ID" unmap_resource
	fx map_resource bar0+0 4096 && fx unmap_as "$FX_ID" unmap_page
	fx alloc_coherent 4096 atomic && fx unmap_as "$FX_ID" free_pages
	fx alloc_pages 4096 bidi && fx unmap_as "$FX_ID" free_coherent
	# frees DMA memory with different CPU address; (7.x) with different
	# attributes
	fx alloc_coherent 4096 atomic && fx free_with "$FX_ID" 64
	fx alloc_coherent 4096 contig && fx free_with "$FX_ID" 0 0
	# DMA sg list with different entry count: sync, then unmap, with the
	# count dma_map_sg() returned (1) instead of the 2 entries mapped
	fx map_sg_granules 2 from && _m=$FX_ID && fx sync_sg "$_m" 1 cpu &&
		fx unmap_sg "$_m" 1
	# mapping sg segment longer than device claims to support / across
	# boundary
	fx max_seg_size 4096 && fx map_sg 0:8192 to && fx unmap "$FX_ID"
	fx max_seg_size "$_mss"
	fx seg_boundary $((_g - 1)) && fx map_sg 0:$((2 * _g)) to && fx unmap "$FX_ID"
	fx seg_boundary "$_sb"
	# failed to check map error
	fx map_nocheck 0 256 to && fx unmap "$FX_ID"
	# (7.x) dma_map_resource called for RAM address
	fx map_single 0 4096 to && _b=$FX_ID && fx map_resource "$FX_PHYS" 64 &&
		fx unmap "$FX_ID"
	fx unmap "$_b"
	# cacheline tracking EEXIST, overlapping mappings aren't supported
	fx map_single 0 256 from && _a=$FX_ID && fx map_alias "$_a" &&
		fx unmap "$FX_ID" && fx unmap "$_a"
	# maps memory from stack; (vmalloc: refused before dma-debug looks)
	fx map_stack 64
	fx map_vmalloc 256
	# has pending DMA allocations while released from device
	fx map_single 8 16 to && fx leak "$FX_ID"
	fx unbind
}

# The page-table oracle (docs/checks.md): a mapping made before the
# recording ($IA_SETUP_ID, map_single 300 100 from: the start snapshot
# shows it) unmapped inside it; a map_single whose entries the fixture
# removes with iommu_unmap() behind dma-iommu's back, which the recording
# sees (a removal outside any request: lifecycle.unmapped_behind_api); and
# a map_single whose leaves the fixture removes with the IOMMU driver's own
# op (pt_clear: below iommu-audit's page-table hooks), which only the
# closing snapshot shows (oracle.not_in_page_tables). Both mappings stay
# live for the DMA API (their IOVA allocated, never unmapped).
scen_oracle() {
	fx map_single 100 200 to && fx iommu_unmap "$FX_ID"
	fx map_single 100 200 to && fx pt_clear "$FX_ID"
	fx unmap "$IA_SETUP_ID"
}

# The two-step IOVA API (7.2) at the lab granule: a link at a sub-granule
# offset maps, and exposes, the whole granule around it. Each reservation's
# phys hint is POFF into its own buffer (iova_alloc SIZE buf+POFF), which
# its one link then links (BUF = the state): the offset inside the granule
# is the buffer's, known only once it exists. The first state is synced
# and destroyed; the second stays linked to the end, so the closing
# page-table snapshot must hold its granule (and the checker reports it
# still reserved). Needs iommu_lab.sg_fix=0: patch 0003 makes
# dma_iova_try_alloc() decline otherwise; 6.1 refuses every iova_ command.
scen_iova() {
	fx iova_alloc 0x600 buf+0x200 && _s=$FX_ID &&
		fx iova_link "$_s" 0 0x600 to 0x200 "$_s" &&
		fx iova_sync "$_s" 0 0x600 && fx iova_destroy "$_s"
	fx iova_alloc 0x1000 buf+0x100 && _k=$FX_ID &&
		fx iova_link "$_k" 0 0x1000 to 0x100 "$_k"
}
