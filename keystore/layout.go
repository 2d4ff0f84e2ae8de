package keystore

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"mixdesk/mixin"
	"mixdesk/safe"
)

// DefaultService is the keyring service name of every mixdesk entry.
const DefaultService = "mixdesk"

// Entry names and sizes. Every value written is under MaxEntrySize bytes,
// which fits the Windows limit (2560 bytes) and the macOS one (about 3000
// bytes of service, user and value together, base64-encoded by the keyring
// library).
const (
	// MaxEntrySize bounds every single value the Store writes.
	MaxEntrySize = 2000
	// IndexUser is the reserved user name of the index entry.
	IndexUser = "index"

	profilePrefix = "profile:"
	partSize      = 1900 // base64 characters per part
	maxParts      = 6
	// maxRecord is the largest record (JSON bytes) that fits in maxParts.
	maxRecord = maxParts * partSize / 4 * 3

	recordVersion   = 1
	manifestVersion = 1
	indexVersion    = 1
)

var slots = [2]string{"a", "b"}

func manifestUser(name string) string { return profilePrefix + name }

func partUser(name, slot string, i int) string {
	return profilePrefix + name + ":" + slot + ":" + strconv.Itoa(i)
}

func otherSlot(slot string) string {
	if slot == "a" {
		return "b"
	}
	return "a"
}

// record is what a profile's parts hold, as JSON. It never leaves the
// package, and it prints redacted all the same.
type record struct {
	Version    int    `json:"v"`
	ClientID   string `json:"client_id"`
	SessionID  string `json:"session_id"`
	PrivateKey string `json:"private_key"`
	PINToken   string `json:"pin_token"`
	KeepPIN    bool   `json:"keep_pin"`
	PIN        string `json:"pin,omitempty"`
	// A Safe profile: Kind "safe", ClientID the app id, and its keys
	// (the legacy fields are then empty).
	Kind              string `json:"kind,omitempty"`
	ServerPublicKey   string `json:"server_public_key,omitempty"`
	SessionPrivateKey string `json:"session_private_key,omitempty"`
	SpendPrivateKey   string `json:"spend_private_key,omitempty"`
}

func (r record) String() string             { return "record[redacted]" }
func (r record) GoString() string           { return r.String() }
func (r record) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(r.String())) }

func (r record) profile() Profile {
	if r.Kind == "safe" {
		return Profile{Safe: &safe.Keystore{AppID: r.ClientID, SessionID: r.SessionID, ServerPublicKey: r.ServerPublicKey,
			SessionPrivateKey: r.SessionPrivateKey, SpendPrivateKey: r.SpendPrivateKey}}
	}
	return Profile{
		Credentials: mixin.Credentials{
			ClientID:   r.ClientID,
			SessionID:  r.SessionID,
			PrivateKey: r.PrivateKey,
			PINToken:   r.PINToken,
			PIN:        r.PIN,
		},
		KeepPIN: r.KeepPIN,
	}
}

// manifest is written after every part; it says which slot holds the
// profile, how many parts there are and what the record hashes to.
type manifest struct {
	Version int    `json:"v"`
	Slot    string `json:"slot"`
	Parts   int    `json:"parts"`
	Size    int    `json:"size"`   // bytes of the record
	SHA256  string `json:"sha256"` // hex SHA-256 of the record
}

func parseManifest(s string) (manifest, error) {
	var m manifest
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return manifest{}, errors.New("its manifest is not readable")
	}
	switch {
	case m.Version != manifestVersion:
		return manifest{}, fmt.Errorf("its manifest has version %d (this mixdesk reads version %d)", m.Version, manifestVersion)
	case m.Slot != "a" && m.Slot != "b":
		return manifest{}, errors.New("its manifest names no valid slot")
	case m.Parts < 1 || m.Parts > maxParts:
		return manifest{}, fmt.Errorf("its manifest lists %d parts (1 to %d allowed)", m.Parts, maxParts)
	case m.Size < 1 || m.Size > maxRecord:
		return manifest{}, errors.New("its manifest gives an impossible size")
	case len(m.SHA256) != 64:
		return manifest{}, errors.New("its manifest has no valid checksum")
	}
	if _, err := hex.DecodeString(m.SHA256); err != nil {
		return manifest{}, errors.New("its manifest has no valid checksum")
	}
	return m, nil
}

func encodeManifest(m manifest) (string, error) {
	js, err := json.Marshal(m)
	if err != nil {
		return "", errors.New("keystore: encoding the manifest failed")
	}
	return string(js), nil
}

