# The recording checks of record.sh, with the kprobe/kretprobe programs that
# replace fentry/fexit on kernels without BPF trampolines: same events, same
# exact sizes, ranges and attribution.
# vm-modes: lazy (lazy mode fires every hook strict mode fires plus the
# flush queue's, so its run covers every kprobe program; the attach path does
# not depend on the mode, and a strict run cost another 25-30 s of TCG)
. "$CASES_DIR/record.sh"
AUDIT_FLAGS=--force-kprobes
