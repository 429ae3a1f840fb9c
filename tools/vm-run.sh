#!/bin/bash
# Boot the VM bench guest (stock Debian kernel, busybox initramfs, q35 with an
# emulated Intel IOMMU in front of nvme, e1000e, virtio-blk and edu devices)
# and run one shell command in it. See docs/vm-bench.md.
#
# usage: tools/vm-run.sh [options] -- CMD [ARGS...]
#   CMD and ARGS are joined with spaces and run by the guest's /bin/sh -c
#   (like ssh does), so  -- 'a | b; exit 3'  and  -- sleep 1  both work.
#   Its stdout+stderr are printed on stdout as they arrive.
#
# options:
#   --binary PATH     static iommu-audit binary for /bin/iommu-audit
#                     (default: .output/iommu-audit.static; a warning if absent)
#   --extra DIR       copied to /extra/<basename>, /extra/*/bin put on PATH
#                     (repeatable); tests/vm/ is always copied to /tests
#   --root DIR        DIR's tree laid over the guest's / (repeatable): a
#                     package installed into a staging root, with its
#                     libraries (tools/guest-bundle.sh --root)
#   --systemd         boot with systemd as PID 1 (tools/systemd-root.sh):
#                     after the set-up, CMD runs in ia-guest.service
#   --mode strict|lazy  iommu.strict=1 (default) or iommu.strict=0
#   --timeout SECS    kill the VM after SECS (default 600) -> exit 124
#   --mem MB          guest memory (default 2048)
#   --smp N           guest CPUs (default 2, or $IA_VM_SMP)
#   --append ARGS     extra kernel command line arguments (each --append adds)
#   --kernel K        which stock Debian kernel: 6.1 (bookworm's, the default),
#                     6.12 (trixie's), newest (sid's) or a release such as
#                     6.12.117+deb13-amd64 (tools/vm-kernel.sh --kernel K);
#                     also IA_KERNEL=K
#   --kernel-dir DIR  kernel laid out like the vm-kernel.sh cache (vmlinuz,
#                     optional vmlinux, lib/modules/<release>/) instead of a
#                     stock one
#   --bzimage         boot vmlinuz (bzImage, with KASLR) instead of the faster
#                     PVH boot of the uncompressed vmlinux (no KASLR)
#   -v                stream the guest console (kernel log) to stderr live
#   -h, --help        this text
#
# exit status:
#   0-255  CMD's own exit status (CMD's 124/125 are told apart from the
#          bench's by the "vm-run:" message on stderr)
#   124    timeout: the VM was killed after --timeout seconds
#   125    the bench failed: bad usage, kernel/initramfs could not be built,
#          QEMU failed, or the guest ended without reporting a status
#          (kernel panic, init failure, device missing); the console log
#          path and its last 40 lines are printed on stderr
#   129/130/143  vm-run.sh itself got SIGHUP/SIGINT/SIGTERM (VM stopped)
#
# Guest environment of CMD: IA_VM=1, IA_MODE, IA_NET_IF, IA_NET_ADDR,
# IA_NET_PEER, IA_NVME_DEV, IA_VIRTIO_DEV, IA_NVME_BDF, IA_E1000E_BDF,
# IA_VIRTIO_BDF, IA_EDU_BDF; cwd /, stdin /dev/null. Logs: .output/vm/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${IA_CACHE:-$HOME/.cache/iommu-audit}

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
log() { echo "vm-run: $*" >&2; }
# Bench failures exit 125 so that they are not mistaken for CMD's status.
die() { echo "vm-run: $*" >&2; exit 125; }

