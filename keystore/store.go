package keystore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"
)

// DefaultCallTimeout bounds each keyring call when Options.CallTimeout is 0.
// A healthy keyring answers in well under a second.
const DefaultCallTimeout = 5 * time.Second

// Options configure a Store. The zero value is the production setting.
type Options struct {
	// Service is the keyring service name of every entry (default
	// DefaultService). Tests use their own, so that they never touch the
	// operator's profiles.
	Service string
	// CallTimeout bounds every single keyring call (default
	// DefaultCallTimeout). A whole operation makes several calls and is
	// bounded by its context as well.
	CallTimeout time.Duration
}

// Store keeps profiles in a Backend. It is safe for concurrent use: its
// operations run one at a time. Two processes editing the same keyring at
// once can lose each other's index updates (the last writer wins).
type Store struct {
	b       Backend
	service string
	timeout time.Duration

	sem     chan struct{} // held for the length of one operation
	running atomic.Int32  // keyring calls in flight, abandoned ones included
}

// New returns a Store over b. It fails only on a nil Backend or an invalid
// Options.Service (1 to 64 characters of A-Z, a-z, 0-9, '-', '_', '.').
func New(b Backend, o Options) (*Store, error) {
	if b == nil {
		return nil, errors.New("keystore: no backend")
	}
	svc := o.Service
	if svc == "" {
		svc = DefaultService
	}
	if !validService(svc) {
		return nil, errors.New("keystore: invalid service name; use 1 to 64 characters of A-Z, a-z, 0-9, '-', '_' or '.'")
	}
	t := o.CallTimeout
	if t <= 0 {
		t = DefaultCallTimeout
	}
	return &Store{b: b, service: svc, timeout: t, sem: make(chan struct{}, 1)}, nil
}

func validService(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// Service is the keyring service name the Store writes under.
func (s *Store) Service() string { return s.service }

// lock takes the Store for one operation, or gives up when ctx ends.
func (s *Store) lock(ctx context.Context, op, name string) error {
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &Error{Op: op, Profile: name, Kind: ErrTimeout, Err: ctx.Err(),
				Detail: "another keyring operation of mixdesk did not finish in time; try again"}
		}
		return s.wrap(op, name, ctx.Err())
	}
}

func (s *Store) unlock() { <-s.sem }

// run calls f in its own goroutine and waits for it at most s.timeout (and
// never past ctx). A call that does not return in time is abandoned: it
// keeps running, its result is dropped, and until it returns every new call
// fails at once with errStillWaiting.
func (s *Store) run(ctx context.Context, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.running.Load() > 0 {
		return errStillWaiting
	}
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	done := make(chan error, 1)
	s.running.Add(1)
	go func() {
		var err error
		defer func() {
			if r := recover(); r != nil {
				// The panic value is not shown: it could quote a value.
				err = errors.New("the keyring library failed unexpectedly")
			}
			s.running.Add(-1)
			done <- err
		}()
		err = f()
	}()
	select {
	case err := <-done:
		return err
	case <-cctx.Done():
		select {
		case err := <-done: // it finished at the last moment
			return err
		default:
		}
		switch {
		case errors.Is(ctx.Err(), context.Canceled):
			return context.Canceled
		case ctx.Err() != nil:
			return &deadlineError{} // the caller's deadline
		}
		return &deadlineError{limit: s.timeout}
	}
}

// deadlineError is a call abandoned at its deadline: the Store's own per-call
// limit, or the caller's context deadline (limit 0).
type deadlineError struct{ limit time.Duration }

func (e *deadlineError) Error() string { return "keyring call timed out" }
func (e *deadlineError) Unwrap() error { return context.DeadlineExceeded }

// Save validates p and stores it as profile name. Validation happens before
// any keyring call: a bad field returns a *mixin.FieldError naming it and
// nothing is written. An existing profile is replaced only when overwrite is
// set (otherwise the error matches ErrExists); a failed overwrite leaves the
// old profile as it was. The first profile saved becomes the default.
// When p.KeepPIN is false the PIN is not stored.
func (s *Store) Save(ctx context.Context, name string, p Profile, overwrite bool) error {
	const op = "save"
	if err := s.checkName(op, name); err != nil {
		return err
	}
	rec, err := p.normalise()
	if err != nil {
		return err
	}
	parts, m, err := encodeRecord(rec)
	if err != nil {
		return err
	}
	if err := s.lock(ctx, op, name); err != nil {
		return err
	}
	defer s.unlock()

	cur, found, err := s.readManifest(ctx, op, name)
	if err != nil && !errors.Is(err, ErrCorrupt) {
		return err
	}
	if found && !overwrite {
		return &Error{Op: op, Profile: name, Kind: ErrExists,
			Detail: fmt.Sprintf("a profile named %q already exists; confirm to overwrite it, or choose another name", name)}
	}
	idx, err := s.readIndexForUpdate(ctx, op)
	if err != nil {
		return err
	}
	// The name is listed before any part is written, so nothing stored is
	// ever left out of the list.
	added := !idx.has(name)
	if added && len(idx.Profiles) >= MaxProfiles {
		return &Error{Op: op, Profile: name, Kind: ErrLimit,
			Detail: fmt.Sprintf("there are already %d profiles, the most mixdesk keeps; delete one first", MaxProfiles)}
	}
	next := idx.with(name)
	if next.Default == "" {
		next.Default = name
	}
	if !next.equal(idx) {
		if err := s.writeIndex(ctx, op, next); err != nil {
			return err
		}
	}

	slot := "a"
	if found && cur.Slot == "a" {
		slot = "b"
	}
	if undone, err := s.writeProfile(ctx, name, slot, parts, m); err != nil {
		if undone && !found && !next.equal(idx) {
			// A new profile that left nothing behind is unlisted again.
			_ = s.writeIndex(context.WithoutCancel(ctx), op, idx)
		}
		return s.wrap(op, name, err)
	}
	return nil
}

