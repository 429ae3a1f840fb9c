#!/bin/bash
# Make sure a stock Debian kernel (image, config, System.map and the few
# modules the VM bench loads) is cached outside the work tree, and print the
# cache directory on stdout. Everything else (progress, warnings) goes to
# stderr so that callers can do:  kdir=$(tools/vm-kernel.sh)
#
# usage: tools/vm-kernel.sh [--release R] [--refresh]
#   --release R   kernel release to fetch, e.g. 6.1.0-56-amd64 (default: the
#                 one the linux-image-amd64 metapackage currently depends on)
#   --refresh     rebuild the cache entry even if it already exists
#
# Cache layout (${IA_CACHE:-$HOME/.cache/iommu-audit}/kernel/<release>/):
#   vmlinuz  config  System.map  pkg-version  modules.list  layout
#   vmlinux  the uncompressed, stripped ELF kernel taken out of vmlinuz.
#            QEMU boots it through its PVH entry point, which skips the
#            bzImage decompressor: ~3 s faster under TCG (no KASLR then).
# (Debian's System.map is a one-line placeholder: the real one is only in the
# ~860 MB linux-image-<release>-dbg package. In the guest, /proc/kallsyms and
# /sys/kernel/btf/vmlinux have the same information.)
#   lib/modules/<release>/{kernel/...*.ko, modules.dep, ...}   (depmod -b .)
# The entry is built in a temporary sibling directory and renamed into place,
# so an interrupted run never leaves a half-populated cache entry behind.
set -euo pipefail

# Modules the guest init loads. Their dependencies are added from the
# package's modules.dep. Keep this list in sync with tools/guest-init.sh.
MODULES=(nvme e1000e virtio_pci virtio_blk)

die() { echo "vm-kernel: $*" >&2; exit 1; }
log() { echo "vm-kernel: $*" >&2; }

release=""
refresh=0
while [ $# -gt 0 ]; do
	case "$1" in
	--release) [ $# -ge 2 ] || die "--release needs an argument"; release=$2; shift 2 ;;
	--release=*) release=${1#*=}; shift ;;
	--refresh) refresh=1; shift ;;
	-h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) die "unknown argument: $1 (try --help)" ;;
	esac
done

cache_root=${IA_CACHE:-$HOME/.cache/iommu-audit}/kernel

# Which release does linux-image-amd64 point at? apt-cache only knows after an
# 'apt-get update'; on a fresh machine the lists may be empty, so retry once.
resolve_release() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9].*\)$/\1/p' | head -n1
}
# apt-cache takes ~0.8 s here because this image disables apt's binary
# package cache (Dir::Cache::pkgcache ""), so the answer is memoised, keyed by
# the names, sizes and mtimes of the package lists: any 'apt-get update' that
# changes them invalidates it.
lists_key() {
	stat -c '%n %s %Y' /var/lib/apt/lists/*Packages* 2>/dev/null | cksum | cut -d' ' -f1
}
memo=$cache_root/default-release
if [ -z "$release" ]; then
	key=$(lists_key)
	if [ -f "$memo" ]; then
		read -r mkey mrel <"$memo" || true
		if [ "${mkey:-}" = "$key" ] && [ -n "${mrel:-}" ]; then
			release=$mrel
		fi
	fi
fi
if [ -z "$release" ]; then
	release=$(resolve_release)
	if [ -z "$release" ]; then
		log "linux-image-amd64 unknown to apt-cache; running apt-get update"
		apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 || die "apt-get update failed"
		release=$(resolve_release)
		[ -n "$release" ] || die "cannot resolve linux-image-amd64 to a kernel release"
	fi
	mkdir -p "$cache_root"
	echo "$(lists_key) $release" >"$memo.$$" && mv "$memo.$$" "$memo"
fi
case "$release" in
*/*|.*|"") die "bad release name: '$release'" ;;
esac

dest=$cache_root/$release
# Bump when the layout of an entry changes: older entries are rebuilt.
LAYOUT=2

# Fast path: a complete entry exists (the rename below is the commit point,
# so existence == completeness); else wait for the cache lock.
. "$(dirname "$0")/cache-lib.sh"
cache_fast_path "$cache_root" "$dest" "$LAYOUT" "$refresh"

