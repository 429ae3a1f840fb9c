#!/bin/bash
# VM tests: boot the bench guest once per invalidation mode, run every case's
# guest() step in it, then check the results on the host with each case's
# check(). Prints one ok/not ok line per assertion and a final
# "vm: N passed, N failed" line ("vm-K: ..." with --kernel K, or --name's);
# exits 1 if anything failed, 2 on bad usage or a build missing.
#
# usage: tests/run-vm.sh [--kernel K] [--mode strict|lazy|both] [--name N]
#                        [CASE...]
#   --kernel K  the stock kernel to boot, as tools/vm-run.sh --kernel takes
#               it (6.1, 6.12, newest or a release; default: the VM's
#               default, bookworm's 6.1). The fixture is built for it.
#   --name N    the summary line's name (default vm, or vm-K)
#   CASE: a file name under tests/vm/cases/ without .sh (default: all);
#         a case with a "# vm-modes: M" line runs only in the modes M;
#         one with "# vm-kernels: K" only on the kernels K when no case is
#         named
# Results: .output/vm-tests/<mode>/<case>/, or with --kernel K
# .output/vm-tests/<release>/<mode>/<case>/. check() sees KREL (the
# release booted) and MODE.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
modes=(strict lazy)
kernel=""
name=""
while [ $# -gt 0 ]; do
	case "$1" in
	--mode)
		case "${2:-}" in both) ;; strict|lazy) modes=("$2") ;; *) echo "bad mode ${2:-}" >&2; exit 2 ;; esac
		shift 2 ;;
	--kernel) kernel=${2:-}; [ -n "$kernel" ] || { echo "--kernel needs a kernel" >&2; exit 2; }; shift 2 ;;
	--name) name=${2:-}; [ -n "$name" ] || { echo "--name needs a name" >&2; exit 2; }; shift 2 ;;
	-h|--help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	-*) echo "unknown option $1 (try --help)" >&2; exit 2 ;;
	*) break ;;
	esac
