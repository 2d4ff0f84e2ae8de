#!/usr/bin/env bash
# with-secret-service.sh - run one command inside a private D-Bus session bus
# that has an unlocked Secret Service (gnome-keyring), so that mixdesk's
# keystore tests reach a real keyring on a headless Linux machine.
#
# Usage:  bash .ci/with-secret-service.sh CMD [ARG...]
#   e.g.  bash .ci/with-secret-service.sh env MIXDESK_REQUIRE_KEYRING=1 go test -race ./keystore/...
#
# Steps:
#   1. If dbus-daemon, dbus-send or gnome-keyring-daemon is missing, runs
#      apt-get update and installs dbus-daemon dbus-bin gnome-keyring
#      (never dbus-x11, whose autolaunch starts stray buses). Needs root or
#      passwordless sudo only in that case.
#   2. Starts a dbus-daemon with a minimal configuration (no service
#      activation) on a socket in a fresh private temporary directory.
#   3. Starts gnome-keyring-daemon (secrets component only) on that bus with
#      its keyring files in the same directory; --unlock with a random
#      password creates the "login" collection and leaves it unlocked. The
#      user's own keyrings are never touched.
#   4. Waits until org.freedesktop.secrets is owned and the login collection
#      reports Locked=false, then runs CMD with DBUS_SESSION_BUS_ADDRESS set.
#   5. Stops both daemons by PID and deletes the directory, also when CMD
#      fails or the script gets HUP, INT or TERM (forwarded to CMD first).
#
# Exit status: CMD's; 125 when the Secret Service could not be set up (the
# reason is printed on stderr); 2 on a usage error.
# WSS_DEBUG=1 prints each step on stderr.
set -u

me=with-secret-service
say() { printf '%s: %s\n' "$me" "$*" >&2; }
debug() { if [ "${WSS_DEBUG:-}" = 1 ]; then say "$@"; fi; }
fail() {
	say "$*"
	exit 125
}

case ${1:-} in
'' | -h | --help)
	sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
[ "$(uname -s)" = Linux ] || fail "this script sets up a Linux Secret Service; on $(uname -s) use the system keyring directly"

# --- private directory and cleanup -------------------------------------------
# A unix socket path must stay under 108 bytes, so a long TMPDIR is not used.
parent=${TMPDIR:-/tmp}
[ "${#parent}" -le 70 ] && [ -d "$parent" ] || parent=/tmp
dir=$(mktemp -d "$parent/mixdesk-ss.XXXXXXXX") || fail "cannot create a temporary directory in $parent"
chmod 700 "$dir"
bus_pid=
keyring_pid=
cmd_pid=

