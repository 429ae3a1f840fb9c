# Hostile ground (issue 14): the IOMMU on, every group in an identity
# domain (iommu.passthrough=1): DMA goes to physical addresses untranslated,
# dma-iommu is never called. The live commands say so before loading
# anything and exit 1 (docs/iommu-audit.8.md). One boot of its own, no BPF
# load in it.
# vm-opts: --append iommu.passthrough=1
# vm-kernels: 6.1 (the tool's own handling, the same on every kernel; a BPF load and unload per run cost 1-5 min of TCG on 7.2)
# vm-modes: strict (identity domains: no invalidation mode)

# shellcheck source=hostile-noiommu.sh
. "${CASES_DIR:-$(dirname "${BASH_SOURCE[0]}")}/hostile-noiommu.sh"

check() {
	assert_ge "IOMMU groups there" 4 "$(wc -l < "$OUT/groups")"
	assert_eq "every group identity" identity "$(sort -u "$OUT/types" | tr '\n' ' ' | sed 's/ $//')"
	untranslated_check "none of the $(wc -l < "$OUT/groups") IOMMU groups translates DMA (their domains are identity"
}
