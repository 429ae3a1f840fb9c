#!/bin/bash
# Print the path of Debian's promtool (package prometheus), extracted once
# into the cache: the package is a whole Prometheus server with a service
# that starts on install, and the tests need only its metrics parser
# (`promtool check metrics`). Keyed by the package version.
#
# usage: tools/promtool.sh     -> .../promtool
set -euo pipefail
cache=${IA_CACHE:-$HOME/.cache/iommu-audit}/promtool
ver=$(apt-cache policy prometheus 2>/dev/null | awk '/Candidate:/ { print $2 }')
if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
	apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
	ver=$(apt-cache policy prometheus | awk '/Candidate:/ { print $2 }')
fi
dir=$cache/${ver//[^A-Za-z0-9.+~-]/_}
if [ ! -x "$dir/usr/bin/promtool" ]; then
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/.dl.XXXXXX")
	chmod 755 "$tmp"	# apt-get download hands the file to user _apt
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download -qq "prometheus=$ver" >&2)
	mkdir -p "$tmp/x"
	dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
	mkdir -p "$dir/usr/bin"
	cp "$tmp/x/usr/bin/promtool" "$dir/usr/bin/promtool.new"
	mv "$dir/usr/bin/promtool.new" "$dir/usr/bin/promtool"
fi
echo "$dir/usr/bin/promtool"
