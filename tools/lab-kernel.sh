#!/bin/bash
# Build (once) and cache the iommu-audit "lab kernel": Debian's linux-source
# of one kernel version with tools/lab-patches/<version>/*.patch applied
# (iommu_lab.granule=: an IOMMU granule of 16K/64K on a 4K-page x86 kernel, as
# Apple's DART; iommu_lab.sg_fix=0: without the map_sg fix) and a
# configuration built up from nothing: `make allnoconfig` with the fragments
# tools/lab-patches/lab.config (common) and tools/lab-patches/<version>/lab.config
# (BTF, ftrace, kprobes, DMA_API_DEBUG, DMA_MAP_BENCHMARK, intel-iommu
# and its debugfs, the bench's drivers as modules). Prints the cache
# directory on stdout; progress goes to stderr, so:
#     kdir=$(tools/lab-kernel.sh --version 7.2)
#     tools/vm-run.sh --kernel-dir "$kdir" --append iommu_lab.granule=16384 -- CMD
#
# usage: tools/lab-kernel.sh [--version V] [--refresh] [--jobs N] [--print-key]
#   --version V   6.1 (default; bookworm's linux-source-6.1) or 7.2 (sid's
#                 linux-source-7.2, through tools/debian-suite.sh)
#   --refresh     re-run make in the cached tree (incremental) and re-install
#   --jobs N      make -jN (default: nproc); make runs under nice -n 10
#   --print-key   print the cache key and exit
#
# Cache layout (${IA_CACHE:-$HOME/.cache/iommu-audit}/lab/<key>/), the same as
# tools/vm-kernel.sh's entries, plus the build tree:
#   vmlinuz (bzImage)  vmlinux (ELF, debug info stripped, for the PVH boot)
#   config  System.map  release  key-input  modules.list  layout
#   lib/modules/<release>/{kernel/...*.ko, modules.dep, ...}   (depmod -b .)
#   build/   the patched, configured and built source tree (in-tree build):
#            make -C <dir>/build M=$PWD modules   builds external modules
#            (tests/fixture) against it.
# <key> hashes the source package version, the fragments, the patches and
# this script's BUILD_REV. 'layout' is written last: an entry without it is
# incomplete and the next run resumes make in the existing build tree.
set -euo pipefail
# The whole script is one compound command, read before it runs: editing this
# file during a 25-minute build cannot change what the running copy does.
{

BUILD_REV=2
LAYOUT=2
# Kept in sync with tools/vm-kernel.sh / tools/guest-init.sh.
MODULES=(nvme e1000e virtio_pci virtio_blk)

die() { echo "lab-kernel: $*" >&2; exit 1; }
log() { echo "lab-kernel: $*" >&2; }

here=$(cd "$(dirname "$0")" && pwd)
version=6.1
jobs=$(nproc)
refresh=0
print_key=0
while [ $# -gt 0 ]; do
	case "$1" in
	--refresh) refresh=1; shift ;;
	--jobs) [ $# -ge 2 ] || die "--jobs needs an argument"; jobs=$2; shift 2 ;;
	--jobs=*) jobs=${1#*=}; shift ;;
	--print-key) print_key=1; shift ;;
	--version) [ $# -ge 2 ] || die "--version needs an argument"; version=$2; shift 2 ;;
	--version=*) version=${1#*=}; shift ;;
	-h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) die "unknown argument: $1 (try --help)" ;;
	esac
done

case "$version" in
6.1|7.2) ;;
*) die "--version $version: 6.1 or 7.2" ;;
esac
patchdir=$here/lab-patches/$version
srcpkg=linux-source-$version
[ -d "$patchdir" ] || die "$patchdir missing"

# The configuration: the option lines of the common fragment and of the
# version's own, sorted (comments and order do not change the kernel, so
# they do not change the cache key or force a rebuild). An option set in
# both is an error: say it in one place.
norm_fragment() {	# FILE...
	grep -hE '^(CONFIG_[A-Za-z0-9_]+=|# CONFIG_[A-Za-z0-9_]+ is not set$)' "$@" | LC_ALL=C sort -u
}
fragment_text() {
	local f=("$here/lab-patches/lab.config") dup
	[ ! -f "$patchdir/lab.config" ] || f+=("$patchdir/lab.config")
	dup=$(norm_fragment "${f[@]}" | sed 's/^# //; s/[= ].*//' | uniq -d)
	[ -z "$dup" ] || die "set in both fragments: $dup"
	norm_fragment "${f[@]}"
}
[ -f "$here/lab-patches/lab.config" ] || die "$here/lab-patches/lab.config missing"
fragment_text >/dev/null