// Load reads profile name and checks it: the manifest, every part and the
// checksum must agree, and the credentials must pass mixin's checks again.
// A missing profile gives an error matching ErrNotFound; an incomplete or
// damaged one an error matching ErrCorrupt (with the *mixin.FieldError of a
// bad field inside, for errors.As). When the profile does not keep its PIN,
// the returned PIN is empty.
func (s *Store) Load(ctx context.Context, name string) (Profile, error) {
	const op = "load"
	if err := s.checkName(op, name); err != nil {
		return Profile{}, err
	}
	if err := s.lock(ctx, op, name); err != nil {
		return Profile{}, err
	}
	defer s.unlock()
	return s.load(ctx, op, name)
}

func (s *Store) load(ctx context.Context, op, name string) (Profile, error) {
	m, found, err := s.readManifest(ctx, op, name)
	if err != nil {
		return Profile{}, err
	}
	if !found {
		return Profile{}, notFound(op, name)
	}
	parts := make([]string, m.Parts)
	for i := range parts {
		v, err := s.get(ctx, partUser(name, m.Slot, i))
		if err != nil {
			if isNotFound(err) {
				return Profile{}, corrupt(op, name, fmt.Sprintf("part %d of %d is missing (it was not completely saved)", i+1, m.Parts), nil)
			}
			return Profile{}, s.wrap(op, name, err)
		}
		parts[i] = v
	}
	rec, err := decodeRecord(m, parts)
	if err != nil {
		return Profile{}, corrupt(op, name, err.Error(), nil)
	}
	p := rec.profile()
	switch {
	case p.KeepPIN && p.PIN == "":
		return Profile{}, corrupt(op, name, "it keeps the PIN but holds none", nil)
	case !p.KeepPIN && p.PIN != "":
		return Profile{}, corrupt(op, name, "it holds a PIN although the PIN is not to be kept", nil)
	}
	if err := p.Validate(); err != nil {
		return Profile{}, corrupt(op, name, "its "+err.Error(), err)
	}
	return p, nil
}

// Exists reports whether profile name has a manifest in the keyring (a
// damaged one included).
func (s *Store) Exists(ctx context.Context, name string) (bool, error) {
	const op = "check"
	if err := s.checkName(op, name); err != nil {
		return false, err
	}
	if err := s.lock(ctx, op, name); err != nil {
		return false, err
	}
	defer s.unlock()
	_, found, err := s.readManifest(ctx, op, name)
	if err != nil && !errors.Is(err, ErrCorrupt) {
		return false, err
	}
	return found, nil
}

// List returns the profile names, sorted. A name whose save did not
// complete may be listed; Load then says so.
func (s *Store) List(ctx context.Context) ([]string, error) {
	const op = "list"
	if err := s.lock(ctx, op, ""); err != nil {
		return nil, err
	}
	defer s.unlock()
	idx, err := s.readIndex(ctx, op)
	if err != nil {
		return nil, err
	}
	return slices.Clone(idx.Profiles), nil
}

// Default returns the default profile's name, or "" when none is set.
func (s *Store) Default(ctx context.Context) (string, error) {
	const op = "default"
	if err := s.lock(ctx, op, ""); err != nil {
		return "", err
	}
	defer s.unlock()
	idx, err := s.readIndex(ctx, op)
	if err != nil {
		return "", err
	}
	return idx.Default, nil
}

// SetDefault makes the existing profile name the default; "" clears the
// default.
func (s *Store) SetDefault(ctx context.Context, name string) error {
	const op = "set default"
	if name != "" {
		if err := s.checkName(op, name); err != nil {
			return err
		}
	}
	if err := s.lock(ctx, op, name); err != nil {
		return err
	}
	defer s.unlock()
	idx, err := s.readIndexForUpdate(ctx, op)
	if err != nil {
		return err
	}
	next := idx
	if name != "" {
		_, found, err := s.readManifest(ctx, op, name)
		if err != nil && !errors.Is(err, ErrCorrupt) {
			return err
		}
		if !found {
			return notFound(op, name)
		}
		if !idx.has(name) && len(idx.Profiles) >= MaxProfiles {
			return &Error{Op: op, Profile: name, Kind: ErrLimit,
				Detail: fmt.Sprintf("there are already %d profiles, the most mixdesk keeps; delete one first", MaxProfiles)}
		}
		next = idx.with(name)
	}
	next.Default = name
	if next.equal(idx) {
		return nil
	}
	return s.writeIndex(ctx, op, next)
}

