#!/bin/bash
# Install every Debian package that iommu-audit's build, tests and VM bench
# need. Idempotent: packages already present are not touched, and apt is only
# consulted when something is missing.
#
# usage: tools/deps.sh [--check]
#   --check   only report what is missing; exit 1 if anything is
set -euo pipefail

PKGS=(
	# build; libmicrohttpd: monitor's HTTP /metrics (user/out/metrics_http.c)
	make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev
	libmicrohttpd-dev
	# install and package: the man page (go-md2man), the Debian package
	go-md2man dpkg-dev debhelper lintian
	# monitor's soak test (fio in the guest) and the HTML report's test
	# (headless chromium); promtool comes from tools/promtool.sh
	fio chromium
	# the unit: systemd-analyze verify (CLI tests), and systemd as the soak
	# guest's PID 1 (tools/systemd-root.sh)
	systemd
	# fuzzing and sanitizer builds (tests/fuzz, make SAN=1): libFuzzer, ASan, UBSan
	libclang-rt-14-dev
	# unit tests
	libcmocka-dev jq libxml2-utils
	# VM bench: emulator, guest userland, initramfs, module handling;
	# bpftrace: bench/map-benchmark.sh's counting tracer on the same hooks;
	# linux-perf: its --profile (perf in the guest) and the checker's profiles
	qemu-system-x86 busybox-static cpio kmod xz-utils zstd bpftrace linux-perf
	# the guest kernel's headers, for the DMA fixture module (tests/fixture)
	linux-headers-amd64
	# the lab kernel (tools/lab-kernel.sh): its source, a kernel build with
	# BTF (pahole from dwarves), and the lab tests' checks (python3)
	linux-source-6.1 bc flex bison libssl-dev dwarves python3
)

missing=()
for p in "${PKGS[@]}"; do
	# dpkg-query prints "install ok installed" for a fully installed package
	if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "${1:-}" = "--check" ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run as root (or: sudo $0) to install them with apt-get" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >&2
