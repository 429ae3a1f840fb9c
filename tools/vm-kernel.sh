#!/bin/bash
# Make sure a stock Debian kernel (image, config, System.map and the few
# modules the VM bench loads) is cached outside the work tree, and print the
# cache directory on stdout. Everything else (progress, warnings) goes to
# stderr so that callers can do:  kdir=$(tools/vm-kernel.sh)
#
# usage: tools/vm-kernel.sh [--kernel K | --release R] [--headers] [--refresh]
#                           [--update]
#   --kernel K    which kernel: 6.1 (bookworm's), 6.12 (trixie's), newest
#                 (sid's), any X.Y that one of those suites' linux-image-amd64
#                 depends on, or a release such as 6.12.117+deb13-amd64.
#                 Default: this machine's suite's linux-image-amd64 (bookworm:
#                 6.1), resolved from apt, never hard-coded.
#   --release R   the same as --kernel R (a release)
#   --headers     print the kernel's module build tree instead (its Debian
#                 linux-headers, for the DMA fixture: make -C DIR M=...),
#                 fetched into the cache when not installed
#   --refresh     rebuild the cache entry even if it already exists
#   --update      apt-get update the suites' lists before resolving K
#
# Suites other than the machine's own come from the same Debian archive
# through a private apt configuration in the cache (tools/debian-suite.sh);
# /etc/apt is never touched.
#
# Cache layout (${IA_CACHE:-$HOME/.cache/iommu-audit}/kernel/<release>/):
#   vmlinuz  config  System.map  pkg-version  suite  modules.list  layout
#   vmlinux  the uncompressed, stripped ELF kernel taken out of vmlinuz.
#            QEMU boots it through its PVH entry point, which skips the
#            bzImage decompressor: ~3 s faster under TCG (no KASLR then).
# (Debian's System.map is a one-line placeholder: the real one is only in the
# ~860 MB linux-image-<release>-dbg package. In the guest, /proc/kallsyms and
# /sys/kernel/btf/vmlinux have the same information.)
#   lib/modules/<release>/{kernel/...*.ko, modules.dep, ...}   (depmod -b .)
# and headers/<release>/ (--headers): the extracted linux-headers, -common
# and linux-kbuild packages, build -> the tree to pass to make -C.
# An entry is built in a temporary sibling directory and renamed into place,
# so an interrupted run never leaves a half-populated cache entry behind.
set -euo pipefail

# Modules the guest init loads. Their dependencies are added from the
# package's modules.dep. Keep this list in sync with tools/guest-init.sh.
MODULES=(nvme e1000e virtio_pci virtio_blk)
# Where stock kernels come from, oldest first: "newest" is the last one.
# Suite names, not kernel versions: what each ships is resolved from apt.
KERNEL_SUITES=(bookworm trixie sid)

die() { echo "vm-kernel: $*" >&2; exit 1; }
log() { echo "vm-kernel: $*" >&2; }

kernel=""
refresh=0
update=0
headers=0
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel|--release) [ $# -ge 2 ] || die "$1 needs an argument"; kernel=$2; shift 2 ;;
	--kernel=*|--release=*) kernel=${1#*=}; shift ;;
	--headers) headers=1; shift ;;
	--refresh) refresh=1; shift ;;
	--update) update=1; shift ;;
	-h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) die "unknown argument: $1 (try --help)" ;;
	esac
done

IA_CACHE_ROOT=${IA_CACHE:-$HOME/.cache/iommu-audit}
cache_root=$IA_CACHE_ROOT/kernel
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/debian-suite.sh"
. "$here/cache-lib.sh"

