#!/usr/bin/env bash
# wine-keystore.sh - build the keystore's Windows test binaries and run them
# under Wine, so that the Windows keyring code (go-keyring over Credential
# Manager: CredWriteW, CredReadW, CredDeleteW, CredEnumerateW) runs against
# Wine's credential store on a headless Linux machine.
#
# Usage:  bash .ci/wine-keystore.sh [TEST-FLAG...]
#   e.g.  bash .ci/wine-keystore.sh -test.v -test.run Real
#
# Steps:
#   1. If there is no 64-bit Wine loader, runs apt-get update and installs
#      wine64 without its recommends (no i386 architecture, no wine32).
#      Needs root or passwordless sudo only in that case.
#   2. Builds GOOS=windows GOARCH=amd64 test binaries of ./keystore/...
#   3. Creates a Wine prefix in a fresh temporary directory (HOME and
#      TMPDIR point there too, so that nothing is left in the user's home
#      or in /tmp), with WINEDEBUG=-all, no display (DISPLAY and
#      WAYLAND_DISPLAY unset: a console program needs none), and Mono,
#      Gecko and the menu builder turned off; runs wineboot -i.
#   4. Wine before 9.0 (Debian 12 has 8.0) has no bcryptprimitives.dll,
#      which the Go runtime loads at start-up for ProcessPrng; then a
#      stand-in DLL made by .ci/bcryptprimitives.go goes into the prefix.
#   5. Runs each test binary with MIXDESK_REQUIRE_KEYRING=1 (a keyring that
#      does not answer fails the tests) under a time limit of
#      WINE_TEST_TIMEOUT seconds (default 300), then stops the prefix's
#      wineserver and deletes the directory, also on failure or a signal.
#
# Exit status: 0 when every binary passed; 1 when tests failed; 124 when a
# binary ran out of time; 125 when Wine could not be set up (the reason is
# printed on stderr); 2 on a usage error. WK_DEBUG=1 prints each step.
set -u

me=wine-keystore
say() { printf '%s: %s\n' "$me" "$*" >&2; }
debug() { if [ "${WK_DEBUG:-}" = 1 ]; then say "$@"; fi; }
fail() {
	say "$*"
	exit 125
}

case ${1:-} in
-h | --help)
	sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
[ "$(uname -s)" = Linux ] || fail "this script runs Windows binaries under Wine on Linux, not on $(uname -s)"
[ "$(uname -m)" = x86_64 ] || fail "Wine runs the x86-64 Windows binaries on an x86-64 machine only, not on $(uname -m)"
timeout_s=${WINE_TEST_TIMEOUT:-300}
case $timeout_s in '' | *[!0-9]*) fail "WINE_TEST_TIMEOUT must be a number of seconds, not '$timeout_s'" ;; esac
[ "$timeout_s" -ge 30 ] || fail "WINE_TEST_TIMEOUT must be at least 30 seconds, not $timeout_s"

cd "$(dirname "${BASH_SOURCE[0]}")/.." || fail "cannot enter the repository"
export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null 2>&1 || fail "go is not installed"
started=$SECONDS

# --- private directory and cleanup -------------------------------------------
parent=${TMPDIR:-/tmp}
[ -d "$parent" ] || parent=/tmp
dir=$(mktemp -d "$parent/mixdesk-wine.XXXXXXXX") || fail "cannot create a temporary directory in $parent"
chmod 700 "$dir"
wineserver=
test_pid=

cleanup() {
	if [ -n "$test_pid" ]; then
		kill -TERM "$test_pid" 2>/dev/null
		wait "$test_pid" 2>/dev/null
	fi
	# Stops every Wine process of this prefix (and only of this prefix).
	if [ -n "$wineserver" ] && [ -d "$dir/prefix" ]; then
		WINEPREFIX="$dir/prefix" "$wineserver" -k >/dev/null 2>&1
		WINEPREFIX="$dir/prefix" "$wineserver" -w >/dev/null 2>&1
	fi
	rm -rf "$dir"
}
on_signal() {
	trap - HUP INT TERM
	exit "$1"
}
trap cleanup EXIT
trap 'on_signal 129' HUP
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# --- 1. Wine -----------------------------------------------------------------
find_wine() {
	local c
	for c in /usr/lib/wine/wine64 /usr/lib/wine/wine "$(command -v wine64 2>/dev/null)" "$(command -v wine 2>/dev/null)"; do
		if [ -n "$c" ] && [ -x "$c" ]; then
			printf '%s\n' "$c"
			return 0
		fi
	done
	return 1
}
find_wineserver() {
	local c
	for c in /usr/lib/wine/wineserver64 /usr/lib/wine/wineserver "$(command -v wineserver 2>/dev/null)"; do
		if [ -n "$c" ] && [ -x "$c" ]; then
			printf '%s\n' "$c"
			return 0
		fi
	done
	return 1
}

