# The recording checks of record.sh, with the kprobe/kretprobe programs that
# replace fentry/fexit on kernels without BPF trampolines: same events, same
# exact sizes, ranges and attribution.
. "$CASES_DIR/record.sh"
AUDIT_FLAGS=--force-kprobes
