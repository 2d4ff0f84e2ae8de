package keystore

import "github.com/zalando/go-keyring"

// Backend is a keyring: a flat store of secret strings addressed by service
// and user name. Get and Delete report a missing entry with an error that
// matches keyring.ErrNotFound or ErrNotFound; Set creates or replaces.
//
// A Backend need not be fast or bounded: the Store runs every call under a
// timeout. It must be safe for concurrent use, since a call that a Store
// abandoned after its timeout may still be running when the next one starts
// (on another Store, or after it returns).
type Backend interface {
	Get(service, user string) (string, error)
	Set(service, user, value string) error
	Delete(service, user string) error
}

// System returns the operating system's keyring, reached through
// github.com/zalando/go-keyring: the macOS Keychain, Windows Credential
// Manager, or a freedesktop Secret Service over the D-Bus session bus on
// Linux and the BSDs.
//
// On Linux and the BSDs, when DBUS_SESSION_BUS_ADDRESS is unset and no bus
// socket exists under /run/user/UID, every call fails at once with ErrNoBus
// instead of letting the D-Bus library start a bus of its own with
// dbus-launch (which leaves stray daemons behind and can block for minutes).
func System() Backend { return systemBackend{} }

type systemBackend struct{}

func (systemBackend) Get(service, user string) (string, error) {
	if err := checkPlatform(); err != nil {
		return "", err
	}
	return keyring.Get(service, user)
}

func (systemBackend) Set(service, user, value string) error {
	if err := checkPlatform(); err != nil {
		return err
	}
	return keyring.Set(service, user, value)
}

func (systemBackend) Delete(service, user string) error {
	if err := checkPlatform(); err != nil {
		return err
	}
	return keyring.Delete(service, user)
}
