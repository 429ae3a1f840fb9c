#!/bin/bash
# Boot the VM bench guest with an interactive shell on the serial console,
# for debugging. Same guest, devices and options as tools/vm-run.sh (except
# that there is no command and no --timeout), see docs/vm-bench.md.
#
# usage: tools/vm-shell.sh [--binary PATH] [--extra DIR]... [--mode strict|lazy]
#                          [--mem MB] [--append ARGS] [--kernel K]
#                          [--kernel-dir DIR] [--bzimage]
#
# The console (kernel messages and the shell) is this terminal. 'exit' or
# Ctrl-D in the shell powers the guest off; Ctrl-A X kills QEMU; Ctrl-A C
# switches to the QEMU monitor and back. The guest environment has the same
# IA_* variables as vm-run.sh's commands.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for a in "$@"; do
	case "$a" in
	-h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	--) echo "vm-shell: takes no command; use tools/vm-run.sh to run one" >&2; exit 125 ;;
	esac
done
# vm-run.sh does the work: --shell makes it give the console to this
# terminal and start a shell instead of a command.
exec "$here/vm-run.sh" --shell "$@"