// Delete removes profile name: its manifest first (so it stops loading at
// once), then every part of both slots, then its place in the list (and the
// default, if it was the default). It also clears the remains of a profile
// whose save did not complete. A name with nothing stored gives an error
// matching ErrNotFound.
func (s *Store) Delete(ctx context.Context, name string) error {
	const op = "delete"
	if err := s.checkName(op, name); err != nil {
		return err
	}
	if err := s.lock(ctx, op, name); err != nil {
		return err
	}
	defer s.unlock()
	idx, ierr := s.readIndex(ctx, op)
	if ierr != nil && !errors.Is(ierr, ErrCorrupt) {
		return ierr
	}
	listed := ierr != nil || idx.has(name) // a damaged list may name it
	_, found, err := s.readManifest(ctx, op, name)
	if err != nil && !errors.Is(err, ErrCorrupt) {
		return err
	}
	if !found && !listed {
		return notFound(op, name)
	}
	if err := s.removeEntries(ctx, name); err != nil {
		return s.wrap(op, name, err)
	}
	if ierr == nil && idx.has(name) {
		return s.writeIndex(ctx, op, idx.without(name))
	}
	return nil
}

// Rename moves profile oldName to newName, which must not exist (the error
// matches ErrExists). The profile is loaded and checked first, written under
// the new name, and only then removed under the old one; the default follows
// it. If removing the old entries fails, the error says so and both names
// stay listed; deleting the old name finishes the job.
func (s *Store) Rename(ctx context.Context, oldName, newName string) error {
	const op = "rename"
	if err := s.checkName(op, oldName); err != nil {
		return err
	}
	if err := s.checkName(op, newName); err != nil {
		return err
	}
	if err := s.lock(ctx, op, oldName); err != nil {
		return err
	}
	defer s.unlock()
	p, err := s.load(ctx, op, oldName)
	if err != nil {
		return err
	}
	if oldName == newName {
		return nil
	}
	_, found, err := s.readManifest(ctx, op, newName)
	if err != nil && !errors.Is(err, ErrCorrupt) {
		return err
	}
	if found {
		return &Error{Op: op, Profile: oldName, Kind: ErrExists,
			Detail: fmt.Sprintf("a profile named %q already exists; delete it first or choose another name", newName)}
	}
	rec, err := p.normalise()
	if err != nil {
		return corrupt(op, oldName, "its "+err.Error(), err)
	}
	parts, m, err := encodeRecord(rec)
	if err != nil {
		return s.wrap(op, oldName, err)
	}
	idx, err := s.readIndexForUpdate(ctx, op)
	if err != nil {
		return err
	}
	// Both names are listed for a moment, so a rename needs room for one
	// more name than a save.
	if !idx.has(newName) && len(idx.Profiles) > MaxProfiles {
		return &Error{Op: op, Profile: oldName, Kind: ErrLimit,
			Detail: fmt.Sprintf("there are already %d profiles, the most mixdesk keeps; delete one first", MaxProfiles)}
	}
	withNew := idx.with(newName)
	if !withNew.equal(idx) {
		if err := s.writeIndex(ctx, op, withNew); err != nil {
			return err
		}
	}
	if undone, err := s.writeProfile(ctx, newName, "a", parts, m); err != nil {
		if undone && !withNew.equal(idx) {
			_ = s.writeIndex(context.WithoutCancel(ctx), op, idx)
		}
		return s.wrap(op, newName, err)
	}
	if err := s.removeEntries(ctx, oldName); err != nil {
		kind, detail := classify(err, s.timeout)
		return &Error{Op: op, Profile: oldName, Kind: kind, Err: err,
			Detail: fmt.Sprintf("the profile was copied to %q, but removing %q failed (%s); delete %q to finish", newName, oldName, detail, oldName)}
	}
	final := withNew.without(oldName)
	if withNew.Default == oldName {
		final.Default = newName
	}
	return s.writeIndex(ctx, op, final)
}

// Probe checks that the keyring answers, for use at start-up: it reads the
// index entry (a missing one is fine). The error, matching ErrUnavailable
// or one of its kinds, is the one line to show the operator.
func (s *Store) Probe(ctx context.Context) error {
	const op = "probe"
	if err := s.lock(ctx, op, ""); err != nil {
		return err
	}
	defer s.unlock()
	_, err := s.get(ctx, IndexUser)
	if err != nil && !isNotFound(err) {
		return s.wrap(op, "", err)
	}
	return nil
}
