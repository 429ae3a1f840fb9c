#!/bin/bash
# Soak test of `monitor` as the packaged systemd service (docs/monitor.md):
# the Debian package is built (tools/build-deb.sh) and installed with
# dpkg -i into a staging root, its binary's libraries put beside it at
# their own paths and Debian's fio bundled (tools/guest-bundle.sh), and one
# lazy-mode VM whose PID 1 is systemd (tools/vm-run.sh --systemd) runs
# iommu-audit.service from that root for MINUTES under fio on nvme and
# virtio-blk plus pings on e1000e (tests/vm/soak-guest.sh). Asserts: the
# unit started with systemctl is active, its main process has exactly the
# unit's capabilities; /metrics answers 200 throughout and its text passes
# promtool; 64 direct reads on nvme are 64 maps of 4 KiB in the metrics;
# 0 events lost, coverage complete; RSS and open fds flat (after the first
# sample: RSS within --rss-slack KiB, fds equal); the monitor's request
# counts are at least fio's own I/O counts; a log rotated with systemctl
# reload (SIGHUP), same main process; systemctl stop ends it with exit 0,
# none of its BPF programs or links left; nothing on its stdout or stderr
# (the journal); no kernel warning; then the unit without CAP_SYS_ADMIN
# (the drop-in of docs/monitor.md, perf_event_paranoid 2) with complete
# coverage. Prints the figures and "soak: N passed, N failed".
#
# usage: tests/run-soak.sh [--minutes M] [--every S] [--rss-slack KIB]
#   defaults: 2 minutes (CI), a sample every 15 s, 8192 KiB (the state
#   bounds' room, below)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
minutes=2 every=15 slack=8192
while [ $# -gt 0 ]; do
	case $1 in
	--minutes) minutes=$2; shift 2 ;;
	--every) every=$2; shift 2 ;;
	--rss-slack) slack=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) echo "unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
done
. "$root/tests/vm/lib-check.sh"
CASE=soak
work=${IA_SOAK_DIR:-$root/.output/soak}
res=$work/out
rm -rf "$work"
mkdir -p "$res"
summary() { echo "soak: $pass_count passed, $fail_count failed"; [ "$fail_count" -eq 0 ]; exit; }

make -C "$root" -s guest >&2 || { _fail "make guest failed"; summary; }
deb=$("$root/tools/build-deb.sh" | tail -1) && [ -f "$deb" ] || { _fail "building the package failed"; summary; }
_ok "package built and lintian clean: $(basename "$deb"), $(stat -c %s "$deb") bytes"
# dpkg -i into a staging root (its own database; the host's is not touched)
mkdir -p "$work/root/var/lib/dpkg/updates" "$work/root/var/lib/dpkg/info"
touch "$work/root/var/lib/dpkg/status"
if dpkg --root="$work/root" --instdir="$work/root" --admindir="$work/root/var/lib/dpkg" \
	--force-not-root --force-depends --force-script-chrootless --log=/dev/null \
	-i "$deb" > "$work/dpkg.log" 2>&1; then
	_ok "dpkg -i installed the package into $work/root"
else
	_fail "dpkg -i failed: $(tail -3 "$work/dpkg.log" | tr '\n' ' ')"
	summary
fi
bin=$work/root/usr/sbin/iommu-audit
assert_eq "packaged unit runs monitor" 1 \
	"$(grep -c '^ExecStart=/usr/sbin/iommu-audit monitor' "$work/root/lib/systemd/system/iommu-audit.service")"
unit=$work/root/lib/systemd/system/iommu-audit.service
# the unit's ExecStart= runs the packaged binary itself: its libraries go
# where a Debian system has them, in the root the guest boots
{ "$root/tools/guest-bundle.sh" --root "$work/root" "$bin" &&
	"$root/tools/guest-bundle.sh" "$work/pkg" /usr/bin/fio; } ||
	{ _fail "tools/guest-bundle.sh failed"; summary; }
assert_eq "bundle: fio's wrapper" "fio" "$(ls "$work/pkg/bin" | tr '\n' ' ' | sed 's/ $//')"
echo "# guest root (the package with its libraries): $(du -sh "$work/root" | cut -f1); fio bundle: $(du -sh "$work/pkg" | cut -f1)"

secs=$((minutes * 60))
start=$(date +%s)
"$root/tools/vm-run.sh" --mode lazy --timeout $((secs + 600)) --systemd --root "$work/root" \
	--extra "$work/pkg" --extra "$root/.output/guest" -- \
	sh /tests/soak-guest.sh "$secs" "$every" > "$work/guest.out" 2> "$work/guest.err"
