package keystore

import (
	"context"
	"errors"
	"fmt"
)

// The keyring entries behind a profile: reading and writing the parts,
// the manifest and the index, with the Store's timeout and errors.

func (s *Store) get(ctx context.Context, user string) (string, error) {
	var v string
	err := s.run(ctx, func() error {
		var err error
		v, err = s.b.Get(s.service, user)
		return err
	})
	if err != nil {
		return "", err
	}
	return v, nil
}

func (s *Store) set(ctx context.Context, user, value string) error {
	if len(value) >= MaxEntrySize {
		// Every value is built by this package within the limit; this
		// guards the guarantee that each entry fits every OS.
		return ErrTooLarge
	}
	return s.run(ctx, func() error { return s.b.Set(s.service, user, value) })
}

func (s *Store) del(ctx context.Context, user string) error {
	return s.run(ctx, func() error { return s.b.Delete(s.service, user) })
}

// delIfPresent deletes an entry; a missing one is not an error.
func (s *Store) delIfPresent(ctx context.Context, user string) error {
	err := s.del(ctx, user)
	if err != nil && isNotFound(err) {
		return nil
	}
	return err
}

func isNotFound(err error) bool {
	k, _ := classify(err, 0)
	return k == ErrNotFound
}

// wrap turns a raw error into an *Error for op on profile name. An *Error
// passes through with Op and Profile filled in.
func (s *Store) wrap(op, name string, err error) error {
	if err == nil {
		return nil
	}
	var ke *Error
	if errors.As(err, &ke) {
		c := *ke
		if c.Op == "" || c.Op == "check name" {
			c.Op = op
		}
		if c.Profile == "" && c.Kind != ErrInvalidName {
			c.Profile = name
		}
		return &c
	}
	kind, detail := classify(err, s.timeout)
	return &Error{Op: op, Profile: name, Kind: kind, Detail: detail, Err: err}
}

func (s *Store) checkName(op, name string) error {
	if err := ValidateName(name); err != nil {
		return s.wrap(op, "", err)
	}
	return nil
}

func notFound(op, name string) error {
	return &Error{Op: op, Profile: name, Kind: ErrNotFound,
		Detail: fmt.Sprintf("there is no profile named %q; choose another or set it up", name)}
}

func corrupt(op, name, what string, cause error) error {
	return &Error{Op: op, Profile: name, Kind: ErrCorrupt, Err: cause,
		Detail: fmt.Sprintf("the stored profile is damaged: %s; save it again or delete it", what)}
}

// readManifest returns the profile's manifest. found is true when a
// manifest entry exists, even one that cannot be read (err then matches
// ErrCorrupt).
func (s *Store) readManifest(ctx context.Context, op, name string) (m manifest, found bool, err error) {
	v, err := s.get(ctx, manifestUser(name))
	if err != nil {
		if isNotFound(err) {
			return manifest{}, false, nil
		}
		return manifest{}, false, s.wrap(op, name, err)
	}
	m, perr := parseManifest(v)
	if perr != nil {
		return manifest{}, true, corrupt(op, name, perr.Error(), nil)
	}
	return m, true, nil
}

// readIndex returns the index; a missing one is empty. A damaged one gives
// an error matching ErrCorrupt.
func (s *Store) readIndex(ctx context.Context, op string) (index, error) {
	v, err := s.get(ctx, IndexUser)
	if err != nil {
		if isNotFound(err) {
			return index{Version: indexVersion}, nil
		}
		return index{}, s.wrap(op, "", err)
	}
	idx, perr := parseIndex(v)
	if perr != nil {
		return index{}, &Error{Op: op, Kind: ErrCorrupt,
			Detail: perr.Error() + "; saving, renaming or choosing a default profile writes a new list (profiles not in it stay in the keyring)"}
	}
	return idx, nil
}

// readIndexForUpdate is readIndex for an operation that writes the index
// back: a damaged index is replaced by an empty one.
func (s *Store) readIndexForUpdate(ctx context.Context, op string) (index, error) {
	idx, err := s.readIndex(ctx, op)
	if err != nil && errors.Is(err, ErrCorrupt) {
		return index{Version: indexVersion}, nil
	}
	return idx, err
}

func (s *Store) writeIndex(ctx context.Context, op string, idx index) error {
	v, err := idx.encode()
	if err != nil {
		return &Error{Op: op, Kind: ErrUnavailable, Detail: err.Error()}
	}
	return s.wrap(op, "", s.set(ctx, IndexUser, v))
}

// clearSlot removes every part a slot can hold, from the last down, so an
// interrupted clear leaves a prefix of parts that a later clear finds.
func (s *Store) clearSlot(ctx context.Context, name, slot string, from int) error {
	for i := maxParts - 1; i >= from; i-- {
		if err := s.delIfPresent(ctx, partUser(name, slot, i)); err != nil {
			return err
		}
	}
	return nil
}

// removeEntries deletes a profile's manifest and every part of both slots.
func (s *Store) removeEntries(ctx context.Context, name string) error {
	if err := s.delIfPresent(ctx, manifestUser(name)); err != nil {
		return err
	}
	for _, slot := range slots {
		if err := s.clearSlot(ctx, name, slot, 0); err != nil {
			return err
		}
	}
	return nil
}

// writeProfile writes parts into slot and then the manifest, which commits
// the profile, and then clears leftovers. If the commit fails it removes
// what it wrote, best effort, and returns the error and whether every part
// it wrote is gone again.
func (s *Store) writeProfile(ctx context.Context, name, slot string, parts []string, m manifest) (undone bool, err error) {
	m.Slot = slot
	mv, err := encodeManifest(m)
	if err != nil {
		return true, err
	}
	for i, p := range parts {
		if err := s.set(ctx, partUser(name, slot, i), p); err != nil {
			return s.undoParts(ctx, name, slot, i+1), err
		}
	}
	if err := s.set(ctx, manifestUser(name), mv); err != nil {
		return s.undoParts(ctx, name, slot, len(parts)), err
	}
	// Committed. What an earlier save left behind (the other slot, and
	// parts of this slot past the new end) is removed best effort; anything
	// left stays listed and goes with the next overwrite or Delete.
	if err := s.clearSlot(ctx, name, otherSlot(slot), 0); err == nil {
		_ = s.clearSlot(ctx, name, slot, len(parts))
	}
	return false, nil
}

// undoParts deletes parts [0, n) of slot, last first, best effort, and
// reports whether all are gone. It runs even when ctx has ended, each call
// still under the Store's timeout.
func (s *Store) undoParts(ctx context.Context, name, slot string, n int) bool {
	ctx = context.WithoutCancel(ctx)
	for i := n - 1; i >= 0; i-- {
		if err := s.delIfPresent(ctx, partUser(name, slot, i)); err != nil {
			return false
		}
	}
	return true
}