stop_pid() { # stop_pid PID: TERM, up to 2 s grace, then KILL; reaps the child
	local pid=$1 n=0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 40 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
cleanup() {
	stop_pid "$cmd_pid"
	stop_pid "$keyring_pid"
	stop_pid "$bus_pid"
	rm -rf "$dir"
}
on_signal() { # on_signal STATUS: forward TERM to the command, then exit
	trap - HUP INT TERM
	if [ -n "$cmd_pid" ]; then
		kill -TERM "$cmd_pid" 2>/dev/null
	fi
	exit "$1"
}
trap cleanup EXIT
trap 'on_signal 129' HUP
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# --- 1. packages ---------------------------------------------------------------
need=
command -v dbus-daemon >/dev/null 2>&1 || need=1
command -v dbus-send >/dev/null 2>&1 || need=1
command -v gnome-keyring-daemon >/dev/null 2>&1 || need=1
if [ -n "$need" ]; then
	command -v apt-get >/dev/null 2>&1 ||
		fail "dbus-daemon, dbus-send and gnome-keyring-daemon are needed and there is no apt-get to install them"
	sudo=
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
			sudo="sudo -n"
		else
			fail "dbus-daemon, dbus-bin and gnome-keyring must be installed; run as root (or with passwordless sudo) to let this script install them"
		fi
	fi
	say "installing dbus-daemon dbus-bin gnome-keyring with apt-get"
	started=$SECONDS
	apt_log=$dir/apt.log
	# shellcheck disable=SC2086 # $sudo is empty or "sudo -n"
	if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >"$apt_log" 2>&1; then
		say "apt-get update failed; trying the install with the current package lists"
	fi
	# shellcheck disable=SC2086
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		-o DPkg::Lock::Timeout=300 --no-install-recommends \
		dbus-daemon dbus-bin gnome-keyring </dev/null >>"$apt_log" 2>&1 ||
		fail "apt-get install failed: $(tail -n 15 "$apt_log" | tr '\n' ' ')"
	say "installed in $((SECONDS - started))s"
fi

# --- 2. private session bus ------------------------------------------------------
socket=$dir/bus
address=unix:path=$socket
cat >"$dir/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>$address</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
dbus-daemon --config-file="$dir/bus.conf" --nofork --nopidfile </dev/null >"$dir/bus.log" 2>&1 &
bus_pid=$!
n=0
until [ -S "$socket" ]; do
	kill -0 "$bus_pid" 2>/dev/null || fail "dbus-daemon exited: $(tr '\n' ' ' <"$dir/bus.log")"
	n=$((n + 1))
	[ "$n" -le 500 ] || fail "dbus-daemon did not open its socket within 10s"
	sleep 0.02
done
debug "session bus at $address (pid $bus_pid)"

# --- 3. gnome-keyring with an unlocked login collection ---------------------------
mkdir -m 700 "$dir/data" "$dir/config" "$dir/runtime"
password=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
[ -n "$password" ] || fail "cannot read /dev/urandom"
# The password goes through a pipe, never a file or the argument list.
printf '%s' "$password" |
	env -u GNOME_KEYRING_CONTROL -u SSH_AUTH_SOCK -u DBUS_SESSION_BUS_PID \
		DBUS_SESSION_BUS_ADDRESS="$address" \
		XDG_DATA_HOME="$dir/data" XDG_CONFIG_HOME="$dir/config" XDG_RUNTIME_DIR="$dir/runtime" \
		gnome-keyring-daemon --foreground --unlock --components=secrets >"$dir/keyring.log" 2>&1 &
keyring_pid=$!
unset password

call() { # call ARGS...: dbus-send on the private bus, reply on one line
	DBUS_SESSION_BUS_ADDRESS=$address dbus-send --session --print-reply=literal \
		--reply-timeout=5000 "$@" 2>&1 | tr -s ' \n' '  '
}
n=0
owner=
locked=
while :; do
	kill -0 "$keyring_pid" 2>/dev/null || fail "gnome-keyring-daemon exited: $(tr '\n' ' ' <"$dir/keyring.log")"
	owner=$(call --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets)
	case $owner in
	*true*)
		locked=$(call --dest=org.freedesktop.secrets /org/freedesktop/secrets/collection/login \
			org.freedesktop.DBus.Properties.Get \
			string:org.freedesktop.Secret.Collection string:Locked)
		case $locked in *false*) break ;; esac
		;;
	esac
	n=$((n + 1))
	[ "$n" -le 1000 ] ||
		fail "Secret Service not ready within 20s (name owned: ${owner:-?}; login locked: ${locked:-?}): $(tr '\n' ' ' <"$dir/keyring.log")"
	sleep 0.02
done
debug "Secret Service ready (gnome-keyring-daemon pid $keyring_pid); login collection unlocked"

# --- 4. the command ----------------------------------------------------------------
export DBUS_SESSION_BUS_ADDRESS=$address
unset DBUS_SESSION_BUS_PID DBUS_SESSION_BUS_WINDOWID DBUS_STARTER_ADDRESS DBUS_STARTER_BUS_TYPE
# The command runs in the background so that a signal to this script is
# handled at once (bash defers traps while a foreground command runs);
# stdin is passed through explicitly.
exec 3<&0
"$@" <&3 3<&- &
cmd_pid=$!
exec 3<&-
wait "$cmd_pid"
status=$?
cmd_pid=
debug "command exited with status $status"
exit "$status"
