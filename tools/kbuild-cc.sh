#!/bin/bash
# This machine's gcc, standing in for the newer gcc a Debian kernel of
# another suite was built with (trixie: gcc-14, sid: gcc-16), to build an
# out-of-tree module against that kernel's headers (tests/fixture/build.sh
# passes CC=tools/kbuild-cc.sh when the kernel's own compiler is not here).
# The kernel's Makefiles pass options that Kconfig found the newer gcc to
# support; the few this gcc lacks are translated into what it has, as
# the kernel itself does for older compilers:
#   -fmin-function-alignment=N (gcc 14; CONFIG_CC_HAS_MIN_FUNCTION_ALIGNMENT)
#       -> -falign-functions=N, the top-level Makefile's own choice when the
#          compiler lacks it (since 6.9, "kbuild: Use
#          -fmin-function-alignment when available"). It does not align
#          cold functions; a test module does not care.
#   -Wno-attributes is added: Kconfig's CONFIG_CC_HAS_COUNTED_BY (gcc 15)
#       makes __counted_by() expand to an attribute this gcc ignores, with a
#       warning on every header that uses it.
# Everything else is passed through unchanged: an option this gcc rejects
# stops the build with gcc's own message, to be added here.
set -euo pipefail
cc=${KBUILD_HOST_CC:-gcc}
args=(-Wno-attributes)
for a in "$@"; do
	case "$a" in
	-fmin-function-alignment=*) args+=("-falign-functions=${a#*=}") ;;
	*) args+=("$a") ;;
	esac
done
exec "$cc" "${args[@]}"