// encodeRecord turns a record into base64 parts and a manifest (without a
// slot).
func encodeRecord(r record) ([]string, manifest, error) {
	js, err := json.Marshal(r)
	if err != nil {
		return nil, manifest{}, errors.New("keystore: encoding the profile failed")
	}
	if len(js) > maxRecord {
		return nil, manifest{}, &mixin.FieldError{Field: mixin.FieldPrivateKey,
			Reason: fmt.Sprintf("too long to store (the profile is %d bytes, at most %d fit); paste only the key block", len(js), maxRecord)}
	}
	sum := sha256.Sum256(js)
	text := base64.StdEncoding.EncodeToString(js)
	clear(js)
	var parts []string
	for len(text) > 0 {
		n := min(partSize, len(text))
		parts = append(parts, text[:n])
		text = text[n:]
	}
	return parts, manifest{Version: manifestVersion, Parts: len(parts), Size: len(js), SHA256: hex.EncodeToString(sum[:])}, nil
}

// decodeRecord joins the parts, checks them against the manifest and
// decodes the record. Errors say what is wrong without quoting any part.
func decodeRecord(m manifest, parts []string) (record, error) {
	text := strings.Join(parts, "")
	js, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return record{}, errors.New("its parts do not join into valid data")
	}
	defer clear(js)
	if len(js) != m.Size {
		return record{}, fmt.Errorf("its parts hold %d bytes, the manifest says %d", len(js), m.Size)
	}
	want, _ := hex.DecodeString(m.SHA256)
	got := sha256.Sum256(js)
	if subtle.ConstantTimeCompare(got[:], want) != 1 {
		return record{}, errors.New("its checksum does not match (parts from different saves, or altered)")
	}
	var r record
	if err := json.Unmarshal(js, &r); err != nil {
		return record{}, errors.New("its record is not readable")
	}
	if r.Version != recordVersion {
		return record{}, fmt.Errorf("its record has version %d (this mixdesk reads version %d)", r.Version, recordVersion)
	}
	return r, nil
}

// index lists the profile names (sorted) and the default profile.
type index struct {
	Version  int      `json:"v"`
	Default  string   `json:"default,omitempty"`
	Profiles []string `json:"profiles"`
}

// parseIndex reads the index entry; names that break the rules and
// duplicates are dropped, and a default that is not listed is cleared.
func parseIndex(s string) (index, error) {
	var raw index
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return index{}, errors.New("the profile list is not readable")
	}
	if raw.Version != indexVersion {
		return index{}, fmt.Errorf("the profile list has version %d (this mixdesk reads version %d)", raw.Version, indexVersion)
	}
	idx := index{Version: indexVersion}
	for _, n := range raw.Profiles {
		// One over MaxProfiles: a rename lists both names for a moment.
		if ValidateName(n) == nil && !slices.Contains(idx.Profiles, n) && len(idx.Profiles) <= MaxProfiles {
			idx.Profiles = append(idx.Profiles, n)
		}
	}
	slices.Sort(idx.Profiles)
	if idx.has(raw.Default) {
		idx.Default = raw.Default
	}
	return idx, nil
}

func (x index) encode() (string, error) {
	x.Version = indexVersion
	if x.Profiles == nil {
		x.Profiles = []string{}
	}
	js, err := json.Marshal(x)
	if err != nil {
		return "", errors.New("encoding the profile list failed")
	}
	return string(js), nil
}

func (x index) has(name string) bool {
	_, ok := slices.BinarySearch(x.Profiles, name)
	return ok && name != ""
}

// with returns a copy of x that lists name.
func (x index) with(name string) index {
	y := index{Version: indexVersion, Default: x.Default, Profiles: slices.Clone(x.Profiles)}
	if i, ok := slices.BinarySearch(y.Profiles, name); !ok {
		y.Profiles = slices.Insert(y.Profiles, i, name)
	}
	return y
}

// without returns a copy of x that does not list name (nor has it as the
// default).
func (x index) without(name string) index {
	y := index{Version: indexVersion, Default: x.Default, Profiles: slices.Clone(x.Profiles)}
	if i, ok := slices.BinarySearch(y.Profiles, name); ok {
		y.Profiles = slices.Delete(y.Profiles, i, i+1)
	}
	if y.Default == name {
		y.Default = ""
	}
	return y
}

func (x index) equal(y index) bool {
	return x.Default == y.Default && slices.Equal(x.Profiles, y.Profiles)
}