binary=$repo/.output/iommu-audit.static
binary_given=0
extras=()
roots=()
systemd=0
mode=strict
timeout_s=600
mem=2048
smp=${IA_VM_SMP:-2}
append=""
kernel_dir=""
kernel=${IA_KERNEL:-}
verbose=0
shell=0
bzimage=0
while [ $# -gt 0 ]; do
	case "$1" in
	--binary|--extra|--root|--mode|--timeout|--mem|--smp|--append|--kernel|--kernel-dir)
		[ $# -ge 2 ] || die "$1 needs an argument"
		case "$1" in
		--binary) binary=$2; binary_given=1 ;;
		--extra) extras+=("$2") ;;
		--root) roots+=("$2") ;;
		--mode) mode=$2 ;;
		--timeout) timeout_s=$2 ;;
		--mem) mem=$2 ;;
		--smp) smp=$2 ;;
		--append) append="${append:+$append }$2" ;;	# each one adds
		--kernel) kernel=$2 ;;
		--kernel-dir) kernel_dir=$2 ;;
		esac
		shift 2 ;;
	-v|--verbose) verbose=1; shift ;;
	--bzimage) bzimage=1; shift ;;
	--systemd) systemd=1; shift ;;
	# Used by tools/vm-shell.sh: interactive shell on the console, no CMD.
	--shell) shell=1; shift ;;
	-h|--help) usage; exit 0 ;;
	--) shift; break ;;
	*) usage >&2; die "unknown option: $1" ;;
	esac
done
if [ "$shell" -eq 0 ]; then
	[ $# -gt 0 ] || { usage >&2; die "no command given (put it after --)"; }
elif [ "$systemd" -eq 1 ]; then
	die "--systemd has no interactive shell (the guest has no getty)"
fi
cmd="$*"

case "$mode" in
strict) strict=1 ;;
lazy) strict=0 ;;
*) die "--mode must be strict or lazy, not '$mode'" ;;
esac
[[ "$timeout_s" =~ ^[1-9][0-9]*$ ]] || die "--timeout wants a positive integer"
[[ "$mem" =~ ^[1-9][0-9]*$ ]] || die "--mem wants a positive integer (MiB)"
[[ "$smp" =~ ^[1-9][0-9]?$ ]] || die "--smp wants a CPU count from 1 to 99"

# --- kernel -----------------------------------------------------------------
if [ -z "$kernel_dir" ]; then
	kernel_dir=$("$here/vm-kernel.sh" ${kernel:+--kernel "$kernel"}) ||
		die "could not get the kernel (tools/vm-kernel.sh${kernel:+ --kernel $kernel})"
fi
kernel_dir=$(cd "$kernel_dir" && pwd) || die "no such kernel dir"
[ -f "$kernel_dir/vmlinuz" ] || die "$kernel_dir/vmlinuz missing"
[ -d "$kernel_dir/lib/modules" ] || die "$kernel_dir/lib/modules missing"
# QEMU boots an ELF vmlinux through its PVH entry point (the kernel has
# CONFIG_PVH=y): that skips SeaBIOS's real-mode boot and the bzImage's xz
# decompressor, which under TCG takes ~3 s. The price is no KASLR, which
# only the decompressor implements; --bzimage restores the normal path.
kimage=$kernel_dir/vmlinuz
if [ "$bzimage" -eq 0 ] && [ -f "$kernel_dir/vmlinux" ]; then
	kimage=$kernel_dir/vmlinux
fi

# --- scratch space, cleaned up at exit ----------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/iaudit-vm.XXXXXX")
qpid=""
tailpids=()
partial=""
# shellcheck disable=SC2317  # called from the trap
cleanup() {
	# Kill only what this script started, by pid.
	if [ -n "$qpid" ]; then kill "$qpid" 2>/dev/null || true; fi
	for p in "${tailpids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
	if [ -n "$partial" ]; then rm -f "$partial"; fi
}
trap cleanup EXIT
# Interrupted: the usual 128+signal status, after cleanup (EXIT trap).
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# --- initramfs, part 1: static, cached ----------------------------------------
# busybox, /init and the kernel's modules. Keyed by the content of all three,
# so editing guest-init.sh or switching kernels rebuilds it, nothing else does.
bb=$(command -v busybox || true)
[ -n "$bb" ] || die "busybox not found (apt-get install busybox-static)"
bb=$(readlink -f "$bb")
# A dynamically linked busybox (package "busybox") cannot run in the guest,
# which has no libraries; only busybox-static's works.
# ldd succeeds only on dynamically linked executables.
if ldd "$bb" >/dev/null 2>&1; then
	die "$bb is dynamically linked; apt-get install busybox-static"
