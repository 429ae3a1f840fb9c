#!/bin/bash
# Lab-kernel test: boot the lab kernel (tools/lab-kernel.sh, docs/lab-kernel.md)
# with iommu_lab.granule=G, run the bench workload under `iommu-audit devices`
# and the DMA fixture (tests/fixture, built against the lab build tree) under
# `iommu-audit record`, then check on the host:
#   - every device that probed reports granule G;
#   - dma_alloc_coherent(4096) -> exposure.unrelated_pages, exposed_pages G/4096-1;
#   - map_single of 200 bytes -> exposure of G-200 bytes (the granule slack).
# Prints ok/not ok lines and "lab: N passed, N failed"; exit 1 on failure.
#
# usage: tests/lab/run.sh [--granule G] [--mode strict|lazy]   (G default 16384;
#        --granule 4096 boots without the parameter: the baseline)
# Results: .output/lab/<G>/ (one file per guest section, the console log).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
G=16384
mode=strict
while [ $# -gt 0 ]; do
	case "$1" in
	--granule) G=$2; shift 2 ;;
	--mode) mode=$2; shift 2 ;;
	*) echo "usage: $0 [--granule G] [--mode strict|lazy]" >&2; exit 2 ;;
	esac
done

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
nok() { fail=$((fail + 1)); echo "not ok - $*"; }

kdir=$("$root/tools/lab-kernel.sh") || { echo "lab: tools/lab-kernel.sh failed" >&2; exit 1; }
release=$(cat "$kdir/release")

# The fixture, built against the lab build tree (not the Debian headers).
fx=$root/.output/lab/fixture
mkdir -p "$fx/bin" "$fx-build"
for f in ia_fixture.c Kbuild; do
	cmp -s "$root/tests/fixture/$f" "$fx-build/$f" || cp "$root/tests/fixture/$f" "$fx-build/$f"
