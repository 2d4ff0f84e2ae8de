//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keystore

import (
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/godbus/dbus/v5"
)

// checkPlatform reports ErrNoBus when the D-Bus library would find no
// session bus and fall back to autolaunching one. It looks where the library
// looks: DBUS_SESSION_BUS_ADDRESS, then /run/user/UID/bus and
// /run/user/UID/dbus-session.
func checkPlatform() error {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return nil
	}
	dir := "/run/user/" + strconv.Itoa(os.Getuid())
	for _, name := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
			return nil
		}
	}
	return ErrNoBus
}

// classifyPlatform recognises the D-Bus and Secret Service failures.
func classifyPlatform(err error) error {
	name := ""
	var de dbus.Error
	var dp *dbus.Error
	switch {
	case errors.As(err, &de):
		name = de.Name
	case errors.As(err, &dp) && dp != nil:
		name = dp.Name
	}
	switch {
	case name == "":
	case name == "org.freedesktop.DBus.Error.ServiceUnknown",
		name == "org.freedesktop.DBus.Error.NameHasNoOwner",
		name == "org.freedesktop.DBus.Error.TimedOut", // activation timed out
		strings.HasPrefix(name, "org.freedesktop.DBus.Error.Spawn."):
		return ErrNoProvider
	case name == "org.freedesktop.DBus.Error.NoReply",
		name == "org.freedesktop.DBus.Error.Timeout":
		return ErrTimeout
	case name == "org.freedesktop.Secret.Error.IsLocked",
		name == "org.freedesktop.Secret.Error.NoSuchObject",
		name == "org.freedesktop.DBus.Error.UnknownObject":
		return ErrLocked
	default:
		return nil
	}

	var ee *exec.Error // dbus-launch is not installed
	var oe *net.OpError
	switch {
	case errors.As(err, &ee), errors.As(err, &oe),
		errors.Is(err, dbus.ErrClosed),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ErrNoBus
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "dbus: ") &&
		(strings.Contains(msg, "session bus") || strings.Contains(msg, "authentication") || strings.Contains(msg, "bus address")) {
		return ErrNoBus
	}
	return nil
}