# Builders hold the lock, so any .build-* directory now is the leftover of
# a run that was killed (SIGKILL, power loss): remove it.
rm -rf "$cache_root"/.build-*
# The temporary directory is on the same file system as the cache, so the
# final mv is an atomic rename.
tmp=$(mktemp -d "$cache_root/.build-$release.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Without these, a signal would end the script without running the EXIT trap.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir "$tmp/dl"
# As root, apt-get download drops privileges to _apt, which cannot enter
# $HOME/.cache (/root is 0700): it then warns and downloads as root anyway.
# Say so up front to keep the output clean.
apt_opts=(-q)
if [ "$(id -u)" -eq 0 ]; then
	apt_opts+=(-o APT::Sandbox::User=root)
fi

pkg=linux-image-$release
log "downloading $pkg"
if ! (cd "$tmp/dl" && apt-get download "${apt_opts[@]}" "$pkg" >&2); then
	# The package may be newer than our package lists (or the lists empty).
	log "apt-get download failed; running apt-get update and retrying"
	apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 || die "apt-get update failed"
	(cd "$tmp/dl" && apt-get download "${apt_opts[@]}" "$pkg" >&2) || die "cannot download $pkg"
fi
deb=$(find "$tmp/dl" -maxdepth 1 -name "${pkg}_*.deb" | head -n1)
[ -n "$deb" ] || die "apt-get download left no .deb for $pkg"

log "extracting $(basename "$deb")"
dpkg-deb -x "$deb" "$tmp/x"
out=$tmp/out
mkdir -p "$out"
for f in vmlinuz config System.map; do
	[ -f "$tmp/x/boot/$f-$release" ] || die "$f-$release missing from $pkg"
	cp "$tmp/x/boot/$f-$release" "$out/$f"
done
dpkg-deb -f "$deb" Version >"$out/pkg-version"

# Take the ELF kernel out of the bzImage, as the kernel's
# scripts/extract-vmlinux does: find the compressed payload by its magic
# bytes and decompress it (trailing bytes after the stream are ignored).
# Debian 6.1 uses xz; the others are there for self-built or newer kernels.
extract_vmlinux() {
	local magics=('\xfd7zXZ\x00' '\x28\xb5\x2f\xfd' '\x1f\x8b\x08\x00')
	local tools=('xz -dc --single-stream' 'zstd -dcq' 'gzip -dc')
	local i off
	for i in "${!magics[@]}"; do
		# || true: head closing the pipe early is not an error (pipefail).
		off=$(LC_ALL=C grep -obUaP "${magics[$i]}" "$1" | head -n1 | cut -d: -f1 || true)
		[ -n "$off" ] || continue
		# shellcheck disable=SC2086  # a command with its options
		tail -c "+$((off + 1))" "$1" | ${tools[$i]} >"$2" 2>/dev/null || true
		if [ "$(head -c 4 "$2" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
			return 0
		fi
	done
	rm -f "$2"
	return 1
}
if ! extract_vmlinux "$out/vmlinuz" "$out/vmlinux"; then
	log "warning: could not extract vmlinux from vmlinuz; vm-run.sh will boot vmlinuz"
fi

# Debian 12 (bookworm) ships the 6.1 modules uncompressed, but later packages
# use .ko.xz (and possibly .ko.zst). Busybox's modprobe uses init_module() on a
# buffer it reads itself and cannot decompress zstd, so every module is stored
# decompressed as plain .ko.
srcmod=$tmp/x/lib/modules/$release
dstmod=$out/lib/modules/$release
# Debian's package does not ship modules.dep (its postinst runs depmod), so
# generate it on the extracted tree.
if [ ! -f "$srcmod/modules.dep" ]; then
	depmod -b "$tmp/x" "$release"
fi

# Resolve the dependency closure from modules.dep. Its lines look like
#   kernel/drivers/nvme/host/nvme.ko: kernel/drivers/nvme/host/nvme-core.ko
# Module names treat '-' and '_' as equal, so normalise to '_' for lookup.
declare -A path_of=() deps_of=()
while IFS= read -r line; do
	p=${line%%:*}
	b=$(basename "$p")
	n=${b%%.ko*}
	n=${n//-/_}
	path_of[$n]=$p
	deps_of[$n]=${line#*:}
done <"$srcmod/modules.dep"

declare -A want=()
queue=()
for m in "${MODULES[@]}"; do
	m=${m//-/_}
	if [ -z "${path_of[$m]:-}" ]; then
		# Built into this kernel? Then there is nothing to load.
		if grep -q "/${m//_/[-_]}\.ko\$" "$srcmod/modules.builtin" 2>/dev/null; then
			log "$m is built in to $release"
			continue
		fi
		die "module $m not found in $pkg"
	fi
	queue+=("$m")
done
while [ ${#queue[@]} -gt 0 ]; do
	m=${queue[0]}
	queue=("${queue[@]:1}")
	[ -z "${want[$m]:-}" ] || continue
	want[$m]=1
	for d in ${deps_of[$m]}; do
		b=$(basename "$d")
		n=${b%%.ko*}
		queue+=("${n//-/_}")
	done
done

for m in "${!want[@]}"; do
	p=${path_of[$m]}
	src=$srcmod/$p
	dst=$dstmod/${p%%.ko*}.ko
	mkdir -p "$(dirname "$dst")"
	case "$p" in
	*.ko) cp "$src" "$dst" ;;
	*.ko.xz) xz -dc "$src" >"$dst" ;;
	*.ko.zst) zstd -qdc "$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$dst" ;;
	*) die "unknown module format: $p" ;;
	esac
done
printf '%s\n' "${!want[@]}" | sort >"$out/modules.list"

# modules.builtin lets modprobe succeed silently for built-in modules;
# modules.order keeps depmod's output in the kernel's order.
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ ! -f "$srcmod/$f" ] || cp "$srcmod/$f" "$dstmod/$f"
done
depmod -b "$out" "$release"

log "modules: $(tr '\n' ' ' <"$out/modules.list")"
echo "$LAYOUT" >"$out/layout"
# Commit point. With --refresh the old entry is moved aside first (a rename
# cannot replace a non-empty directory), then deleted.
if [ -e "$dest" ]; then
	mv "$dest" "$tmp/old"
fi
mv "$out" "$dest"
log "cached $pkg $(cat "$dest/pkg-version") in $dest"
echo "$dest"
