#!/bin/sh
# shellcheck shell=dash
# ia-guest.service's program (tools/systemd-root.sh): in a guest booted
# with systemd as PID 1 (tools/vm-run.sh --systemd), what tools/guest-init.sh
# does after its set-up in the busybox guest: run /ia/cmd as root with the
# bench's environment (written by guest-init.sh before it handed PID 1 to
# systemd), its stdout+stderr on ttyS1, then the marker with its status,
# and power off.
set -a
# shellcheck source=/dev/null
. /ia/env
# shellcheck source=/dev/null
. /ia/guest.env
set +a
# systemctl and journalctl write plain text to files: no pager, colours
# or hyperlinks
export SYSTEMD_PAGER=cat SYSTEMD_COLORS=0 SYSTEMD_URLIFY=0
cd / || exit 1
rc=0
sh -c "$(cat /ia/cmd)" </dev/null >/dev/ttyS1 2>&1 || rc=$?
# What the command left running is in this unit's cgroup: stopped, so
# that no process holds ttyS1 open and the last close below waits until
# the marker is sent (closing_wait; a killed process's close does not).
cg=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)
for sig in TERM KILL; do
	while read -r p; do
		[ "$p" = $$ ] || kill -"$sig" "$p" 2>/dev/null
	done <"$cg/cgroup.procs"
	usleep 200000
done
printf '\n%s %d\n' "$IA_MARK" "$rc" >/dev/ttyS1
: >/dev/ttyS1
echo "guest-systemd: command exited with status $rc"
# at once: the command is done, nothing else here needs stopping cleanly
systemctl poweroff --force
