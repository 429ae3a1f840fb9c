#!/bin/bash
# Lay out, under DIR, what the VM guest needs to boot with systemd as PID 1
# (tools/vm-run.sh --systemd, docs/vm-bench.md): Debian's systemd as this
# machine has it (package systemd, tools/deps.sh) with its libraries at
# their own paths, journald (a unit's stdout and stderr go to the journal,
# as on a real system), the unit files of the standard targets (the
# dependencies every service has: sysinit.target, basic.target,
# shutdown.target...), and ia-guest.service, which runs the bench's
# command (tools/guest-systemd.sh) once multi-user.target is reached.
# Nothing else: no udev (the bench's drivers are loaded before systemd
# starts, and devtmpfs makes the nodes), no getty, no logind.
#
# usage: tools/systemd-root.sh DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=$1
units=/lib/systemd/system
for f in /lib/systemd/systemd /lib/systemd/systemd-journald /lib/systemd/systemd-shutdown \
	/bin/systemctl /bin/journalctl "$units/multi-user.target"; do
	[ -e "$f" ] || { echo "systemd-root: $f missing (tools/deps.sh installs systemd)" >&2; exit 1; }
done
"$here/guest-bundle.sh" --root "$dir" /lib/systemd/systemd /lib/systemd/systemd-journald \
	/lib/systemd/systemd-shutdown /bin/systemctl /bin/journalctl
mkdir -p "$dir$units" "$dir/etc/systemd/system/multi-user.target.wants" "$dir/var/log" "$dir/var/lib"
# the targets without their .wants/ directories: those pull in the
# services of a full system, whose programs the guest does not have
cp "$units"/*.target "$units"/systemd-journald.service "$units"/systemd-journald*.socket "$dir$units/"
# journald's own links, as the package has them
for w in sockets.target.wants/systemd-journald.socket sockets.target.wants/systemd-journald-dev-log.socket \
	sockets.target.wants/systemd-journald-audit.socket sysinit.target.wants/systemd-journald.service; do
	mkdir -p "$dir$units/${w%/*}"
	cp -P "$units/$w" "$dir$units/$w"
done
cp /usr/lib/os-release "$dir/etc/os-release"
# root, and what systemd and journald look up by name
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$dir/etc/passwd"
printf 'root:x:0:\nsystemd-journal:x:101:\nnogroup:x:65534:\n' > "$dir/etc/group"
# an empty machine-id: systemd makes a transient one at boot
: > "$dir/etc/machine-id"
ln -sfn "$units/multi-user.target" "$dir/etc/systemd/system/default.target"
install -D -m 0755 "$here/guest-systemd.sh" "$dir/lib/ia/guest-systemd.sh"
cat > "$dir/etc/systemd/system/ia-guest.service" <<'EOT'
# tools/systemd-root.sh: the VM bench's command (/ia/cmd), its output on
# ttyS1, then the marker and a power-off (tools/guest-systemd.sh)
[Unit]
Description=VM bench command
After=multi-user.target

[Service]
Type=simple
ExecStart=/lib/ia/guest-systemd.sh
StandardInput=null
StandardOutput=journal+console
EOT
ln -sfn ../ia-guest.service "$dir/etc/systemd/system/multi-user.target.wants/ia-guest.service"