# The source tarball: bookworm's package for 6.1 (apt-get install, as
# tools/deps.sh does), sid's for 7.2: downloaded through the private apt
# configuration of tools/debian-suite.sh (the machine's apt sources are never
# touched, nothing from sid is installed) and unpacked into the cache.
IA_CACHE_ROOT=${IA_CACHE:-$HOME/.cache/iommu-audit}
case "$version" in
6.1)
	tarball=/usr/src/$srcpkg.tar.xz
	srcver=$(dpkg-query -W -f '${Version}' "$srcpkg" 2>/dev/null || true)
	if [ -z "$srcver" ] || [ ! -f "$tarball" ]; then
		log "installing $srcpkg"
		apt-get -o DPkg::Lock::Timeout=600 install -y -q "$srcpkg" >&2 ||
			die "cannot install $srcpkg"
		srcver=$(dpkg-query -W -f '${Version}' "$srcpkg")
	fi
	;;
*)
	# shellcheck source=tools/debian-suite.sh
	. "$here/debian-suite.sh"
	srcver=$(suite_field sid "$srcpkg" Version)
	[ -n "$srcver" ] || die "sid has no $srcpkg"
	pkgdir=$IA_CACHE_ROOT/lab/src/${srcpkg}_$srcver
	if [ ! -f "$pkgdir/version" ]; then
		rm -rf "$pkgdir.tmp"
		mkdir -p "$pkgdir.tmp"
		(cd "$pkgdir.tmp" && suite_download sid "$srcpkg=$srcver")
		deb=$(find "$pkgdir.tmp" -maxdepth 1 -name '*.deb' | head -n1)
		[ -n "$deb" ] || die "no $srcpkg .deb downloaded"
		dpkg-deb -x "$deb" "$pkgdir.tmp" || die "cannot unpack $deb"
		rm -f "$deb"
		echo "$srcver" >"$pkgdir.tmp/version"
		rm -rf "$pkgdir"
		mv "$pkgdir.tmp" "$pkgdir"
		# the unpacked source of older versions
		find "$IA_CACHE_ROOT/lab/src" -maxdepth 1 -name "${srcpkg}_*" ! -name "${srcpkg}_$srcver" -exec rm -rf {} +
	fi
	tarball=$(find "$pkgdir/usr/src" -maxdepth 1 -name "$srcpkg.tar.*" | head -n1)
	[ -n "$tarball" ] || die "no $srcpkg tarball in $pkgdir/usr/src"
	;;
esac
patches=()
while IFS= read -r p; do patches+=("$p"); done < <(find "$patchdir" -maxdepth 1 -name '*.patch' | sort)

key_input() {
	echo "build-rev $BUILD_REV"
	echo "source $srcpkg $srcver"
	echo "fragment $(fragment_text | sha256sum | cut -d' ' -f1)"
	local p
	for p in "${patches[@]}"; do
		echo "patch $(basename "$p") $(sha256sum <"$p" | cut -d' ' -f1)"
	done
}
key=$(key_input | sha256sum | cut -c1-16)
if [ "$print_key" -eq 1 ]; then
	echo "$key"
	exit 0
fi

cache_root=$IA_CACHE_ROOT/lab
dest=$cache_root/$key

. "$here/cache-lib.sh"
# One lock per version (lab/<version>/.lock): a 6.1 boot need not wait for a
# 7.2 build. Build trees are per source version, so they never share one.
cache_fast_path "$cache_root/$version" "$dest" "$LAYOUT" "$refresh"
rm -f "$dest/layout"
mkdir -p "$dest"
key_input >"$dest/key-input"
src=$dest/build