rc=$?
echo "# soak VM ran $(( $(date +%s) - start )) s (monitor $secs s), vm-run exit $rc"
assert_eq "vm-run exit" 0 "$rc"
awk -v dir="$res" -f "$root/tests/split-sections.awk" "$work/guest.out"
OUT=$res/soak
[ -f "$OUT/samples" ] || { _fail "no samples from the guest: $(tail -5 "$work/guest.err" | tr '\n' ' ')"; summary; }

# the unit under systemd: started, its capabilities exactly the unit's
assert_eq "guest PID 1" systemd "$(cat "$OUT/pid1")"
show() { sed -n "s/^$2=//p" "$OUT/$1"; }	# FILE PROPERTY: from systemctl show
# caps NAMES...: the capability mask of those names, as /proc/PID/status
# prints it (the numbers from the kernel's header; nibble by nibble:
# mawk's printf saturates at 2^31)
caps() {
	awk -v want=" $* " '$1 == "#define" && $2 ~ /^CAP_[A-Z_]+$/ && $3 ~ /^[0-9]+$/ &&
		index(want, " " $2 " ") { d[int($3 / 4)] += 2 ^ ($3 % 4) }
		END { for (i = 15; i >= 0; i--) printf "%x", d[i]; print "" }' /usr/include/linux/capability.h
}
unit_caps() { sed -n "s/^$1=//p" "$unit"; }	# PROPERTY of the packaged unit
start_checks() {	# NAME WHAT CAPS...
	local n=$1 what=$2
	shift 2
	assert_eq "$what: systemctl start exit" 0 "$(cat "$OUT/$n.start.rc")"
	assert_eq "$what: ActiveState/SubState once /metrics answers" active/running \
		"$(show "$n.started" ActiveState)/$(show "$n.started" SubState)"
	assert_eq "$what: no restart" 0 "$(show "$n.started" NRestarts)"
	echo "# $what: /metrics answered after $(cat "$OUT/$n.ready.seconds") s"
	for c in CapEff CapPrm CapBnd CapAmb; do
		assert_eq "$what: main process $c = $*" "$(caps "$@")" \
			"$(awk -v c="$c:" '$1 == c { print $2 }' "$OUT/$n.caps")"
	done
	assert_ge "$what: BPF programs the main process holds" 10 "$(wc -l < "$OUT/$n.held.progs")"
	assert_ge "$what: BPF links it holds" 10 "$(wc -l < "$OUT/$n.held.links")"
}
# ids_of KIND FILE: the ids of the progs or links in an ia-bpfobjs listing
ids_of() { awk -v k="$1" '$1 == k { print $2 }' "$2" | sort -u; }
stop_checks() {	# NAME WHAT
	assert_eq "$2: systemctl stop exit" 0 "$(cat "$OUT/$1.stop.rc")"
	assert_eq "$2: after stop: ActiveState, Result" "inactive success" \
		"$(show "$1.stopped" ActiveState) $(show "$1.stopped" Result)"
	# SIGTERM: exit 0, which systemd does not log (3, accepted by the
	# unit for lost events, would be "Main process exited ... status=3")
	assert_eq "$2: main process exit 0 (systemd logged no exit status)" 0 \
		"$(grep -c 'iommu-audit.service: Main process exited' "$OUT/journal")"
	assert_eq "$2: none of its BPF programs left" "" \
		"$(ids_of prog "$OUT/$1.objs.after" | comm -12 - "$OUT/$1.held.progs" | tr '\n' ' ')"
	assert_eq "$2: none of its BPF links left" "" \
		"$(ids_of link "$OUT/$1.objs.after" | comm -12 - "$OUT/$1.held.links" | tr '\n' ' ')"
	assert_eq "$2: the kernel's BPF programs and links as before the start" \
		"$(cat "$OUT/$1.objs.before")" "$(cat "$OUT/$1.objs.after")"
}
# shellcheck disable=SC2046  # the unit's capability names, one word each
start_checks main "unit" $(unit_caps AmbientCapabilities)
assert_eq "unit: AmbientCapabilities = CapabilityBoundingSet" \
	"$(unit_caps CapabilityBoundingSet)" "$(unit_caps AmbientCapabilities)"
assert_eq "unit: the kernel listed its programs" "" \
	"$(ids_of prog "$OUT/main.objs.during" | comm -13 - "$OUT/main.held.progs" | tr '\n' ' ')"

# /metrics answered throughout, fast
nscr=$(wc -l < "$OUT/scrapes")
# one per 5 s plus the time the sampling and the scrape take under TCG
assert_ge "scrapes made (at least one per 10 s)" $((secs / 10)) "$nscr"
assert_eq "scrapes not answered 200" 0 "$(awk '$2 != 200' "$OUT/scrapes" | wc -l)"
read -r lat_med lat_max <<< "$(awk '{ print $4 }' "$OUT/scrapes" | sort -n |
	awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)], a[NR] }')"