# The release SUITE's linux-image-amd64 depends on. apt-cache takes ~1 s
# here because this image disables apt's binary package cache
# (Dir::Cache::pkgcache ""), so the answer is memoised per suite, keyed by the
# names, sizes and mtimes of its package lists: any 'apt-get update' that
# changes them invalidates it.
image_release() {	# with APT set for the suite: apt's candidate
	apt-cache "${APT[@]}" depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9].*\)$/\1/p' | head -n1
}
resolve_suite() {
	local s=$1 memo key mkey mrel rel
	memo=$cache_root/resolved-$s
	[ "$s" != "$(suite_host)" ] || memo=$cache_root/default-release
	suite_ensure_lists "$s"
	key=$(suite_lists_key "$s")
	if [ -f "$memo" ] && read -r mkey mrel <"$memo" && [ "$mkey" = "$key" ] && [ -n "$mrel" ]; then
		echo "$mrel"
		return
	fi
	rel=$(image_release)
	if [ -z "$rel" ] && [ "$s" = "$(suite_host)" ]; then
		# A fresh machine may have empty or stale lists.
		suite_update "$s"
		key=$(suite_lists_key "$s")
		rel=$(image_release)
	fi
	[ -n "$rel" ] || die "cannot resolve $s's linux-image-amd64 to a kernel release"
	mkdir -p "$cache_root"
	echo "$key $rel" >"$memo.$$" && mv "$memo.$$" "$memo"
	echo "$rel"
}

# --kernel K -> release and suite (globals: release, suite).
suite=""
release=""
if [ "$update" -eq 1 ]; then
	for s in "${KERNEL_SUITES[@]}"; do suite_update "$s"; done
fi
case "$kernel" in
"")
	suite=$(suite_host)
	release=$(resolve_suite "$suite") ;;
newest)
	suite=${KERNEL_SUITES[-1]}
	release=$(resolve_suite "$suite") ;;
[0-9]*.[0-9]*-*|[0-9]*.[0-9]*.[0-9]*)
	# A release. Its entry may be cached already: no apt at all then.
	release=$kernel
	suite=$(cat "$cache_root/$release/suite" 2>/dev/null || true) ;;
[0-9]*.[0-9]*)
	for s in "${KERNEL_SUITES[@]}"; do
		r=$(resolve_suite "$s")
		case "$r" in "$kernel".*|"$kernel"-*) suite=$s; release=$r; break ;; esac
	done
	[ -n "$release" ] || die "no suite of ${KERNEL_SUITES[*]} ships a $kernel kernel (try --update)" ;;
*) die "bad --kernel '$kernel' (6.1, 6.12, newest or a release)" ;;
esac
case "$release" in
*/*|.*|"") die "bad release name: '$release'" ;;
esac
# Which suite holds linux-image-<release>? The machine's first.
find_suite() {
	local s
	for s in "${KERNEL_SUITES[@]}"; do
		if [ -n "$(suite_field "$s" "linux-image-$release" Version)" ]; then
			echo "$s"
			return
		fi
	done
	die "linux-image-$release is in none of ${KERNEL_SUITES[*]} (try --update)"
}

# begin_build DEST LAYOUT: return when DEST must be (re)built, with the cache
# lock held and $tmp a fresh directory next to DEST; print DEST's PRINT
# path and exit when it is complete (tools/cache-lib.sh).
begin_build() {
	cache_fast_path "$cache_root" "$1" "$2" "$refresh" "${3:-$1}"
	# Builders hold the lock, so any .build-* directory now is the leftover
	# of a run that was killed (SIGKILL, power loss): remove it.
	rm -rf "$cache_root"/.build-* "$cache_root"/headers/.build-*
	# On the same file system as the cache: the final mv is an atomic rename.
	tmp=$(mktemp -d "$(dirname "$1")/.build-$release.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# Without these, a signal would end the script without the EXIT trap.
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	mkdir "$tmp/dl"
	[ -n "$suite" ] || suite=$(find_suite)
}

# commit OUT DEST LAYOUT: the commit point. With --refresh the old entry is
# moved aside first (a rename cannot replace a non-empty directory).
commit() {
	echo "$3" >"$1/layout"
	if [ -e "$2" ]; then
		mv "$2" "$tmp/old"
	fi
	mv "$1" "$2"
}

# fetch_debs PKG...: downloaded from the suite into $tmp/dl, with the size
# and time logged (the numbers docs/vm-bench.md quotes).
fetch_debs() {
	local t0 t1 bytes p
	t0=$(date +%s.%N)
	(cd "$tmp/dl" && suite_download "$suite" "$@")
	t1=$(date +%s.%N)
	bytes=$(for p in "$@"; do cat "$tmp/dl/${p}_"*.deb; done | wc -c)
	awk -v a="$t0" -v b="$t1" -v n="$bytes" -v s="$suite" 'BEGIN {
		printf "vm-kernel: downloaded %.1f MB from %s in %.1f s\n", n / 1e6, s, b - a }' >&2
}
# extract_debs DIR: every .deb in $tmp/dl unpacked into DIR.
extract_debs() {
	local deb
	for deb in "$tmp/dl"/*.deb; do
		log "extracting $(basename "$deb")"
		dpkg-deb -x "$deb" "$1"
	done
}

# Depends of a downloaded package that are packages of this very release
# (sid's linux-image-R depends on linux-base-R: config, System.map;
# linux-binary-R: vmlinuz; linux-modules-R).
release_parts() {
	dpkg-deb -f "$1" Depends | tr ',|' '\n\n' | sed 's/^ *//; s/ .*//' |
		grep -xF -e "linux-base-$release" -e "linux-binary-$release" -e "linux-modules-$release" || true
}

