package account

import (
	"context"
	"errors"
	"fmt"

	"mixdesk/journal"
	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/payout/legacyrail"
	"mixdesk/payout/rail"
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
	if !s.Overwrite {
		if exists, err := e.Store.Exists(ctx, s.Name); err != nil {
			return nil, err
		} else if exists {
			return nil, &SetupError{Field: FieldProfile, Err: keystore.ErrExists}
		}
	}
	stored := p
	if !p.KeepPIN {
		stored.PIN = ""
	}
	if err := e.Store.Save(ctx, s.Name, stored, s.Overwrite); err != nil {
		return nil, err
	}
	if def, err := e.Store.Default(ctx); err == nil && def == "" {
		_ = e.Store.SetDefault(ctx, s.Name)
	}
	return e.Open(ctx, s.Name, stored, s.Reuse)
}
