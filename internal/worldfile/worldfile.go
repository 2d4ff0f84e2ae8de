// Package worldfile keeps a sandbox's world across restarts, for both
// sandboxes (mixin/sandbox and safe/sandbox): the head every saved state
// opens with (the layout's version and the seeded random source), the
// remembered token ids, the JSON written indented and read strictly, and
// the file written whole or not at all and never through a link. What a
// state holds beyond that is each sandbox's own.
package worldfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"mixdesk/internal/durable"
)

// Head opens every saved state; a sandbox's state embeds it first.
type Head struct {
	Version int    `json:"version"`
	Random  []byte `json:"random"` // the seeded source's state
}

// State is a sandbox's saved state: a struct that embeds Head.
type State interface{ head() *Head }

func (h *Head) head() *Head { return h }

// NewHead is the head of a state of layout version whose random source is
// src.
func NewHead(version int, src *rand.PCG) (Head, error) {
	random, err := src.MarshalBinary()
	if err != nil {
		return Head{}, errors.New("sandbox: saving the random source failed")
	}
	return Head{Version: version, Random: random}, nil
}

// source checks that the state is of layout version and returns its random
// source, continuing where it was saved.
func (h *Head) source(version int) (*rand.PCG, error) {
	if h.Version != version {
		return nil, fmt.Errorf("sandbox: state version %d is not supported", h.Version)
	}
	src := &rand.PCG{}
	if err := src.UnmarshalBinary(h.Random); err != nil {
		return nil, errors.New("sandbox: the state's random source is damaged")
	}
	return src, nil
}

// JTI is a token id the sandbox remembers, and when it may forget it.
type JTI struct {
	ID     string    `json:"id"`
	Forget time.Time `json:"forget"`
}

// JTIs lists the remembered token ids, sorted by id.
func JTIs(seen map[string]time.Time) []JTI {
	var out []JTI
	for _, id := range slices.Sorted(maps.Keys(seen)) {
		out = append(out, JTI{ID: id, Forget: seen[id]})
	}
	return out
}

// Remember puts the token ids of a loaded state into seen.
func Remember(seen map[string]time.Time, jtis []JTI) {
	for _, j := range jtis {
		seen[j.ID] = j.Forget
	}
}

// Write writes st as JSON, each level indented by indent.
func Write(w io.Writer, st any, indent string) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", indent)
	if err := enc.Encode(st); err != nil {
		return fmt.Errorf("sandbox: writing state: %w", err)
	}
	return nil
}

// Read decodes one state into st, refusing a field st does not have,
// checks that it is of layout version and returns its random source,
// continuing where it was saved. What else the state holds is for the
// sandbox to check.
func Read(r io.Reader, st State, version int) (*rand.PCG, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(st); err != nil {
		return nil, errors.New("sandbox: the state is not valid JSON of the expected shape")
	}
	return st.head().source(version)
}

// SaveFile writes what save writes to the file at path, whole or not at
// all (durable.WriteFile: a new file created exclusively with mode 0600,
// synced, renamed over path). A path that exists and is not a regular file
// (a symbolic link, a directory) is refused: the sandbox's keys are never
// written through a link. A directory that could not be synced after the
// rename is not an error: the world is in place.
func SaveFile(path string, save func(io.Writer) error) error {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("sandbox: %s is not a regular file (a link?); move it away", path)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sandbox: saving the world: %w", err)
	}
	var buf bytes.Buffer
	if err := save(&buf); err != nil {
		return err
	}
	if err := durable.WriteFile(path, buf.Bytes()); err != nil {
		var ds *durable.DirSyncError
		if errors.As(err, &ds) {
			return nil // the world is in place; only its directory entry may not be durable yet
		}
		return fmt.Errorf("sandbox: saving the world: %w", err)
	}
	return nil
}

// LoadFile reads the file at path with load. A path that is not a regular
// file, a symbolic link included, is refused; a missing file is the
// fs.ErrNotExist error as it is (no world there yet).
func LoadFile[T any](path string, load func(io.Reader) (T, error)) (T, error) {
	f, err := durable.OpenRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		var zero T
		return zero, err
	} else if err != nil {
		var zero T
		return zero, fmt.Errorf("sandbox: %w", err)
	}
	defer f.Close()
	return load(f)
}