# ---- --headers: the module build tree ----------------------------------------
# The Debian headers of a kernel are three packages: linux-headers-R
# (config, Module.symvers, generated headers; its Makefile includes the
# -common one's by absolute path), linux-headers-<version>-common (the
# source headers and the top Makefile) and linux-kbuild-<version> (the host
# programs: fixdep, modpost, objtool...). Installed for the machine's own
# kernel by tools/deps.sh; for another suite's kernel they are extracted into
# the cache and the absolute /usr/src paths pointed at the extracted tree.
if [ "$headers" -eq 1 ]; then
	installed=/usr/src/linux-headers-$release
	if [ "$refresh" -eq 0 ] && [ -f "$installed/Makefile" ] && [ -f "$installed/Module.symvers" ]; then
		echo "$installed"
		exit 0
	fi
	dest=$cache_root/headers/$release
	mkdir -p "$cache_root/headers"
	begin_build "$dest" 1 "$dest/build"
	fetch_debs "linux-headers-$release"
	hdeb=$(find "$tmp/dl" -name "linux-headers-${release}_*.deb" | head -n1)
	# Its Depends name the -common and kbuild packages of the same version.
	mapfile -t more < <(dpkg-deb -f "$hdeb" Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' |
		grep -E '^linux-(headers-.*-common|kbuild-)')
	[ ${#more[@]} -ge 2 ] || die "linux-headers-$release names no -common and kbuild packages"
	fetch_debs "${more[@]}"
	out=$tmp/out
	mkdir -p "$out"
	extract_debs "$out"
	tree=$out/usr/src/linux-headers-$release
	[ -f "$tree/Makefile" ] && [ -f "$tree/Module.symvers" ] ||
		die "linux-headers-$release has no Makefile or Module.symvers"
	# /usr/src/... -> the entry's final place (the rename keeps it valid).
	sed -i "s|/usr/src/|$dest/usr/src/|g" "$tree/Makefile"
	ln -s "usr/src/linux-headers-$release" "$out/build"
	# Host programs linked against a newer glibc than this machine's (trixie
	# and sid build modpost and objtool with glibc 2.38's __isoc23_strtoul)
	# run with the suite's own libc: its loader, then this machine's other
	# libraries (libelf, zlib), which a newer glibc still runs.
	host_glibc=$(getconf GNU_LIBC_VERSION | awk '{ print $2 }')
	newer=()
	while IFS= read -r -d '' f; do
		[ "$(head -c 4 "$f" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || continue
		need=$(objdump -T "$f" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1)
		if [ -n "$need" ] && [ "$(printf '%s\n%s\n' "$host_glibc" "$need" | sort -V | tail -n1)" != "$host_glibc" ]; then
			newer+=("$f")
		fi
	done < <(find "$out/usr/lib" -path '*linux-kbuild-*' -type f -perm -u+x -print0)
	if [ ${#newer[@]} -gt 0 ]; then
		log "${#newer[@]} kbuild programs need a glibc newer than $host_glibc: running them with $suite's libc6"
		rm -f "$tmp/dl"/*.deb
		fetch_debs libc6
		mkdir -p "$out/libc"
		extract_debs "$out/libc"
		ldso=$(find "$out/libc" -name 'ld-linux-x86-64.so.2' -type f | head -n1)
		libdir=$(dirname "$(find "$out/libc" -name 'libc.so.6' -type f | head -n1)")
		[ -n "$ldso" ] && [ -n "$libdir" ] || die "$suite's libc6 has no ld-linux-x86-64.so.2 or libc.so.6"
		ldso=$dest/${ldso#"$out"/}
		libdir=$dest/${libdir#"$out"/}
		for f in "${newer[@]}"; do
			mv "$f" "$f.bin"
			printf '#!/bin/sh\n# %s, linked against a newer glibc, run with %s'"'"'s (tools/vm-kernel.sh)\nexec %s --library-path %s:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu %s "$@"\n' \
				"$(basename "$f")" "$suite" "$ldso" "$libdir" "$dest/${f#"$out"/}.bin" >"$f"
			chmod 755 "$f"
		done
	fi
	echo "$suite" >"$out/suite"
	commit "$out" "$dest" 1
	log "cached the headers of $release in $dest"
	echo "$dest/build"
	exit 0
fi

# ---- the kernel ----------------------------------------------------------------
dest=$cache_root/$release
# Bump when the layout of an entry changes: older entries are rebuilt.
LAYOUT=2
begin_build "$dest" "$LAYOUT"

# bookworm and trixie ship the kernel in linux-image-R (files in /boot);
# sid splits it into linux-base-R, linux-binary-R and linux-modules-R, which
# linux-image-R pulls, with everything in /usr/lib/modules/R.
pkg=linux-image-$release
fetch_debs "$pkg"
deb=$(find "$tmp/dl" -maxdepth 1 -name "${pkg}_*.deb" | head -n1)
[ -n "$deb" ] || die "apt-get download left no .deb for $pkg"
mapfile -t parts < <(release_parts "$deb")
[ ${#parts[@]} -eq 0 ] || fetch_debs "${parts[@]}"
extract_debs "$tmp/x"
out=$tmp/out
mkdir -p "$out"
for f in vmlinuz config System.map; do
	for src in "$tmp/x/boot/$f-$release" "$tmp/x/usr/lib/modules/$release/$f" ""; do
		[ -z "$src" ] || [ ! -f "$src" ] || break
	done
	[ -n "$src" ] || die "$f-$release missing from $pkg ${parts[*]}"
	cp "$src" "$out/$f"
done
dpkg-deb -f "$deb" Version >"$out/pkg-version"
echo "$suite" >"$out/suite"

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
# trixie and later (merged /usr) put them in /usr/lib/modules.
xroot=$tmp/x
[ -d "$xroot/lib/modules/$release" ] || xroot=$tmp/x/usr
srcmod=$xroot/lib/modules/$release
[ -d "$srcmod" ] || die "no lib/modules/$release or usr/lib/modules/$release in $pkg ${parts[*]}"
dstmod=$out/lib/modules/$release
# Debian's package does not ship modules.dep (its postinst runs depmod), so
# generate it on the extracted tree.
if [ ! -f "$srcmod/modules.dep" ]; then
	depmod -b "$xroot" "$release"
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
commit "$out" "$dest" "$LAYOUT"
log "cached $pkg $(cat "$dest/pkg-version") ($suite) in $dest"
echo "$dest"