echo "# scrape latency over $nscr scrapes: median $lat_med ms, max $lat_max ms; body $(tail -1 "$OUT/scrapes" | awk '{ print $3 }') bytes"
# the guest's two emulated CPUs are saturated by fio, pings and the
# monitor: a scrape waits for the CPU, not for the checker (a snapshot);
# Prometheus' default scrape timeout is 10 s
awk -v x="$lat_max" 'BEGIN { exit !(x < 5000) }' && _ok "scrape latency under 5 s (max $lat_max ms)" ||
	_fail "a scrape took $lat_max ms"
# the snapshot is taken between the reader's polls: it must move at
# every scrape while fio runs, however far behind the reader is (a poll
# reads for 100 ms at most); a frozen one read as "caught up" once
echo "# events_total / ring bytes pending by scrape:" $(awk '{ printf "%s/%s ", $5, $6 }' "$OUT/scrapes")
assert_eq "scrapes under load whose events_total did not grow (a frozen snapshot)" "" \
	"$(awk 'NR > 1 && $5 <= prev { printf "%s ", $1 } { prev = $5 }' "$OUT/scrapes")"
promtool=$("$root/tools/promtool.sh")
if "$promtool" check metrics < "$OUT/final.prom" > "$work/promtool.txt" 2>&1; then
	_ok "promtool check metrics: the final scrape"
else
	_fail "promtool: $(head -3 "$work/promtool.txt" | tr '\n' ' ')"
fi
if "$promtool" check metrics < "$OUT/textfile.prom" > "$work/promtool2.txt" 2>&1; then
	_ok "promtool check metrics: the textfile"
else
	_fail "promtool (textfile): $(head -3 "$work/promtool2.txt" | tr '\n' ' ')"
fi
m() {	# metric value: NAME [LABEL-SUBSTRING [FILE]] (sum of matching series; the final scrape)
	awk -v n="$1" -v l="${2:-}" '$1 ~ "^"n"({|$)" && index($1, l) { s += $2 } END { printf "%.0f\n", s }' "${3:-$OUT/final.prom}"
}
assert_eq "events lost (all causes)" 0 "$(m iommu_audit_events_lost_total)"
echo "# reader: $(m iommu_audit_ring_reads_cut_total) polls cut at the read budget (behind), ring $(m iommu_audit_ring_size_bytes) bytes"
assert_eq "the final scrape: nothing waiting in the ring (caught up)" "iommu_audit_ring_pending_bytes 0" \
	"$(grep '^iommu_audit_ring_pending_bytes ' "$OUT/final.prom")"
assert_eq "coverage complete" 1 "$(m iommu_audit_coverage_complete)"
# /proc/kallsyms readable (vmemmap_base): without it every phys read 0
assert_eq "the struct page -> phys symbol found" 1 "$(m iommu_audit_hook_attached 'hook="page_to_phys"')"
assert_eq "no translation finding (a false positive on a correct kernel)" 0 \
	"$(m iommu_audit_findings_total 'code="translation.')"
# the hook that needs a perf event (a kretprobe on 6.1): CAP_SYS_ADMIN
assert_eq "the swiotlb bounce hook attached" 1 "$(m iommu_audit_hook_attached 'hook="swiotlb_map"')"
events=$(m iommu_audit_events_total)
assert_ge "events checked" 10000 "$events"

# 64 direct 4 KiB reads: 64 maps of 4 KiB on nvme, nothing lost
nvme=$(env_get IA_NVME_BDF)
delta() {	# METRIC LABEL: its growth over the dd
	echo $(( $(m "$1" "$2" "$OUT/dd.after.prom") - $(m "$1" "$2" "$OUT/dd.before.prom") ))
}
assert_eq "dd: 64 reads copied" 1 "$(grep -c '^64+0 records in' "$OUT/dd.err")"
assert_eq "dd: nvme maps_total grew by 64" 64 "$(delta iommu_audit_maps_total "device=\"$nvme\"")"
assert_eq "dd: nvme requested_bytes_total grew by 64 x 4096" 262144 \
	"$(delta iommu_audit_requested_bytes_total "device=\"$nvme\"")"
assert_eq "dd: no event lost" 0 "$(m iommu_audit_events_lost_total '' "$OUT/dd.after.prom")"

