package keystore

import (
	"slices"
	"sync"

	"github.com/zalando/go-keyring"
)

// Sizes at which real keyrings refuse a value, for Memory.SetMaxSize.
const (
	// MaxSizeWindows is Windows Credential Manager's limit (bytes).
	MaxSizeWindows = 2560
	// MaxSizeMacOS is roughly where the macOS Keychain tool starts to
	// refuse a value (bytes; the exact limit depends on the names).
	MaxSizeMacOS = 3000
)

// Op names a Backend call, for a Fault.
type Op string

// The Backend calls.
const (
	OpGet    Op = "get"
	OpSet    Op = "set"
	OpDelete Op = "delete"
)

// Fault decides the fate of one Memory call before it runs: a non-nil error
// fails the call without touching the store. It may block, to simulate a
// keyring that hangs. To simulate a keyring in a given state, return
// ErrNoBus, ErrNoProvider, ErrLocked, ErrTimeout or ErrUnavailable (or
// errors a real keyring returns).
type Fault func(op Op, service, user string) error

// Memory is an in-memory Backend for tests, in this package and others. It
// is safe for concurrent use. Beyond storing values it can refuse values
// over a size (SetMaxSize) and fail or block chosen calls (SetFault). Its
// errors are the keyring library's (keyring.ErrNotFound,
// keyring.ErrSetDataTooBig), as the real keyring's are.
type Memory struct {
	mu      sync.Mutex
	data    map[string]map[string]string
	maxSize int
	fault   Fault
	calls   int
}

// NewMemory returns an empty Memory with no size limit and no faults.
func NewMemory() *Memory {
	return &Memory{data: make(map[string]map[string]string)}
}

// SetMaxSize makes Set refuse values longer than n bytes with
// keyring.ErrSetDataTooBig, as Windows (MaxSizeWindows) and macOS
// (MaxSizeMacOS) do. n <= 0 removes the limit.
func (m *Memory) SetMaxSize(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maxSize = n
}

// SetFault installs f (nil removes it). f runs outside Memory's lock, so it
// may block without blocking other calls.
func (m *Memory) SetFault(f Fault) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fault = f
}

func (m *Memory) before(op Op, service, user string) error {
	m.mu.Lock()
	m.calls++
	f := m.fault
	m.mu.Unlock()
	if f != nil {
		return f(op, service, user)
	}
	return nil
}

// Get returns the value of an entry, or keyring.ErrNotFound.
func (m *Memory) Get(service, user string) (string, error) {
	if err := m.before(OpGet, service, user); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.data[service][user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

// Set creates or replaces an entry.
func (m *Memory) Set(service, user, value string) error {
	if err := m.before(OpSet, service, user); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.maxSize > 0 && len(value) > m.maxSize {
		return keyring.ErrSetDataTooBig
	}
	if m.data[service] == nil {
		m.data[service] = make(map[string]string)
	}
	m.data[service][user] = value
	return nil
}

// Delete removes an entry, or returns keyring.ErrNotFound.
func (m *Memory) Delete(service, user string) error {
	if err := m.before(OpDelete, service, user); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.data[service][user]; !ok {
		return keyring.ErrNotFound
	}
	delete(m.data[service], user)
	if len(m.data[service]) == 0 {
		delete(m.data, service)
	}
	return nil
}

// Users returns the user names stored under service, sorted (names only,
// never values).
func (m *Memory) Users(service string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for u := range m.data[service] {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// Calls returns how many calls (Get, Set, Delete) have been made,
// failed ones included.
func (m *Memory) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}
