package account

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"mixdesk/journal"
	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/payout/legacyrail"
	"mixdesk/payout/rail"
	"mixdesk/payout/saferail"
	"mixdesk/safe"
)

// ErrNoProfile: the keyring holds no profile to open.
var ErrNoProfile = errors.New("account: no profile is set up")

// Find reads the profile to open from the keyring: the one named, or the
// default one when name is "". It answers ErrNoProfile when there is no
// default profile (or the default one is gone); a profile named that the
// keyring does not hold is an error naming it, with its name.
func (e Env) Find(ctx context.Context, name string) (string, keystore.Profile, error) {
	asked := name
	if name == "" {
		def, err := e.Store.Default(ctx)
		if err != nil && !errors.Is(err, keystore.ErrNotFound) {
			return "", keystore.Profile{}, err
		}
		if def == "" {
			return "", keystore.Profile{}, ErrNoProfile
		}
		name = def
	}
	p, err := e.Store.Load(ctx, name)
	if errors.Is(err, keystore.ErrNotFound) {
		if asked != "" {
			return name, keystore.Profile{}, fmt.Errorf("no profile named %q in the keyring; set it up", name)
		}
		return "", keystore.Profile{}, ErrNoProfile
	}
	return name, p, err
}

// The fields of a profile being set up, as a *SetupError names them.
const (
	FieldProfile    = "profile" // the profile's name
	FieldClientID   = mixin.FieldClientID
	FieldSessionID  = mixin.FieldSessionID
	FieldPrivateKey = mixin.FieldPrivateKey
	FieldPINToken   = mixin.FieldPINToken
	FieldPIN        = mixin.FieldPIN
)

// SetupError is a setup refused because of one field of the form: Err says
// what is wrong with it.
type SetupError struct {
	Field string // FieldProfile, FieldClientID…
	Err   error
}

func (e *SetupError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *SetupError) Unwrap() error { return e.Err }

// Setup is a profile to set up: its name, the session and PIN as pasted,
// whether an existing profile of that name is replaced, and the journal of
// the profile when it is open now (it is kept: a journal is locked while
// open).
type Setup struct {
	Name      string
	Profile   keystore.Profile
	Overwrite bool
	Reuse     *journal.Journal
}

// Setup checks a session with the server (GET /me with a signed token: the
// session must be the app's) and its PIN (POST /pin/verify), and only then
// saves the profile to the keyring (the PIN only when it is kept), makes it
// the default one when there is none, and opens it. A refusal tied to one
// field of the form is a *SetupError naming it; a profile of that name
// without Overwrite is one whose Err is keystore.ErrExists.
func (e Env) Setup(ctx context.Context, s Setup) (*Account, error) {
	p := s.Profile
	if p.Kind() == "safe" {
		if err := e.checkSafe(ctx, p); err != nil {
			return nil, err
		}
		return e.save(ctx, s, p)
	}
	sess, err := mixin.NewSession(p.Credentials)
	if err != nil {
		var fe *mixin.FieldError
		if errors.As(err, &fe) {
			return nil, &SetupError{Field: fe.Field, Err: errors.New(fe.Reason)}
		}
		return nil, err
	}
	client, err := mixin.NewClient(e.APIURL, sess, e.ClientOptions...)
	if err != nil {
		return nil, err
	}
	me, err := client.Me(ctx)
	if err != nil {
		return nil, err
	}
	if me.UserID != sess.ClientID {
		return nil, &SetupError{Field: FieldClientID, Err: errors.New("the API says this session belongs to another app")}
	}
	if pv, ok := legacyrail.New(client).(rail.PINVerifier); ok {
		if err := pv.VerifyPIN(ctx, p.PIN); err != nil {
			return nil, &SetupError{Field: FieldPIN, Err: err}
		}
	}
	stored := p
	if !p.KeepPIN {
		stored.PIN = ""
	}
	return e.save(ctx, s, stored)
}

// save saves a checked profile to the keyring (refusing to replace one of
// that name without Overwrite), makes it the default one when there is
// none, and opens it.
func (e Env) save(ctx context.Context, s Setup, stored keystore.Profile) (*Account, error) {
	if !s.Overwrite {
		if exists, err := e.Store.Exists(ctx, s.Name); err != nil {
			return nil, err
		} else if exists {
			return nil, &SetupError{Field: FieldProfile, Err: keystore.ErrExists}
		}
	}
	if err := e.Store.Save(ctx, s.Name, stored, s.Overwrite); err != nil {
		return nil, err
	}
	if def, err := e.Store.Default(ctx); err == nil && def == "" {
		_ = e.Store.SetDefault(ctx, s.Name)
	}
	return e.Open(ctx, s.Name, stored, s.Reuse)
}

// checkSafe checks a Safe keystore field by field and then with the API
// (GET /safe/me: the session is the app's, its wallet registered with the
// pasted spend key). A refusal tied to the keystore is a *SetupError on
// FieldPrivateKey, the field it is pasted into, naming the keystore's field.
func (e Env) checkSafe(ctx context.Context, p keystore.Profile) error {
	r, err := saferail.Dial(e.APIURL, *p.Safe, e.SafeOptions...)
	if err == nil {
		var me *safe.User
		if me, err = r.Client().CheckRegistered(ctx); err == nil && me.UserID != r.Self() {
			return &SetupError{Field: FieldPrivateKey, Err: errors.New("the API says this session belongs to another app")}
		}
	}
	var fe *mixin.FieldError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, safe.ErrNotRegistered):
		return &SetupError{Field: FieldPrivateKey, Err: errNotRegistered{}}
	case errors.As(err, &fe):
		return &SetupError{Field: FieldPrivateKey, Err: errors.New(fe.Field + ": " + fe.Reason)}
	}
	return err
}

// Pasted is what a pasted session looks like, told before anything is
// checked or sent: Safe when it is a Safe keystore with its spend key (the
// whole profile: no other field and no PIN is needed), Line one line naming
// its kind ("" for empty text). Nothing of the text is kept or quoted.
type Pasted struct {
	Safe bool
	// Legacy is set for a legacy RSA or Ed25519 key: no spend key goes
	// with it.
	Legacy bool
	// Seed is set for a bare hex seed: a legacy Ed25519 key, or the session
	// private key of a Safe keystore typed field by field.
	Seed bool
	Line string
}

// RecognisePasted tells what kind of session text is: a legacy RSA or
// Ed25519 key (or legacy keystore), a Safe keystore with or without its
// spend key, a bare seed, or none.
func RecognisePasted(text string) Pasted {
	if strings.TrimSpace(text) == "" {
		return Pasted{}
	}
	k := safe.DetectSessionKind(text)
	return Pasted{Safe: k == safe.KindSafe, Legacy: k == safe.KindLegacyRSA || k == safe.KindLegacyEd25519,
		Seed: k == safe.KindEd25519Seed, Line: k.String()}
}

// SafeProfile is the profile of a pasted Safe keystore (the dashboard's
// JSON). A keystore that cannot be read is a *SetupError on FieldPrivateKey,
// the field it is pasted into; its fields are checked by Setup.
func SafeProfile(text string) (keystore.Profile, error) {
	ks, err := safe.ParseKeystore(text)
	if err != nil {
		return keystore.Profile{}, &SetupError{Field: FieldPrivateKey, Err: err}
	}
	return keystore.Profile{Safe: &ks}, nil
}