done
# The .ko is relinked every time: its BTF is split BTF on top of the
# vmlinux's, which changes with every kernel build (kbuild does not relink an
# external module when only vmlinux changed). And .BTF is dropped from the
# copy: the build tree may be at another patch set than this entry's vmlinux
# (tools/lab-kernel.sh shares it), and a module whose BTF does not match is
# refused ("failed to validate module [ia_fixture] BTF: -22"). The fixture
# needs no BTF.
rm -f "$fx-build"/*.ko
make -s -C "$kdir/build" M="$fx-build" modules >&2 || { echo "lab: fixture build failed" >&2; exit 1; }
objcopy --strip-debug --remove-section=.BTF "$fx-build/ia_fixture.ko" "$fx/ia_fixture.ko"
install -m 755 "$root/tests/fixture/bin/iafx" "$fx/bin/iafx"
labx=$root/.output/lab/lab
mkdir -p "$labx"
install -m 755 "$root/tests/lab/guest.sh" "$labx/guest.sh"

res=$root/.output/lab/$G
rm -rf "$res"
mkdir -p "$res"
append=""
[ "$G" -eq 4096 ] || append="iommu_lab.granule=$G"
start=$(date +%s)
"$root/tools/vm-run.sh" --kernel-dir "$kdir" --mode "$mode" --timeout 900 \
	${append:+--append "$append"} --extra "$fx" --extra "$labx" -- \
	sh /extra/lab/guest.sh "$G" >"$res/guest.out" 2>"$res/vm-run.err"
rc=$?
echo "# lab ($release, granule $G, $mode): vm-run exit $rc in $(( $(date +%s) - start ))s"
awk -v dir="$res" '
	/^@@@BEGIN / { f = dir "/" $2; next }
	/^@@@END$/ { close(f); f = ""; next }
	f != "" { print > f }
' "$res/guest.out"
if [ $rc -ne 0 ]; then
	nok "vm-run exited $rc: $(tail -5 "$res/vm-run.err" | tr '\n' ' ')"
	echo "lab: $pass passed, $fail failed"
	exit 1
fi

# 1. the parameter reached the kernel
if [ "$G" -ne 4096 ]; then
	grep -q "lab: IOMMU granule forced to $G" "$res/dmesg" &&
		ok "kernel took iommu_lab.granule=$G" || nok "no 'IOMMU granule forced' line in dmesg"
fi
echo "# drivers:"; sed 's/^/#   /' "$res/drivers"
unaligned=$(grep -c 'iommu: unaligned' "$res/dmesg" || true)
echo "# 'iommu: unaligned' refusals in dmesg: $unaligned"

# 2. granule of every device in the devices table
python3 - "$res/devices" "$G" <<'EOF' && ok "devices report granule $G" || nok "devices: granule (see $res/devices)"
import json, sys
g = int(sys.argv[2]); bad = 0; n = 0
txt = open(sys.argv[1]).read()
devs = []
cands = [l for l in txt.splitlines() if l.startswith('{')]
if txt.find('{') >= 0:
    cands.append(txt[txt.index('{'):txt.rindex('}') + 1])
for c in cands:
    try: o = json.loads(c)
    except ValueError: continue
    if isinstance(o, dict) and "devices" in o:
        devs = o["devices"]; break
if not devs:
    print("#   no devices JSON"); sys.exit(1)
for d in devs:
    gran = d.get("granule")
    name = "%s (%s, %s)" % (d.get("name"), d.get("driver"), d.get("domain_type"))
    print("#   %s granule %s pgsize_bitmap %s maps %s pt_map_failed %s" % (name, gran, d.get("pgsize_bitmap"), d.get("maps"), d.get("pt_map_failed")))
    n += 1
    if gran != g: bad += 1
sys.exit(1 if bad or not n else 0)
EOF

# 3. the fixture findings
if [ -f "$res/check" ]; then
	python3 - "$res/check" "$res/fixture_result" "$G" <<'EOF'
import json, sys
g = int(sys.argv[3])
finds = []
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith('{'):
        try: o = json.loads(line)
        except ValueError: continue
        if o.get("type") == "finding": finds.append(o["finding"])
def show(f):
    return {k: f.get(k) for k in ("code", "request", "len", "granule", "head", "tail", "exposed_bytes", "exposed_pages", "count")}
for f in finds:
    print("#   finding", json.dumps(show(f)))
res = 0
def check(cond, msg):
    global res
    print(("ok - " if cond else "not ok - ") + msg)
    if not cond: res = 1
unrel = [f for f in finds if f.get("code") == "exposure.unrelated_pages"]
sub = [f for f in finds if f.get("code", "").startswith("exposure.") and f.get("len") == 200]
if g > 4096:
    # dma_alloc_coherent(GFP_KERNEL) goes through iommu_dma_alloc_remap() in
    # 6.1, which allocates whole granules (order log2(G/4K) pages): the
    # 4 KiB buffer gets the rest of its granule as its own memory, so no
    # unrelated page is exposed. (Only the non-blocking/FORCE_CONTIGUOUS path,
    # __iommu_dma_map() of a 4K page, would expose G/4K - 1 unrelated pages.)
    check(not any(f.get("request") in ("alloc", "alloc_coherent") for f in unrel),
          "alloc_coherent(4096) -> no exposure.unrelated_pages (granule allocated whole)")
    check(any(f.get("exposed_pages") == g // 4096 - 1 for f in sub),
          "map_single(200) -> exposure.unrelated_pages, exposed_pages %d" % (g // 4096 - 1))
    check(any(f.get("exposed_bytes") == g - 200 for f in sub),
          "map_single(200) -> exposed_bytes %d (granule slack)" % (g - 200))
else:
    check(not unrel, "no exposure.unrelated_pages with a 4K granule")
sys.exit(res)
EOF
	[ $? -eq 0 ] && pass=$((pass + 1)) || fail=$((fail + 1))
else
	nok "no fixture check output (fixture not loaded?)"
fi
echo "lab: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
