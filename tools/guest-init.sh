#!/bin/sh
# shellcheck shell=dash
# /init of the VM bench guest (tools/vm-run.sh puts this file in the
# initramfs). It runs as PID 1 under busybox ash: POSIX sh only, no bash.
#
# It mounts the usual pseudo file systems, loads the drivers of the bench's
# devices, waits for them, configures the e1000e, then either
#   - runs the command in /ia/cmd with its stdout+stderr on the debugcon
#     port (/bin/ia-out; else /dev/ttyS1, the host's second serial port: so
#     kernel messages on ttyS0 never mix with it), prints "<IA_MARK>
#     <status>" there and powers off, or
#   - (IA_SHELL=1, tools/vm-shell.sh) starts an interactive shell on the
#     console and powers off when it exits, or
#   - (IA_SYSTEMD=1, vm-run.sh --systemd) hands PID 1 to systemd, whose
#     ia-guest.service runs the command (tools/guest-systemd.sh).
# Settings come from /ia/env (written by vm-run.sh): IA_MARK, IA_SHELL,
# IA_SYSTEMD, IA_MODE. Anything that goes wrong before the command runs is reported on
# the console and ends the boot without a marker, which the host turns into
# exit status 125.

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp /run /root
# Every applet as a symlink to /bin/busybox (ls, ip, modprobe, dd, ...).
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
# Some scripts use #!/usr/bin/env or /sbin paths.
for d in /sbin /usr/bin /usr/sbin; do
	[ -e "$d/env" ] || ln -sf /bin/env "$d/env"
done

mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o nosuid,nodev tmpfs /dev/shm
mount -t tmpfs -o nosuid,nodev tmpfs /tmp
mount -t tmpfs -o nosuid,nodev tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing
mount -t bpf bpf /sys/fs/bpf
# The console of the guest is ttyS0 (console=ttyS0): make sure our own
# messages go there even if the kernel handed us no stdio.
exec </dev/console >/dev/console 2>&1

log() { echo "guest-init: $*"; }
fail() {
	log "FATAL: $*"
	# No marker: the host reports the failure (exit 125) with this log.
	sync
	poweroff -f
	sleep 10
	# Still here? PID 1 exiting panics the kernel; panic=-1 and QEMU's
	# -no-reboot turn that into the end of QEMU too.
	exit 1
}

# shellcheck source=/dev/null
[ -f /ia/env ] && . /ia/env
: "${IA_MODE:=strict}" "${IA_SHELL:=0}" "${IA_SYSTEMD:=0}" "${IA_MARK:=IA-EXIT}"

hostname iaudit-vm
ip link set lo up

