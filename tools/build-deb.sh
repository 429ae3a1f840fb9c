#!/bin/bash
# Build the Debian package (debian/) in a copy of the tracked tree under
# .output/deb/, with dpkg-buildpackage -us -uc -b, then run lintian on it.
# Prints the .deb's path last. The work tree is not touched.
#
# usage: tools/build-deb.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/.output/deb
ver=$(dpkg-parsechangelog -l "$root/debian/changelog" -S Version)
src=$out/iommu-audit-$ver
rm -rf "$out"
mkdir -p "$src"
# tracked and new files as they are now (uncommitted edits included)
(cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$src")
start=$(date +%s)
(cd "$src" && dpkg-buildpackage -us -uc -b >"$out/build.log" 2>&1) || {
	tail -30 "$out/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
}
deb=$(ls "$out"/iommu-audit_"$ver"_*.deb)
echo "build-deb: built in $(($(date +%s) - start)) s: $deb ($(stat -c %s "$deb") bytes)" >&2
# lintian: tags we keep are explained in debian/iommu-audit.lintian-overrides
lintian --fail-on warning,error --info "$deb" >&2 || {
	echo "build-deb: lintian found problems" >&2
	exit 1
}
echo "$deb"