fi
key=$( {
	sha256sum "$bb" "$here/guest-init.sh" "$here/guest-out.c"
	(cd "$kernel_dir" && find lib -type f -print0 | sort -z | xargs -0 sha256sum)
} | sha256sum | cut -c1-16)
static_cpio=$cache/initramfs/static-$key.cpio
if [ ! -f "$static_cpio" ]; then
	log "building initramfs base ($static_cpio)"
	mkdir -p "$cache/initramfs"
	s=$tmp/static
	mkdir -p "$s/bin" "$s/dev" "$s/proc" "$s/sys" "$s/tmp" "$s/root" "$s/ia" "$s/extra"
	cp "$bb" "$s/bin/busybox"
	ln -s busybox "$s/bin/sh"
	install -m 0755 "$here/guest-init.sh" "$s/init"
	# /bin/ia-out: the command's output channel (the debugcon port below)
	${CC:-cc} -O2 -Wall -Wextra -Werror -static "$here/guest-out.c" -o "$s/bin/ia-out" ||
		die "cannot build tools/guest-out.c (a C compiler and the static libc: tools/deps.sh)"
	cp -a "$kernel_dir/lib" "$s/lib"
	# Build next to the target and rename: never a half-written archive.
	partial=$static_cpio.$$
	(cd "$s" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc --owner=0:0 --reproducible) >"$partial"
	mv "$partial" "$static_cpio"
	partial=""
else
	# Mark it as recently used for the pruning below.
	touch "$static_cpio"
fi
# Keep the cache small: the 8 most recently used bases (three stock kernels
# and two lab kernels in one `make check`, whose lanes boot side by side:
# a base pruned under another boot would fail it).
find "$cache/initramfs" -maxdepth 1 -name 'static-*.cpio' -printf '%T@ %p\n' |
	sort -rn | tail -n +9 | cut -d" " -f2- | xargs -r rm -f

# --- initramfs, part 2: per run ------------------------------------------------
# The command, the run's settings, the binary, --extra dirs and tests/vm/.
# Small and uncompressed; the kernel unpacks concatenated cpio archives in
# order, so this is simply appended to the cached base.
d=$tmp/dyn
mkdir -p "$d/ia" "$d/bin" "$d/extra"
# A marker that CMD's output cannot contain by accident.
mark="IA-EXIT-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
printf '%s' "$cmd" >"$d/ia/cmd"
{
	echo "IA_MARK=$mark"
	echo "IA_SHELL=$shell"
	echo "IA_SYSTEMD=$systemd"
	echo "IA_MODE=$mode"
} >"$d/ia/env"
if [ -f "$binary" ]; then
	install -m 0755 "$binary" "$d/bin/iommu-audit"
	# The guest has no shared libraries.
	if ldd "$binary" >/dev/null 2>&1; then
		log "warning: $binary is dynamically linked and will not run in the guest"
	fi
elif [ "$binary_given" -eq 1 ]; then
	die "--binary $binary: no such file"
else
	log "warning: $binary not found; the guest has no /bin/iommu-audit"
fi
if [ -d "$repo/tests/vm" ]; then
	cp -a "$repo/tests/vm" "$d/tests"
fi
for x in "${extras[@]}"; do
	[ -d "$x" ] || die "--extra $x: not a directory"
	name=$(basename "$(cd "$x" && pwd)")
	[ ! -e "$d/extra/$name" ] || die "--extra: two directories named $name"
	cp -a "$x" "$d/extra/$name"
done
# Laid over /: the system a --systemd guest boots (built per run from this
# machine's systemd, about 20 MB: a second), then each --root.
if [ "$systemd" -eq 1 ]; then
	"$here/systemd-root.sh" "$d" || die "could not lay out systemd (tools/systemd-root.sh)"
fi
for r in "${roots[@]}"; do
	[ -d "$r" ] || die "--root $r: not a directory"
	cp -a "$r/." "$d/"
done
(cd "$d" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc --owner=0:0) >"$tmp/dyn.cpio"
cat "$static_cpio" "$tmp/dyn.cpio" >"$tmp/initrd"

# --- scratch disks ----------------------------------------------------------
# Sparse raw files: 64 MiB of zeros cost no disk space.
truncate -s 64M "$tmp/nvme.raw" "$tmp/virtio.raw"

# --- network: a UDP socket on 127.0.0.1 that sends to itself ------------------
# Every frame the e1000e transmits goes to 127.0.0.1:PORT, which is the
# socket's own address, so it comes straight back to the same NIC. Nothing
# leaves the host and no other address is ever targeted. Pick a port no UDP
# socket uses (/proc/net/udp lists them in hex).
used_ports=$(awk 'NR > 1 { split($2, a, ":"); print a[2] }' /proc/net/udp /proc/net/udp6 2>/dev/null || true)
port=""
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 40000))
	if ! grep -qix "$(printf '%04X' "$p")" <<<"$used_ports"; then
		port=$p
		break
	fi