done
cases=("$@")
name=${name:-vm${kernel:+-$kernel}}
if [ ${#cases[@]} -eq 0 ]; then
	for f in "$root"/tests/vm/cases/*.sh; do cases+=("$(basename "$f" .sh)"); done
fi
for c in "${cases[@]}"; do	# a typo fails now, not after a boot
	[ -f "$root/tests/vm/cases/$c.sh" ] || { echo "no case $c in tests/vm/cases/" >&2; exit 2; }
done
# the cases check on the host with the host's build (dump, check): without
# it every such assertion would fail on an empty output, far from the cause
for b in iommu-audit .output/iommu-audit.static; do
	[ -x "$root/$b" ] || { echo "run-vm: $b is not built (make iommu-audit static guest fixture)" >&2; exit 2; }
done
. "$root/tests/vm/lib-check.sh"
CASES_DIR=$root/tests/vm/cases

# A case may ask for other boot options with a line "# vm-opts: ..." (e.g.
# --mem 6144 for swiotlb); cases with the same options share one boot.
# Every boot has oops=panic: an oops (the DMA fixture's, or one a hook
# provokes) ends the boot at once, with its message, rather than letting
# the cases after it run on a damaged kernel.
vm_opts() { sed -n 's/^# vm-opts: *//p' "$CASES_DIR/$1.sh" | head -1; }
# A case whose checks do not depend on the invalidation mode says in which
# mode it runs with "# vm-modes: strict" (and why, beside it); the others run
# in every mode asked for.
in_mode() {	# CASE MODE
	local m
	m=$(case_modes "$1")
	[ -z "$m" ] || [[ " $m " == *" $2 "* ]]
}
# the modes of a "# vm-modes: M... (why)" line, without the why
case_modes() { sed -n 's/^# vm-modes: *\([a-z ]*\).*/\1/p' "$CASES_DIR/$1.sh" | head -1; }
if [ $# -gt 0 ]; then	# a case named on the command line must run
	for c in "${cases[@]}"; do
		ok=0
		for m in "${modes[@]}"; do in_mode "$c" "$m" && ok=1; done
		[ $ok -eq 1 ] || { echo "case $c runs only in mode(s): $(case_modes "$c")" >&2; exit 2; }
	done
fi
# A case whose checks are the tool's own behaviour more than the kernel's
# (signals, overload, hostile ground: each costs a BPF load and unload per
# run, 1-5 minutes of TCG a kernel) says on which kernels a run of every
# case takes it: "# vm-kernels: 6.1 (why)"; named on the command line, it
# runs on any kernel.
case_kernels() { sed -n 's/^# vm-kernels: *\([0-9a-z. ]*\).*/\1/p' "$CASES_DIR/$1.sh" | head -1; }
if [ $# -eq 0 ]; then
	kept=()
	for c in "${cases[@]}"; do
		k=$(case_kernels "$c")
		if [ -n "$k" ] && [[ " $k " != *" ${kernel:-6.1} "* ]]; then
			echo "# $c: not on this kernel (vm-kernels: $k)"
			continue
		fi
		kept+=("$c")
	done
	cases=("${kept[@]}")
fi
mapfile -t groups < <(for c in "${cases[@]}"; do echo "$(vm_opts "$c")"; done | sort -u)

# The kernel: fetched now (once), so that a boot never waits for it.
kdir=$("$root/tools/vm-kernel.sh" ${kernel:+--kernel "$kernel"}) || {
	echo "not ok - kernel ${kernel:-default}: tools/vm-kernel.sh failed"
	echo "$name: 0 passed, 1 failed"
	exit 1
}
KREL=$(basename "$kdir")
export KREL
results=$root/.output/vm-tests${kernel:+/$KREL}
tag=${kernel:+$KREL }	# in case names: which kernel failed

# Static guest helpers and the DMA fixture module go in when built; for
# another kernel than the default, its own fixture is built here (a few
# seconds; its headers are fetched into the cache the first time).
extras=()
[ -d "$root/.output/guest" ] && extras+=(--extra "$root/.output/guest")
fixture=$root/.output/fixture
if [ -n "$kernel" ]; then
	fixture=$root/.output/kernels/$KREL/fixture
	mkdir -p "$results"
	# the cases that load it (iafx, or insmod of /extra/fixture)
	uses_fixture=$(for c in "${cases[@]}"; do echo "$root/tests/vm/cases/$c.sh"; done |
		xargs grep -lE 'iafx|/extra/fixture' 2> /dev/null)
	if [ -n "$uses_fixture" ] &&
		! "$root/tests/fixture/build.sh" --kernel "$KREL" > "$results/fixture-build.log" 2>&1; then
		CASE="fixture[$KREL]" _fail "build: $(tail -3 "$results/fixture-build.log" | tr '\n' ' ')"
	fi
fi
[ -d "$fixture" ] && extras+=(--extra "$fixture")

# The random case's program (tests/vm/cases/random.sh): seeded, the seed
# printed so that a failure reproduces (IA_SEED=S; IA_RANDOM_OPS=N ops).
if printf '%s\n' "${cases[@]}" | grep -qx random; then
	# per kernel (suites of two kernels may run side by side); the guest
	# finds it in /extra/model
	"$root/tests/model/program.sh" "$results/model" 16384 || exit 1
	extras+=(--extra "$results/model")
fi

run_boot() {	# MODE OPTS CASE...: one boot, then the checks of its cases
	local mode=$1 opts=$2 res rc start
	shift 2
	res=$results/$mode
	mkdir -p "$res"
	local log=$res/boot-${opts//[^a-z0-9]/_}
	# A boot whose guest died of an int3 oops is booted once more, and
	# said so: under TCG a vCPU may run a stale int3 that the kernel's
	# text patching (text_poke_bp) has already taken back, which MTTCG
	# does not always keep coherent (tools/vm-run.sh retries the same
	# before the guest is ready). Seen on 7.2 after it was ready: the
	# freed case's tp_btf/mm_page_free turns on the static key in
	# __free_frozen_pages while the other vCPU frees pages in softirq
	# ("Oops: int3" at __free_frozen_pages+0x77, the byte back to 0f).
	# The programs cannot write kernel text; any other failure counts.
	local try
	for try in 1 2; do
		start=$(date +%s)
		# shellcheck disable=SC2086
		"$root/tools/vm-run.sh" --kernel-dir "$kdir" --mode "$mode" --timeout 900 "${extras[@]}" --append oops=panic $opts -- \
			sh /tests/guest-main.sh "$@" > "$log.out" 2> "$log.err"
		rc=$?
		echo "# vm ($tag$mode${opts:+, $opts}): $* ran in $(( $(date +%s) - start ))s, vm-run exit $rc"
		grep "died before the guest was ready" "$log.err" | sed 's/^/# /'	# retried boots, shown
		[ $rc -ne 0 ] && [ $try -eq 1 ] && grep -q 'Oops: int3' "$log.err" || break
		cp "$log.err" "$log.err.try1"
		echo "# vm ($tag$mode${opts:+, $opts}): the guest died of an int3 oops (text patching under TCG; $log.err.try1): booted once more"
	done
	if [ $rc -ne 0 ]; then
		CASE="boot[$tag$mode${opts:+ $opts}]" _fail "vm-run exited $rc: $(tail -5 "$log.err" | tr '\n' ' ')"
		return
	fi
	# split "@@@BEGIN case/file" ... "@@@END" blocks into files
	"$root/tests/split-guest-output.sh" "$res" "$log.out"
	for c in "$@"; do
		CASE="${c}[$tag$mode]"
		OUT=$res/$c
		MODE=$mode
		export OUT MODE
		if [ ! -f "$OUT/guest.status" ]; then
			_fail "no output from the guest"
			continue
		fi
		# each case defines guest() and check(); check runs in this shell
		# so that the counters come back
		unset -f guest check
		. "$CASES_DIR/$c.sh"
		check
	done
}

for mode in "${modes[@]}"; do
	rm -rf "${results:?}/$mode"
	for g in "${groups[@]}"; do
		members=()
		for c in "${cases[@]}"; do
			[ "$(vm_opts "$c")" = "$g" ] && in_mode "$c" "$mode" && members+=("$c")
		done
		[ ${#members[@]} -gt 0 ] || continue
		run_boot "$mode" "$g" "${members[@]}"
	done
done
echo "$name: $pass_count passed, $fail_count failed"
[ "$fail_count" -eq 0 ]