# Find a PCI function by vendor and device id, print its address.
find_bdf() {
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = "0x$1" ] && [ "$(cat "$d/device")" = "0x$2" ]; then
			basename "$d"
			return 0
		fi
	done
	return 1
}
# The network interface whose driver is e1000e.
find_netif() {
	for n in /sys/class/net/*; do
		[ -e "$n/device/driver" ] || continue
		if [ "$(basename "$(readlink "$n/device/driver")")" = e1000e ]; then
			basename "$n"
			return 0
		fi
	done
	return 1
}
# Load a driver unless it is built in (a self-built kernel may have it so).
load() {
	[ -d "/sys/module/$1" ] || modprobe "$1" || log "modprobe $1 failed"
}

IA_NVME_BDF=$(find_bdf 1b36 0010) || fail "no nvme PCI device (1b36:0010)"
IA_E1000E_BDF=$(find_bdf 8086 10d3) || fail "no e1000e PCI device (8086:10d3)"
IA_VIRTIO_BDF=$(find_bdf 1af4 1042) || fail "no modern virtio-blk PCI device (1af4:1042)"
IA_EDU_BDF=$(find_bdf 1234 11e8) || fail "no edu PCI device (1234:11e8)"

# The e1000e goes first: its link only comes up ~2.5 s after 'ip link set
# up' (QEMU 7.2's e1000e signals the link change on the MSI-X "other"
# vector, which the driver only notices at its next 2 s watchdog tick), so
# that wait overlaps with loading the other drivers. The module names must
# match MODULES in tools/vm-kernel.sh.
load e1000e
IA_NET_IF=
i=0
until IA_NET_IF=$(find_netif); do
	i=$((i + 1))
	[ "$i" -le 100 ] || fail "no e1000e network interface (at $IA_E1000E_BDF) after 10 s"
	usleep 100000
done
# The e1000e is attached to a QEMU UDP socket on 127.0.0.1 that sends every
# frame back to this NIC: nothing leaves the host. IPv6 is switched off on it
# so that the kernel sends no router/neighbour solicitations of its own and
# packet counters only move when a test sends something.
if [ -w "/proc/sys/net/ipv6/conf/$IA_NET_IF/disable_ipv6" ]; then
	echo 1 >"/proc/sys/net/ipv6/conf/$IA_NET_IF/disable_ipv6"
fi
IA_NET_ADDR=192.0.2.1
IA_NET_PEER=192.0.2.2
ip addr add "$IA_NET_ADDR/24" dev "$IA_NET_IF" || fail "cannot set the address of $IA_NET_IF"
ip link set "$IA_NET_IF" up || fail "cannot bring $IA_NET_IF up"
# A permanent neighbour entry: 'ping 192.0.2.2' then transmits ICMP frames
# right away instead of stopping at unanswered ARP requests.
arp -i "$IA_NET_IF" -s "$IA_NET_PEER" 02:00:00:00:00:02 || fail "arp -s failed"

load nvme
load virtio_pci
load virtio_blk

# Drivers probe asynchronously (nvme's namespace scan runs in a work item),
# so poll, bounded to 10 s. devtmpfs creates the nodes, no mdev needed.
IA_NVME_DEV=/dev/nvme0n1
IA_VIRTIO_DEV=/dev/vda
i=0
until [ -b "$IA_NVME_DEV" ] && [ -b "$IA_VIRTIO_DEV" ]; do
	i=$((i + 1))
	if [ "$i" -gt 100 ]; then
		[ -b "$IA_NVME_DEV" ] || log "missing $IA_NVME_DEV (nvme at $IA_NVME_BDF)"
		[ -b "$IA_VIRTIO_DEV" ] || log "missing $IA_VIRTIO_DEV (virtio-blk at $IA_VIRTIO_BDF)"
		fail "block devices did not appear within 10 s"
	fi
	usleep 100000
done
# Packets sent before the carrier is up are dropped: wait for it, 10 s max.
i=0
while [ "$(cat "/sys/class/net/$IA_NET_IF/carrier" 2>/dev/null)" != 1 ]; do
	i=$((i + 1))
	[ "$i" -le 100 ] || fail "$IA_NET_IF has no carrier after 10 s"
	usleep 100000
done

export IA_NET_IF IA_NET_ADDR IA_NET_PEER IA_NVME_DEV IA_VIRTIO_DEV
export IA_NVME_BDF IA_E1000E_BDF IA_VIRTIO_BDF IA_EDU_BDF IA_MODE
export IA_VM=1 HOME=/root TERM=${TERM:-linux}

# --extra DIRs are under /extra/<name>; their bin/ directories come first.
for d in /extra/*/bin; do
	[ -d "$d" ] && PATH=$d:$PATH
done
export PATH

read -r up _ </proc/uptime
log "ready after ${up}s of guest uptime: nvme=$IA_NVME_BDF e1000e=$IA_E1000E_BDF" \
	"virtio=$IA_VIRTIO_BDF edu=$IA_EDU_BDF net=$IA_NET_IF mode=$IA_MODE"

if [ "$IA_SYSTEMD" = 1 ]; then
	# PID 1 goes to systemd (tools/vm-run.sh --systemd): the root becomes
	# a tmpfs (a real mount, as a booted system's root is, rather than the
	# initramfs's rootfs, which cannot be pivoted away from), the drivers
	# stay loaded, and ia-guest.service runs the command
	# (tools/guest-systemd.sh) with this environment. The initramfs's
	# directories are bound there, not copied: copying them took 10-12 s
	# under TCG on a loaded host (with or without the soak's 82 MB fio
	# bundle), binding them about none. So
	# the initramfs is kept (no switch_root, which empties it): the same
	# move and chroot, without the deletion.
	[ -x /lib/systemd/systemd ] || fail "--systemd: no /lib/systemd/systemd in the initramfs"
	stty -F /dev/ttyS1 raw -echo 115200 || fail "cannot configure /dev/ttyS1"
	export -p | grep -E "^export (IA_[A-Z0-9_]+|PATH|HOME|TERM)=" >/ia/guest.env
	mkdir -p /sysroot
	mount -t tmpfs -o mode=0755 tmpfs /sysroot || fail "cannot mount the tmpfs root"
	for e in /*; do
		case $e in
		/proc|/sys|/dev|/run|/tmp|/sysroot) mkdir -p "/sysroot$e" ;;
		*)	if [ -d "$e" ] && [ ! -L "$e" ]; then
				mkdir "/sysroot$e" && mount --bind "$e" "/sysroot$e"
			else
				cp -a "$e" /sysroot/
			fi || fail "cannot put $e in the tmpfs root" ;;
		esac
	done
	umount /run /tmp
	for m in /dev /proc /sys; do
		mount --move "$m" "/sysroot$m" || fail "cannot move $m"
	done
	cd /sysroot || fail "cd /sysroot"
	mount --move . / || fail "cannot move the tmpfs root to /"
	exec chroot . /lib/systemd/systemd
fi

if [ "$IA_SHELL" = 1 ]; then
	cd /root || cd /
	# cttyhack gives the shell a controlling tty (job control, ^C) on the
	# serial console; setsid makes it a session leader.
	setsid cttyhack sh -l
	sync
	poweroff -f
	sleep 10
fi

# The command's output channel, fd 3: the debugcon port through /bin/ia-out
# (tools/guest-out.c) reading a FIFO, or, if the port does not answer,
# ttyS1. Raw mode on ttyS1: no \n -> \r\n translation, no echo, so the host
# gets the command's bytes unchanged. Serial termios survive close/reopen.
stty -F /dev/ttyS1 raw -echo 115200 || fail "cannot configure /dev/ttyS1"
wpid=0
if ia-out --probe; then
	mkfifo /ia/out.fifo || fail "cannot make /ia/out.fifo"
	ia-out </ia/out.fifo &
	wpid=$!
	exec 3>/ia/out.fifo
else
	log "the debugcon port cannot be used (ia-out above says why): the command's output goes to ttyS1"
	exec 3>/dev/ttyS1
fi

cd / || fail "cd /"
rc=0
sh -c "$(cat /ia/cmd)" </dev/null >&3 2>&1 || rc=$?

# Stop whatever the command left running, so that nothing writes after the
# marker and no process holds the channel open (the last close of a serial
# tty waits until its buffer has been sent, closing_wait; ia-out ends when
# the FIFO's last writer closes it). ia-out ignores SIGTERM and is spared
# the SIGKILL; kill -1 never signals PID 1, this script.
kill -TERM -1 2>/dev/null
usleep 200000
for p in /proc/[0-9]*; do
	p=${p#/proc/}
	[ "$p" = "$wpid" ] || kill -KILL "$p" 2>/dev/null
done
# The marker starts with a newline so that it is on a line of its own even
# if the output did not end with one; the host drops the empty line this
# leaves when the output did end with a newline.
printf '\n%s %d\n' "$IA_MARK" "$rc" >&3
exec 3>&-
# ia-out has written everything once it exits; a serial line is drained by
# reopening and closing it.
if [ "$wpid" -ne 0 ]; then
	wait "$wpid" || log "ia-out failed: the output may be cut short"
else
	: >/dev/ttyS1
fi
log "command exited with status $rc"
sync
poweroff -f
sleep 10