# the monitor saw at least what fio says it did (each direct I/O maps)
virtio=$(env_get IA_VIRTIO_BDF) e1000e=$(env_get IA_E1000E_BDF)
for d in nvme virtio; do
	f=$OUT/fio-$d.json
	ios=$(jq '[.jobs[] | .read.total_ios + .write.total_ios] | add' "$f" 2>/dev/null || echo -1)
	bdf=$([ $d = nvme ] && echo "$nvme" || echo "$virtio")
	maps=$(m iommu_audit_maps_total "device=\"$bdf\"")
	echo "# $d: fio $ios I/Os, monitor $maps maps, $(m iommu_audit_mapped_bytes_total "device=\"$bdf\"") bytes mapped, $(m iommu_audit_lazy_flush_window_seconds_count "device=\"$bdf\"") lazy windows"
	assert_ge "$d: fio did I/O" 100 "$ios"
	# each direct I/O maps its buffer at least once. The first runs
	# counted ~9% fewer nvme maps than fio's I/Os, and 57% on a loaded
	# host: the snapshot froze while the reader was behind (now its polls
	# have a time budget, loader.c), and settle took two frozen scrapes
	# for caught up; since, maps >= I/Os (59233 for 59169)
	assert_ge "$d: maps_total >= fio's I/Os" "$ios" "$maps"
done
# the metrics are a snapshot up to a second old: the last ping may be after it
assert_ge "e1000e: frames mapped (pings $(cat "$OUT/pings"), the last 4 may be after the snapshot)" \
	$(($(cat "$OUT/pings") - 4)) \
	"$(m iommu_audit_maps_total "device=\"$e1000e\"")"
assert_ge "lazy-flush windows observed (DMA-FQ)" 1 "$(m iommu_audit_lazy_flush_window_seconds_count)"

# memory and fds flat (the first sample is taken before the load settles).
# What may still grow is bounded: call stacks (up to --max-stacks 2048 of
# 1.8 KiB: 3.6 MiB; distinct stacks keep coming for minutes, interrupts
# land on many paths), findings (4096 of ~0.7 KiB), unmapped handles
# (65536 per device); RSS may grow that much, and no more. fds: the HTTP
# server's connections come and go (at most 16).
echo "# samples (s, RSS KiB, fds):" $(awk '{ printf "%s/%s/%s ", $1, $2, $3 }' "$OUT/samples")
read -r rmin rmax fmin fmax n <<< "$(awk 'NR > 1 { if (!r1 || $2 < r1) r1 = $2; if ($2 > r2) r2 = $2;
	if (!f1 || $3 < f1) f1 = $3; if ($3 > f2) f2 = $3; n++ } END { print r1, r2, f1, f2, n }' "$OUT/samples")"
assert_ge "RSS samples" $((secs / every - 1)) "$n"
[ $((rmax - rmin)) -le "$slack" ] && _ok "RSS flat: $rmin..$rmax KiB" || _fail "RSS grew: $rmin..$rmax KiB"
[ $((fmax - fmin)) -le 16 ] && _ok "open fds flat: $fmin..$fmax (HTTP connections)" ||
	_fail "open fds varied: $fmin..$fmax"
[ "$(tail -1 "$OUT/samples" | awk '{ print $3 }')" -le $((fmin + 1)) ] &&
	_ok "open fds at the end back to $fmin (+1)" || _fail "fds at the end: $(tail -1 "$OUT/samples")"

# the log: start, systemctl reload (SIGHUP) reopened it (rotation), clean stop
assert_eq "systemctl reload exit" 0 "$(cat "$OUT/reload.rc")"
assert_eq "reload: the same main process" "$(show main.started MainPID)" "$(cat "$OUT/reload.pid")"
assert_eq "log line before the rotation: start" start "$(head -1 "$OUT/findings.jsonl.1" | jq -r .type)"
assert_eq "log after the reload: a new file with the stop line" stop "$(tail -1 "$OUT/findings.jsonl" | jq -r .type)"
assert_eq "log lines are JSON" 0 "$(cat "$OUT/findings.jsonl.1" "$OUT/findings.jsonl" | jq -c . > /dev/null 2>&1; echo $?)"
assert_eq "stop line: events lost" 0 "$(tail -1 "$OUT/findings.jsonl" | jq '.lost_ringbuf + .lost_inflight')"
stop_checks main "unit"
assert_eq "the monitor's stdout and stderr (journal) empty" "# the monitor's own lines:" "$(cat "$OUT/main.journal")"

# the drop-in without CAP_SYS_ADMIN (perf_event_paranoid 2): the same
# hooks, the CO-RE relocations made without walking the modules' BTF
start_checks nosa "without CAP_SYS_ADMIN" CAP_BPF CAP_PERFMON CAP_SYS_RESOURCE CAP_SYSLOG
assert_eq "without CAP_SYS_ADMIN: coverage complete" 1 "$(m iommu_audit_coverage_complete '' "$OUT/nosa.prom")"
assert_eq "without CAP_SYS_ADMIN: the swiotlb bounce hook attached" 1 \
	"$(m iommu_audit_hook_attached 'hook="swiotlb_map"' "$OUT/nosa.prom")"
stop_checks nosa "without CAP_SYS_ADMIN"
assert_eq "kernel warnings (dmesg)" 0 "$(grep -cE 'WARNING:|BUG:|Oops|Call Trace|DMA-API' "$OUT/dmesg")"
summary