done
[ -n "$port" ] || die "no free UDP port found"

# --- logs -------------------------------------------------------------------
logdir=$repo/.output/vm
mkdir -p "$logdir"
id=$(date +%Y%m%d-%H%M%S)-$$
console=$logdir/$id.console.log
out=$tmp/out
: >"$console"
: >"$out"
ln -sfn "$id.console.log" "$logdir/last.console.log"
# Keep the logs of the 20 newest runs (<id>.console.log and <id>.out).
find "$logdir" -maxdepth 1 -name '*.console.log' -type f -printf '%T@ %p\n' |
	sort -rn | tail -n +21 | cut -d' ' -f2- | sed 's/\.console\.log$//' |
	while IFS= read -r old; do rm -f "$old.console.log" "$old.out"; done

# --- QEMU ---------------------------------------------------------------------
# no_timer_check: early in boot the kernel checks that the timer interrupt
# arrives through the IO-APIC within ~10 ticks; under TCG on a busy host it
# sometimes does not, and with interrupt remapping on, that is a panic
# ("timer doesn't work through Interrupt-remapped IO-APIC"), seen here once
# with other VMs running. Usual for VM guests; QEMU's IO-APIC routing is fine.
kargs="console=ttyS0 intel_iommu=on iommu.strict=$strict no_timer_check panic=-1 quiet"
[ -z "$append" ] || kargs="$kargs $append"

if [ "$shell" -eq 1 ]; then
	# Interactive: ttyS0 (console + shell) on this terminal; Ctrl-A X quits.
	# shellcheck disable=SC2054  # the commas are QEMU's
	# signal=off: Ctrl-C goes to the guest's shell, not to QEMU.
	ttyS0=(-chardev "stdio,id=con,mux=on,signal=off,logfile=$console"
		-serial chardev:con -mon chardev=con,mode=readline)
else
	ttyS0=(-chardev "file,id=con,path=$console" -serial chardev:con -monitor none)
fi
# shellcheck disable=SC2054  # the commas are QEMU's
qemu=(
	qemu-system-x86_64
	# split irqchip is only meaningful with KVM; under TCG the default works
	# and the IOMMU's interrupt remapping is available (see docs).
	-M q35 -accel tcg,thread=multi -smp "$smp,sockets=1,cores=$smp" -cpu max -m "$mem"
	-nographic -nodefaults -no-reboot
	-kernel "$kimage" -initrd "$tmp/initrd" -append "$kargs"
	"${ttyS0[@]}"
	# CMD's stdout+stderr, nothing else: through the ISA debugcon port
	# 0xe9 (tools/guest-out.c: no interrupt, no DMA, about 10 times the
	# serial line's rate under TCG); ttyS1, on the same file (mux), for a
	# --systemd guest's service and for a guest whose init finds no
	# debugcon. Port 0xe9, not SeaBIOS's 0x402: the firmware logs there.
	-chardev "file,id=out,path=$out,mux=on" -serial chardev:out
	-device isa-debugcon,iobase=0xe9,chardev=out
	# The IOMMU must come before the devices it translates for.
	-device intel-iommu
	-drive "file=$tmp/nvme.raw,if=none,format=raw,id=nvm0"
	-device nvme,drive=nvm0,serial=iaudit
	-netdev "socket,id=n0,udp=127.0.0.1:$port,localaddr=127.0.0.1:$port"
	# romfile= : no iPXE option ROM, saves ~1 s of firmware time.
	-device e1000e,netdev=n0,mac=52:54:00:12:34:56,romfile=
	-drive "file=$tmp/virtio.raw,if=none,format=raw,id=vd0"
	-device virtio-blk-pci,drive=vd0,disable-legacy=on,iommu_platform=on
	-device edu
)

if [ "$shell" -eq 1 ]; then
	# Foreground, on this terminal; the console is also logged.
	log "interactive guest (console log: $console); 'exit' powers it off, Ctrl-A X kills QEMU"
	rc=0
	"${qemu[@]}" || rc=$?
	exit "$rc"
fi