if ! wine=$(find_wine); then
	command -v apt-get >/dev/null 2>&1 || fail "Wine is needed and there is no apt-get to install it"
	sudo=
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
			sudo="sudo -n"
		else
			fail "wine64 must be installed; run as root (or with passwordless sudo) to let this script install it"
		fi
	fi
	say "installing wine64 with apt-get"
	t0=$SECONDS
	apt_log=$dir/apt.log
	# shellcheck disable=SC2086 # $sudo is empty or "sudo -n"
	if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >"$apt_log" 2>&1; then
		say "apt-get update failed; trying the install with the current package lists"
	fi
	# shellcheck disable=SC2086
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		-o DPkg::Lock::Timeout=300 --no-install-recommends wine64 </dev/null >>"$apt_log" 2>&1 ||
		fail "apt-get install wine64 failed: $(tail -n 15 "$apt_log" | tr '\n' ' ')"
	wine=$(find_wine) || fail "wine64 was installed but no Wine loader was found"
	say "installed wine64 in $((SECONDS - t0))s"
fi
wineserver=$(find_wineserver) || fail "no wineserver next to $wine"
debug "Wine loader $wine ($("$wine" --version 2>/dev/null)), server $wineserver"

# --- 2. test binaries (and the DLL of step 4; go runs before HOME moves) ----
t0=$SECONDS
mkdir "$dir/bin" || fail "cannot create $dir/bin"
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go test -c -o "$dir/bin/" ./keystore/... ||
	fail "building the Windows test binaries failed"
go run .ci/bcryptprimitives.go "$dir/bcryptprimitives.dll" ||
	fail "building the bcryptprimitives.dll stand-in failed"
shopt -s nullglob
binaries=("$dir"/bin/*.test.exe)
shopt -u nullglob
[ "${#binaries[@]}" -gt 0 ] || fail "go test -c produced no Windows test binary"
debug "built ${#binaries[@]} test binaries in $((SECONDS - t0))s"

# --- 3. the Wine prefix -------------------------------------------------------
t0=$SECONDS
mkdir -m 700 "$dir/prefix" "$dir/home" "$dir/tmp" || fail "cannot create the Wine prefix directory"
# TMPDIR: this Wine keeps its server socket in $TMPDIR/wine-XXXXXX/.
export WINEPREFIX="$dir/prefix" HOME="$dir/home" TMPDIR="$dir/tmp" WINEARCH=win64 WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree=;mshtml=;winemenubuilder.exe=d"
export XDG_CONFIG_HOME="$dir/home/.config" XDG_DATA_HOME="$dir/home/.local/share" XDG_CACHE_HOME="$dir/home/.cache"
unset DISPLAY WAYLAND_DISPLAY
timeout -k 10 180 "$wine" wineboot -i </dev/null >"$dir/wineboot.log" 2>&1 ||
	fail "wineboot -i failed (status $?): $(tail -n 15 "$dir/wineboot.log" | tr '\n' ' ')"
system32=$WINEPREFIX/drive_c/windows/system32
[ -f "$system32/advapi32.dll" ] ||
	fail "wineboot left no system32/advapi32.dll in the prefix: $(tail -n 15 "$dir/wineboot.log" | tr '\n' ' ')"
debug "prefix ready in $((SECONDS - t0))s"

# --- 4. bcryptprimitives.dll ---------------------------------------------------
if [ ! -f "$system32/bcryptprimitives.dll" ]; then
	debug "this Wine has no bcryptprimitives.dll; adding the ProcessPrng stand-in"
	cp "$dir/bcryptprimitives.dll" "$system32/" || fail "cannot copy bcryptprimitives.dll into the prefix"
fi

# --- 5. the tests ---------------------------------------------------------------
status=0
for exe in "${binaries[@]}"; do
	name=$(basename "$exe")
	t0=$SECONDS
	# The binary runs in the background so that a signal to this script is
	# handled at once; its exit status is the Windows process's.
	MIXDESK_REQUIRE_KEYRING=1 timeout -k 10 "$timeout_s" "$wine" "$exe" -test.count=1 -test.timeout="$((timeout_s - 10))s" "$@" </dev/null &
	test_pid=$!
	wait "$test_pid"
	rc=$?
	test_pid=
	case $rc in
	0) say "$name passed under Wine in $((SECONDS - t0))s" ;;
	124 | 137)
		say "$name ran out of time (${timeout_s}s) under Wine"
		status=124
		;;
	*)
		say "$name failed under Wine (status $rc)"
		[ "$status" -ne 0 ] || status=1
		;;
	esac
done
say "done in $((SECONDS - started))s"
exit "$status"
