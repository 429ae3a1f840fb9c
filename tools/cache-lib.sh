# Sourced by tools/vm-kernel.sh and tools/lab-kernel.sh: the way both use
# their cache in ${IA_CACHE:-$HOME/.cache/iommu-audit}.

# cache_fast_path ROOT DEST LAYOUT REFRESH [PRINT]
# When the entry DEST is complete (its file "layout" holds LAYOUT, written
# last by the builder) and REFRESH is 0: print PRINT (default DEST) and
# exit 0. Otherwise
# take ROOT/.lock (fd 9, held until the script ends) and look again: two
# builders started at once (two vm-run.sh) build once, the second waits and
# then takes the fast path. Returns with the lock held when there is work.
cache_fast_path() {
	local root=$1 dest=$2 layout=$3 refresh=$4 print=${5:-$2} pass
	for pass in 1 2; do
		if [ "$refresh" -eq 0 ] && [ "$(cat "$dest/layout" 2>/dev/null)" = "$layout" ]; then
			echo "$print"
			exit 0
		fi
		[ "$pass" -eq 1 ] || return 0
		mkdir -p "$root"
		exec 9>"$root/.lock"
		flock 9
	done
}
