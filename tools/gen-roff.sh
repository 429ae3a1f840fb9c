#!/bin/bash
# The roff manual page from docs/iommu-audit.8.md (itself generated from
# --help by tools/gen-man.sh), with Debian's go-md2man (package go-md2man:
# the converter Docker and Podman use for theirs; pandoc would pull ~200 MB
# of Haskell for one page). go-md2man does not split a pandoc title line
# ("% NAME(8) source | manual") into .TH's fields: that line is written here.
#
# usage: tools/gen-roff.sh MARKDOWN VERSION > iommu-audit.8
set -euo pipefail
md=$1 version=$2
date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(stat -c %Y "$md")}" +%Y-%m-%d)
go-md2man -in "$md" |
	sed "s/^\.TH .*/.TH IOMMU-AUDIT 8 \"$date\" \"iommu-audit $version\" \"System administration\"/"
