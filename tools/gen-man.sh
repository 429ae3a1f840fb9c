#!/bin/bash
# Generate docs/iommu-audit.8.md, the manual page, from the commands' own
# --help texts, so the two cannot disagree (tests/run-cli.sh checks it).
#
# usage: tools/gen-man.sh [BINARY] > docs/iommu-audit.8.md
set -euo pipefail
bin=${1:-$(dirname "$0")/../iommu-audit}
cat <<'EOT'
% IOMMU-AUDIT(8) iommu-audit | System administration
# NAME

iommu-audit - audit what devices can reach through the IOMMU

# SYNOPSIS

**iommu-audit** [**-j**|**-p**] [**-v**[**v**]] [**--force-kprobes**] *COMMAND* [*ARGS*]

# DESCRIPTION

iommu-audit hooks the kernel's DMA-IOMMU layer with BPF. It records the DMA
API requests drivers make and the IOMMU page-table writes they cause, joins
the two, and checks them for over-exposure, wrong translations,
misalignment, DMA API lifecycle errors and lazy-invalidation windows
(docs/checks.md). Live commands need root, or CAP_BPF and CAP_PERFMON, and a
kernel with BTF.

# COMMANDS

Each command prints its own usage and examples with **--help**; the text
below is that help.

EOT
for c in live monitor check report diff record devices dump coverage; do
	printf '## %s\n\n```\n' "$c"
	"$bin" "$c" --help
	printf '```\n\n'
done
cat <<'EOT'
# GLOBAL OPTIONS

**-j**, **--json**
: JSON output. Documents stay valid JSON on errors (an `{"error": ...}`
  object, or a last JSON line for JSON Lines output).

**-p**, **--pretty**
: indented JSON (implies **-j**).

**-v**, **--verbose**
: more detail; **-vv** also prints libbpf's debug log (verifier logs).

**--force-kprobes**
: use the kprobe/kretprobe programs even where fentry/fexit work. They are
  the automatic fallback where the kernel refuses fentry/fexit.

# EXIT STATUS

| code | meaning |
| --- | --- |
| 0 | success; nothing at or above the fail level; input complete |
| 1 | findings at or above `--fail-on` (check, live), NEW findings at or above it (diff: a regression), or a runtime failure: BPF refused (no privilege, a seccomp filter), no kernel BTF, nothing translated (no IOMMU, or every group in an identity domain), a BPF load, I/O (a full disk) |
| 2 | bad arguments (with **-j** also one `{"error": ...}` document on stdout), a bad or damaged trace, a bad baseline, an output that cannot be opened, a path that is not a regular file (traces: or a pipe) |
| 3 | incomplete: events were lost, records were malformed, or hooks are missing on this kernel (partial checks); for diff, in either run |

The live commands (record, live, devices, monitor, coverage) check, before
anything is loaded, that bpf() may be used (a message saying what is
missing: root or CAP_BPF and CAP_PERFMON, or, for root, that a seccomp
filter, lockdown or an LSM refuses it), then (not coverage) that some IOMMU
group translates DMA (a DMA or DMA-FQ domain: with intel_iommu=off or
iommu.passthrough=1 dma-iommu is never called), then the kernel BTF: each
missing is exit 1 with its message. Events lost (a full ring buffer: a
reader too slow, or a small **--ringbuf-mb**; a full in-flight stack) are
counted per cause, printed, stored in the trace's trailer, and give exit 3;
every finding of such a run is then *uncertain* (a lost record could
explain it) and never fails it. A reader that falls behind (a quarter of
the ring waiting after a read) raises its own priority, nice 10 below where it
started, until it has caught up (a 32nd waiting); **record** says how
often ("reader: fell behind N times", JSON `reader_boosts`, and
`reader_boosts_refused` for raises the kernel refused: without
CAP_SYS_NICE only a lower priority is allowed). `record -v` also prints
the reader's CPU from its start to its last drain (JSON `reader_cpu_s`)
and per record, the most of the ring it saw waiting and how long it was
raised. SIGINT and SIGTERM end a run as its end
would (the trace complete, with its trailer); after SIGKILL the trace has
no trailer and reads as truncated, with the number of records readable
(the writer flushes what is a second old). A write that fails (a full
disk) ends **record** and **live --record** with exit 1 and the writer's
error; the trace keeps the records written before it.

Arguments are checked before anything is opened or loaded: numbers are
decimal digits only (no sign, suffix, hex, exponent, nan or inf), durations
at most a year, **--status** 1 to 86400 s, a **--device** name 1 to 31
characters. No open blocks on a FIFO.

# FILES

Traces (**record -o**, **live --record**) are written with mode 0600: they
hold physical addresses. Their format: docs/trace-format.md.

*/etc/default/iommu-audit*
: the options the systemd unit *iommu-audit.service* gives **monitor**
  (`IOMMU_AUDIT_OPTS`).

**monitor --log** files are written with mode 0600 and appended to;
SIGHUP reopens them (logrotate's `postrotate`, or `copytruncate` not needed).

# SEE ALSO

docs/architecture.md, docs/checks.md, docs/trace-format.md, docs/vm-bench.md
EOT
