# Sourced by tools/vm-kernel.sh (and usable by the lab scripts): packages of
# any Debian suite from the registry this machine already uses, through a
# private apt configuration in the cache. The machine's /etc/apt is never
# edited: for another suite, apt gets its own sources.list, package lists
# and archive cache under ${IA_CACHE:-$HOME/.cache/iommu-audit}/apt/<suite>/.
# The machine's own suite (its VERSION_CODENAME) uses the machine's apt as
# it is.
#
# Callers set IA_CACHE_ROOT (the cache root) and define log and die.
#
#   suite_host                  the machine's codename (bookworm)
#   suite_apt SUITE             fill the array APT with apt's -o options for
#                               SUITE (empty for the host suite); creates the
#                               private configuration on first use
#   suite_update SUITE          apt-get update of SUITE's lists
#   suite_lists_key SUITE       changes whenever SUITE's lists change
#   suite_ensure_lists SUITE    update once if SUITE has no lists yet
#   suite_download SUITE PKG... apt-get download into the current directory,
#                               with one update-and-retry
#   suite_field SUITE PKG FIELD a field of PKG's record in SUITE (newest)

suite_host() {
	# shellcheck source=/dev/null
	(. /etc/os-release && echo "${VERSION_CODENAME:-}")
}

# The registry: the URI from which this machine's apt gets its own suite
# (e.g. http://deb.debian.org/debian for bookworm), read from apt itself so
# that one-line and deb822 sources both work. The same archive serves the
# other suites under the same scheme.
suite_site() {
	local host
	host=$(suite_host)
	apt-get indextargets --format '$(TARGET_OF) $(RELEASE) $(SITE)' 2>/dev/null |
		awk -v h="$host" '$1 == "deb" && $2 == h { print $3; exit }'
}

# The keyring the machine's sources name for that archive, if any (Signed-By
# in deb822, signed-by= in one-line sources); else apt's default keyrings.
suite_keyring() {
	local k
	k=$(sed -n 's/^Signed-By: *\(\/[^ ]*\)$/\1/p; s/.*signed-by=\([^] ]*\).*/\1/p' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources 2>/dev/null | grep -m1 'debian-archive' || true)
	[ -z "$k" ] || [ ! -f "$k" ] || echo "$k"
}

suite_dir() { echo "$IA_CACHE_ROOT/apt/$1"; }

suite_apt() {
	local s=$1 d site key
	APT=()
	if [ "$(id -u)" -eq 0 ]; then
		# As root, apt-get download drops privileges to _apt, which cannot
		# enter $HOME/.cache (/root is 0700): it then warns and downloads as
		# root anyway. Say so up front to keep the output clean.
		APT+=(-o APT::Sandbox::User=root)
	fi
	[ "$s" != "$(suite_host)" ] || return 0
	d=$(suite_dir "$s")
	mkdir -p "$d/preferences.d"
	if [ ! -f "$d/sources.list" ]; then
		site=$(suite_site)
		[ -n "$site" ] || die "cannot tell which archive serves $(suite_host) (apt-get indextargets)"
		key=$(suite_keyring)
		mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/preferences.d"
		echo "deb ${key:+[signed-by=$key] }$site $s main" >"$d/sources.list.$$"
		mv "$d/sources.list.$$" "$d/sources.list"
	fi
	# Dir::State::status=/dev/null: the machine's installed packages are not
	# SUITE's; Dir::Cache: apt's binary caches stay out of /var/cache/apt.
	APT+=(-o "Dir::Etc::sourcelist=$d/sources.list" -o Dir::Etc::sourceparts=-
		-o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache"
		-o Dir::State::status=/dev/null -o "Dir::Etc::preferencesparts=$d/preferences.d")
}

suite_update() {
	local s=$1
	suite_apt "$s"
	log "apt-get update ($s)"
	if [ "$s" = "$(suite_host)" ]; then
		apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 || die "apt-get update failed"
		return
	fi
	# One update at a time per suite (apt's own lists lock does not wait).
	(
		flock 8
		apt-get "${APT[@]}" update -qq >&2
	) 8>"$(suite_dir "$s")/.lock" || die "apt-get update of $s failed"
}

suite_lists_dir() {
	if [ "$1" = "$(suite_host)" ]; then echo /var/lib/apt/lists; else echo "$(suite_dir "$1")/lists"; fi
}

suite_lists_key() {
	stat -c '%n %s %Y' "$(suite_lists_dir "$1")"/*Packages* 2>/dev/null | cksum | cut -d' ' -f1
}

suite_ensure_lists() {
	suite_apt "$1"
	if ! compgen -G "$(suite_lists_dir "$1")/*Packages*" >/dev/null; then
		suite_update "$1"
	fi
}

suite_download() {
	local s=$1
	shift
	suite_ensure_lists "$s"
	log "downloading $* ($s)"
	if ! apt-get download -q "${APT[@]}" "$@" >&2; then
		# The packages may be newer than the lists.
		log "apt-get download failed; running apt-get update and retrying"
		suite_update "$s"
		apt-get download -q "${APT[@]}" "$@" >&2 || die "cannot download $* from $s"
	fi
}

suite_field() {
	suite_ensure_lists "$1"
	apt-cache "${APT[@]}" show "$2" 2>/dev/null |
		awk -v f="$3" 'index($0, f ": ") == 1 { print substr($0, length(f) + 3); exit }'
}
