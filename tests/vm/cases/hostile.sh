# Hostile ground (issue 14), in the bench's own boot: no BTF, no privilege,
# bpf() refused. Each is found before any BPF program is loaded (so the
# case costs no load): a message naming the cause and exit 1, the runtime
# failure of docs/iommu-audit.8.md, with one JSON error under -j.
# - no BTF: /sys/kernel/btf hidden by an empty tmpfs in a mount namespace
#   of its own (unshare -m), as on a kernel built without
#   CONFIG_DEBUG_INFO_BTF; the guest has no vmlinux for libbpf to fall
#   back on
# - no privilege: user nobody (tests/guest/ia-drop.c), where Debian's
#   kernel.unprivileged_bpf_disabled=2 refuses bpf()
# - bpf() refused to root: a seccomp filter returning EPERM, as a
#   container's default profile does (ia-drop too)
# The kernels without translated DMA (intel_iommu=off, iommu.passthrough=1)
# need boots of their own: hostile-noiommu, hostile-identity.
# vm-modes: strict (nothing here reaches the IOMMU)

HOSTILE_CMDS="record live devices monitor coverage"

# hostile_run NAME PREFIX...: every live command under PREFIX, with -j
hostile_run() {
	local name=$1 c args
	shift
	for c in $HOSTILE_CMDS; do
		case $c in
		record) args="record -o /tmp/h-$name.trace -d 1" ;;
		monitor) args="monitor --listen off -d 1" ;;
		coverage) args=coverage ;;
		*) args="$c -d 1" ;;
		esac
		# shellcheck disable=SC2086
		"$@" iommu-audit -j $args > "$OUT/$name-$c.json" 2> "$OUT/$name-$c.err"
		echo $? > "$OUT/$name-$c.rc"
	done
}

guest() {
	hostile_run nobtf unshare -m sh -c 'mount -t tmpfs none /sys/kernel/btf && exec "$@"' sh
	hostile_run unpriv ia-drop nobody
	hostile_run nobpf ia-drop nobpf
	# the witnesses: BTF is there outside the namespace; bpf() is refused
	# to nobody by the kernel's own setting
	ls -l /sys/kernel/btf/vmlinux > "$OUT/btf.ls" 2>&1
	cat /proc/sys/kernel/unprivileged_bpf_disabled > "$OUT/unpriv_bpf_disabled"
}

# hostile_check NAME MESSAGE: each command exit 1, MESSAGE on stderr, one JSON error
hostile_check() {
	local c
	for c in $HOSTILE_CMDS; do
		assert_eq "$1: $c exit 1" 1 "$(cat "$OUT/$1-$c.rc")"
		assert_eq "$1: $c says why" 1 "$(grep -cF "$2" "$OUT/$1-$c.err")"
		assert_eq "$1: $c -j: one JSON error saying it" true \
			"$(jq -s --arg m "$2" 'length == 1 and (.[0].error | contains($m))' "$OUT/$1-$c.json")"
	done
}

check() {
	assert_eq "BTF outside the namespace" 1 "$(grep -c vmlinux "$OUT/btf.ls")"
	assert_eq "kernel.unprivileged_bpf_disabled" 2 "$(cat "$OUT/unpriv_bpf_disabled")"
	hostile_check nobtf "kernel BTF not found (/sys/kernel/btf/vmlinux): iommu-audit needs CONFIG_DEBUG_INFO_BTF"
	hostile_check unpriv "cannot use BPF: Operation not permitted (needs root or CAP_BPF+CAP_PERFMON)"
	hostile_check nobpf "cannot use BPF: Operation not permitted although running as root: bpf() is refused here"
}
