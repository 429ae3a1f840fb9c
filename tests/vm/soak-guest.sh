#!/bin/sh
# The soak test's guest side (tests/run-soak.sh): the packaged iommu-audit
# (/extra/pkg) runs `monitor` while Debian's fio loads nvme and virtio-blk
# and pings load e1000e, all for SECONDS. Every EVERY seconds the
# monitor's RSS and open fds are sampled; every 5 s /metrics is scraped
# over loopback (ia-scrape: status, bytes, ms). Half way, the log is
# rotated (mv + SIGHUP). Then SIGTERM, and the files go to the host
# between @@@BEGIN/@@@END markers.
#
# usage: soak-guest.sh SECONDS EVERY
dur=$1 every=$2 port=9477
OUT=/tmp/out/soak
mkdir -p "$OUT"
env | grep '^IA_' > "$OUT/env"
ia=/extra/pkg/bin/iommu-audit
"$ia" --version > "$OUT/version" 2>&1
"$ia" monitor --listen 127.0.0.1:$port --log "$OUT/findings.jsonl" \
	--textfile "$OUT/textfile.prom" --interval 5 \
	> "$OUT/monitor.stdout" 2> "$OUT/monitor.stderr" &
pid=$!
i=0
until ia-scrape 127.0.0.1 $port /metrics > /dev/null 2>&1; do
	i=$((i + 1))
	[ $i -gt 120 ] && break
	sleep 1
done
echo $i > "$OUT/ready.seconds"

# the load: random direct reads and writes of 4-64 KiB on both disks, and
# 1400-byte frames on the NIC (a loop back to itself: docs/vm-bench.md)
for d in nvme:$IA_NVME_DEV virtio:$IA_VIRTIO_DEV; do
	fio --name=${d%%:*} --filename=${d#*:} --direct=1 --rw=randrw --bsrange=4k-64k \
	    --ioengine=psync --size=48m --time_based --runtime=$dur \
	    --output-format=json --output="$OUT/fio-${d%%:*}.json" > /dev/null 2>&1 &
done
( end=$(( $(date +%s) + dur )); n=0
  while [ "$(date +%s)" -lt $end ]; do
	ping -c 4 -s 1400 -W 1 "$IA_NET_PEER" > /dev/null 2>&1; n=$((n + 4))
  done; echo $n > "$OUT/pings" ) &

start=$(date +%s)
next_sample=$start
rotated=0
while :; do
	now=$(date +%s)
	t=$((now - start))
	[ $t -ge $dur ] && break
	if [ $now -ge $next_sample ]; then
		rss=$(awk '/^VmRSS/ { print $2 }' /proc/$pid/status)
		fds=$(ls /proc/$pid/fd | wc -l)
		echo "$t $rss $fds" >> "$OUT/samples"
		next_sample=$((next_sample + every))
	fi
	if [ $rotated = 0 ] && [ $t -ge $((dur / 2)) ]; then
		mv "$OUT/findings.jsonl" "$OUT/findings.jsonl.1"
		kill -HUP $pid
		rotated=1
	fi
	echo "$t $(ia-scrape 127.0.0.1 $port /metrics "$OUT/last.prom")" >> "$OUT/scrapes"
	sleep 5
done
wait_fio=0
while [ "$(ls "$OUT"/fio-*.json 2>/dev/null | wc -l)" -lt 2 ] || pgrep -x fio > /dev/null; do
	wait_fio=$((wait_fio + 1)); [ $wait_fio -gt 60 ] && break; sleep 1
done
# The monitor reads its ring on a 100 ms poll (or when an eighth of it
# waits), and under load (CI runs a lab boot beside this one) it can lag
# the workload by seconds: seen once, the final scrape counted 23102 nvme
# maps for fio's 28519 I/Os, 0 events lost. The final scrape is the first
# one whose events_total equals the one a second before (30 s at most).
prev= i=0
while [ $i -lt 30 ]; do
	i=$((i + 1))
	ia-scrape 127.0.0.1 $port /metrics "$OUT/final.prom" > "$OUT/final.scrape"
	cur=$(grep '^iommu_audit_events_total ' "$OUT/final.prom")
	[ -n "$cur" ] && [ "$cur" = "$prev" ] && break
	prev=$cur
	sleep 1
done
echo "$i" > "$OUT/final.tries"
rss=$(awk '/^VmRSS/ { print $2 }' /proc/$pid/status)
echo "$(( $(date +%s) - start )) $rss $(ls /proc/$pid/fd | wc -l)" >> "$OUT/samples"
kill -TERM $pid
wait $pid
echo $? > "$OUT/monitor.rc"
sleep 1
dmesg > "$OUT/dmesg"
for f in "$OUT"/*; do
	echo "@@@BEGIN soak/${f##*/}"
	cat "$f"
	echo "@@@END"
done