# A boot that dies before the guest is ready (no "guest-init: ready" on the
# console: nothing of CMD has run) is booted once more, and said so. Seen
# on 7.2 under TCG with a loaded host: an int3 oops in early boot while the
# kernel patches its own text (text_poke_bp) on one vCPU and the other
# runs it, which MTTCG does not always keep coherent. A failure after the
# guest was ready is never retried.
tries=${IA_VM_BOOT_TRIES:-2}
for try in $(seq "$tries"); do
	start=$(date +%s.%N)
	# timeout(1) sends TERM to QEMU after --timeout s (KILL 5 s later) and then
	# exits 124. QEMU never reads our stdin.
	timeout -k 5 "$timeout_s" "${qemu[@]}" </dev/null 2>"$tmp/qemu.err" &
	qpid=$!

	if [ "$verbose" -eq 1 ]; then
		tail -s 0.2 -n +1 -F --pid="$qpid" "$console" >&2 2>/dev/null &
		tailpids+=($!)
	fi
	# mawk (Debian's default awk) reads its input in large blocks; -W interactive
	# makes it read line by line so that output is shown live. gawk does that
	# anyway and does not know the option.
	awk_live=()
	if awk -W version 2>/dev/null | grep -q mawk; then
		awk_live=(-W interactive)
	fi
	# Stream CMD's output. The guest prints "\n<mark> <status>" after it, so
	# that the marker is on a line of its own. awk prints every line as soon as
	# it is complete but holds back empty lines until it knows whether the next
	# one is the marker: the empty line in front of the marker is dropped. Output
	# that ends with a newline thus comes out byte for byte; output that does
	# not gets one added.
	tail -s 0.2 -n +1 -F --pid="$qpid" "$out" 2>/dev/null | awk "${awk_live[@]}" -v mark="$mark" '
		done { next }
		$1 == mark && NF == 2 { done = 1; for (; e > 1; e--) print ""; next }
		$0 == "" { e++; next }
		{ for (; e > 0; e--) print ""; print; fflush() }
		END { if (!done) for (; e > 0; e--) print "" }' &
	tailpids+=($!)

	qrc=0
	wait "$qpid" || qrc=$?
	qpid=""
	end=$(date +%s.%N)
	# tail notices QEMU's exit within a second and drains the file.
	for p in "${tailpids[@]}"; do wait "$p" 2>/dev/null || true; done
	tailpids=()

	status=$(awk -v mark="$mark" '$1 == mark && NF == 2 { print $2 }' "$out" | tail -n1)
	grep -aq "guest-init: ready" "$console" || [ -n "$status" ] || [ "$qrc" -eq 124 ] ||
		[ "$try" -ge "$tries" ] || {
		log "boot $try of $tries died before the guest was ready ($(grep -a -m1 -e 'Kernel panic' -e 'BUG:' -e 'Oops:' "$console" | tr -d '\r' | cut -c1-120)); booting again (console log: $console.$try)"
		cp "$console" "$console.$try"
		: >"$console"
		: >"$out"
		continue
	}
	break
done
cp "$out" "$logdir/$id.out" 2>/dev/null || true
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')

report_failure() {
	log "$1"
	[ ! -s "$tmp/qemu.err" ] || { log "qemu stderr:"; sed 's/^/  /' "$tmp/qemu.err" >&2; }
	# The first panic/oops line may have scrolled out of the last 40.
	grep -a -m1 -e 'Kernel panic' -e 'BUG:' -e 'Oops:' "$console" | tr -d '\r' |
		sed 's/^/vm-run: guest: /' >&2 || true
	log "console log: $console (last 40 lines follow)"
	# Without \r and SeaBIOS's terminal escape sequences.
	tail -n 40 "$console" | sed 's/\r//g; s/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g; s/^/  | /' >&2
}

if [ "$verbose" -eq 1 ]; then
	log "QEMU ran for $elapsed s (boot + command + power-off)"
fi
if [ -n "$status" ]; then
	[ "$status" -eq 0 ] || log "command exited with status $status ($elapsed s; console log: $console)"
	exit "$status"
fi
if [ "$qrc" -eq 124 ]; then
	report_failure "timeout: VM killed after $timeout_s s"
	exit 124
fi
report_failure "the guest ended without reporting an exit status (qemu status $qrc, $elapsed s)"
exit 125