# 1. Source + patches. One build tree per (source version, fragment), shared
# by every patch set: kbuild puts absolute paths (objtool) in its command
# lines, so a copied or moved tree rebuilds from scratch, while switching
# the patches in place only rebuilds what they touch (~2-3 min). The tree
# stays where it was first built (an entry's build/ directory; the file
# tree-<id> holds its path); other entries get build -> that tree. It is at
# the patch set of the most recent build (tree/.lab-patches/).
seed_tree() {	# DIR: the copy to turn into this key's tree
	local t=$1 i old=() new=() f
	[ -d "$t/.lab-patches" ] || return 1
	while IFS= read -r f; do old+=("$f"); done < <(find "$t/.lab-patches" -maxdepth 1 -name '*.patch' | sort)
	# the first patch that differs (name or content): revert from there
	for ((i = 0; i < ${#old[@]} && i < ${#patches[@]}; i++)); do
		[ "$(basename "${old[$i]}")" = "$(basename "${patches[$i]}")" ] &&
			cmp -s "${old[$i]}" "${patches[$i]}" || break
	done
	local first=$i keep=$t/.lab-keep
	rm -rf "$keep"
	mkdir -p "$keep"
	# files any of the differing patches touch: save them with their mtimes
	for f in "${old[@]:$first}" "${patches[@]:$first}"; do
		sed -n 's|^+++ [^/]*/\([^\t ]*\).*|\1|p' "$f"
	done | sort -u | while IFS= read -r f; do
		[ -f "$t/$f" ] || continue
		mkdir -p "$keep/$(dirname "$f")"
		cp -p "$t/$f" "$keep/$f"
	done
	for ((i = ${#old[@]} - 1; i >= first; i--)); do
		log "seed: reverting $(basename "${old[$i]}")"
		patch -d "$t" -p1 -R --quiet <"${old[$i]}" >&2 || return 1
		rm -f "${old[$i]}"
	done
	for ((i = first; i < ${#patches[@]}; i++)); do
		log "seed: applying $(basename "${patches[$i]}")"
		patch -d "$t" -p1 --forward --quiet <"${patches[$i]}" >&2 || return 1
		cp "${patches[$i]}" "$t/.lab-patches/"
	done
	(cd "$keep" && find . -type f) | while IFS= read -r f; do
		! cmp -s "$keep/$f" "$t/$f" || touch -r "$keep/$f" "$t/$f"
	done
	rm -rf "$keep"
}
fragment=$dest/lab.config	# the fragments as one file (also kept in the entry)
fragment_text >"$fragment"
tree_id=$( { echo "$srcver"; sha256sum <"$fragment"; } | sha256sum | cut -c1-16)
ptr=$cache_root/tree-$tree_id
src=""
if [ -f "$ptr" ]; then
	src=$(cat "$ptr")
	[ -f "$src/.lab-patched" ] || src=""
fi
if [ -z "$src" ]; then	# a tree built before tree-<id> existed
	for d in "$cache_root"/*/build/.lab-patched; do
		[ -f "$d" ] || continue
		d=${d%/.lab-patched}
		[ ! -L "${d}" ] && [ -f "$d/.lab-fragment" ] &&
			[ "$(cat "$d/.lab-srcver" 2>/dev/null)" = "$srcver" ] &&
			cmp -s <(norm_fragment "$d/.lab-fragment") "$fragment" && src=$d && break
	done
fi
if [ -n "$src" ]; then
	log "build tree $src"
	if ! seed_tree "$src"; then
		rm -f "$src/.lab-patched" "$ptr"
		die "cannot switch $src to this patch set; it will be rebuilt from scratch next time"
	fi
	[ "$src" = "$dest/build" ] || ln -sfn "$src" "$dest/build"
else
	src=$dest/build
	rm -rf "$src" "$dest/.unpack"
	mkdir -p "$dest/.unpack"
	t=$dest/.unpack/$srcpkg
	log "unpacking $tarball ($srcver)"
	tar -C "$dest/.unpack" -xf "$tarball"
	mkdir -p "$t/.lab-patches"
	for p in "${patches[@]}"; do
		log "applying $(basename "$p")"
		patch -d "$t" -p1 --forward --quiet <"$p" >&2 ||
			die "$(basename "$p") does not apply"
		cp "$p" "$t/.lab-patches/"
	done
	echo "$srcver" >"$t/.lab-srcver"
	touch "$t/.lab-patched"
	mv "$t" "$src"
	rm -rf "$dest/.unpack"
fi
echo "$src" >"$ptr"

# 2. Config: allnoconfig with the fragment as KCONFIG_ALLCONFIG (every
# option it names takes its value, everything else is off or its default),
# then olddefconfig; then check that each line of the fragment kept its
# value (a missing dependency silently drops an option): an error, loudly.
if [ ! -f "$src/.config" ] || ! cmp -s "$fragment" <(norm_fragment "$src/.lab-fragment"); then
	log "configuring (allnoconfig + lab.config)"
	KCONFIG_ALLCONFIG=$fragment make -C "$src" -s allnoconfig >&2
	make -C "$src" -s olddefconfig >&2
	bad=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF "$line" "$src/.config" || { log "config: $line not kept ($(grep "^${line%%=*}=" "$src/.config" || echo unset))"; bad=1; } ;;
		"# CONFIG_"*" is not set")
			o=${line#\# }; o=${o%% *}
			! grep -q "^$o=" "$src/.config" || { log "config: $o should be unset"; bad=1; } ;;
		esac
	done <"$fragment"
	[ "$bad" -eq 0 ] || die "config fragment not applied (see above; $src/.config)"
	cp "$fragment" "$src/.lab-fragment"
fi

# 3. Build.
command -v pahole >/dev/null || {
	log "installing dwarves (pahole, for CONFIG_DEBUG_INFO_BTF)"
	apt-get -o DPkg::Lock::Timeout=600 install -y -q dwarves >&2 || die "cannot install dwarves"
}
log "nice -n 10 make -j$jobs (about 8 min on 2 cores from scratch; log: $dest/build.log)"
start=$(date +%s)
echo "=== $(date -u '+%F %T') make -j$jobs" >>"$dest/build.log"
if ! nice -n 10 make -C "$src" -j"$jobs" bzImage vmlinux modules >>"$dest/build.log" 2>&1; then
	tail -n 40 "$dest/build.log" >&2
	die "build failed (full log: $dest/build.log)"
fi
log "make took $(( $(date +%s) - start )) s"
echo "=== make took $(( $(date +%s) - start )) s" >>"$dest/build.log"

# 4. Install like tools/vm-kernel.sh.
release=$(make -C "$src" -s kernelrelease)
rm -rf "$dest/lib" "$dest/.mods"
make -C "$src" -s modules_install INSTALL_MOD_PATH="$dest/.mods" INSTALL_MOD_STRIP=1 DEPMOD=true >&2
srcmod=$dest/.mods/lib/modules/$release
dstmod=$dest/lib/modules/$release
mkdir -p "$dstmod"
for m in "${MODULES[@]}"; do
	f=$(find "$srcmod/kernel" -name "${m}.ko" -o -name "${m//_/-}.ko" | head -n1)
	[ -n "$f" ] || die "module $m not built (is it =m in tools/lab-patches/lab.config?)"
done
# All modules of the build (the lab config has few) so that modprobe
# resolves dependencies; then modules.dep for this tree.
cp -a "$srcmod/kernel" "$dstmod/"
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ ! -f "$srcmod/$f" ] || cp "$srcmod/$f" "$dstmod/$f"
done
rm -rf "$dest/.mods"
depmod -b "$dest" "$release"
(cd "$dstmod/kernel" && find . -name '*.ko' | sed 's|.*/||; s|\.ko$||; s|-|_|g' | sort) >"$dest/modules.list"

cp "$src/arch/x86/boot/bzImage" "$dest/vmlinuz"
objcopy --strip-debug "$src/vmlinux" "$dest/vmlinux"
cp "$src/.config" "$dest/config"
cp "$src/System.map" "$dest/System.map"
echo "$release" >"$dest/release"
echo "$srcver" >"$dest/pkg-version"
echo "$LAYOUT" >"$dest/layout"
log "cached lab kernel $release ($srcpkg $srcver) in $dest"
echo "$dest"
exit 0
}
