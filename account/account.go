// Package account opens a profile for the console. Open checks the
// profile's session with its rail's server, reads the profile's policy,
// opens its address book and its journal in the data directory, and builds
// the desk on the profile's rail; Setup checks a new session and its PIN
// with the server and only then saves it to the keyring; an open Account
// checks a PIN (through the desk, which sends no PIN check while a payout's
// post may still arrive), reads the balances, makes the profile's history
// and keeps its counterparty names (package history), forgets a kept PIN
// the rail refused, and closes.
//
// The console asks this package for everything that needs the keyring or a
// rail's client: it names no rail's client, and reads users, assets and
// movements in the rail's types (package payout/rail). What an error of a
// rail's server means to the operator is told by Diagnose, and the checks
// the forms make as the operator types are in input.go.
package account

import (
	"context"
	cryptosubtle "crypto/subtle"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"mixdesk/addressbook"
	"mixdesk/history"
	"mixdesk/journal"
	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/payout"
	"mixdesk/payout/legacyrail"
	"mixdesk/payout/rail"
	"mixdesk/payout/saferail"
	"mixdesk/policy"
)

// Env is where profiles are opened: the keyring they are kept in, the API
// their rail talks to, the data directory of their files, the policy file,
// and the review configuration besides each profile's own.
type Env struct {
	Store   *keystore.Store
	APIURL  string
	DataDir string // where journals, address books and request books live
	// ConfigPath is the policy file (limits, address-book-only, idle lock);
	// "" means the defaults.
	ConfigPath string
	// Payout is the review configuration besides the profile's own id and
	// address book.
	Payout payout.Config
	// ClientOptions are passed to every legacy API client (timeouts in
	// tests).
	ClientOptions []mixin.Option
	// SafeOptions are passed to the rail of every Safe profile (timeouts
	// in tests).
	SafeOptions []saferail.Option
}

// Account is an open profile: its desk on the profile's rail, its journal,
// address book and policy. Its exported fields are read by the console and
// never change while it is open.
type Account struct {
	Name    string            // the profile's name in the keyring
	Me      rail.User         // the app the session belongs to, as its server answered
	Desk    *payout.Desk      // pays through the profile's rail, into its journal
	Book    *addressbook.Book // the profile's address book
	Policy  policy.Policy     // the profile's policy as read at open
	Report  *journal.Report   // what opening the journal found (nil when an open journal was kept)
	Warning string            // a problem to say at once (a data directory others can write to)

	dataDir  string
	store    *keystore.Store
	holdings func(ctx context.Context) ([]rail.Asset, error)
	incoming rail.Looker // payments to this wallet by the payer's key; nil: the desk's rail

	mu      sync.Mutex
	profile keystore.Profile // holds the PIN only while the profile keeps it

	namesOnce sync.Once
	names     *history.Names // counterparty names, made on first use
}

// New makes an account of a desk built elsewhere, for a profile whose
// session was checked elsewhere (tests and benchmarks): nothing is read,
// no balance can be read, and nothing is saved to a keyring. Open is the
// console's way.
func New(name string, p keystore.Profile, me rail.User, desk *payout.Desk) *Account {
	return &Account{Name: name, Me: me, Desk: desk, profile: p}
}

// Open opens a profile: it checks the session with its server (the
// session's app must be the one answering), reads the profile's policy,
// opens its address book and its journal (or keeps reuse, the profile's
// journal already open: a journal is locked while open), and builds the
// desk. Nothing is written to the keyring.
func (e Env) Open(ctx context.Context, name string, p keystore.Profile, reuse *journal.Journal) (*Account, error) {
	if p.Kind() == "safe" {
		return e.openSafe(ctx, name, p, reuse)
	}
	sess, err := mixin.NewSession(p.Credentials)
	if err != nil {
		return nil, err
	}
	client, err := mixin.NewClient(e.APIURL, sess, e.ClientOptions...)
	if err != nil {
		return nil, err
	}
	me, err := client.Me(ctx)
	if err != nil {
		return nil, fmt.Errorf("checking the session: %w", err)
	}
	if me.UserID != sess.ClientID {
		return nil, fmt.Errorf("the API says this session belongs to %s, not to client id %s", me.UserID, sess.ClientID)
	}
	a, err := e.assemble(name, p, sess.ClientID, legacyrail.New(client), reuse)
	if err != nil {
		return nil, err
	}
	a.Me = rail.User{UserID: me.UserID, IdentityNumber: me.IdentityNumber, FullName: me.FullName}
	a.holdings = func(ctx context.Context) ([]rail.Asset, error) {
		as, err := client.Assets(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]rail.Asset, len(as))
		for i, x := range as {
			out[i] = rail.Asset{AssetID: x.AssetID, ChainID: x.ChainID, Symbol: x.Symbol, Name: x.Name, IconURL: x.IconURL,
				Balance: x.Balance, PriceUSD: x.PriceUSD, ChangeUSD: x.ChangeUSD}
		}
		return out, nil
	}
	return a, nil
}

// assemble opens the profile's files in the data directory and builds the
// desk on r, for the app self.
func (e Env) assemble(name string, p keystore.Profile, self string, r rail.Rail, reuse *journal.Journal) (*Account, error) {
	if err := os.MkdirAll(e.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the data directory: %w", err)
	}
	warn := looseDir(e.DataDir)
	pol := policy.Default()
	if e.ConfigPath != "" {
		var err error
		if pol, err = policy.Load(e.ConfigPath, name); err != nil {
			return nil, err
		}
	}
	book, err := addressbook.Open(addressbook.Path(e.DataDir, name))
	if err != nil {
		return nil, err
	}
	j, rep := reuse, (*journal.Report)(nil)
	if j == nil {
		if j, rep, err = journal.Open(journal.Path(e.DataDir, name)); err != nil {
			return nil, err
		}
	}
	cfg := pol.Apply(e.Payout)
	cfg.Self = self
	cfg.Book = book
	desk, err := payout.NewDeskOn(r, j, cfg)
	if err != nil {
		if reuse == nil {
			_ = j.Close()
		}
		return nil, err
	}
	return &Account{Name: name, Desk: desk, Book: book, Policy: pol, Report: rep, Warning: warn,
		dataDir: e.DataDir, store: e.Store, profile: p}, nil
}

// looseDir says what is wrong with a data directory that other users of the
// machine may write to (they could replace the journal or plant a link
// where mixdesk writes), or "" when they cannot. The files inside are
// written for the owner alone (mode 0600).
func looseDir(dir string) string {
	fi, err := os.Stat(dir)
	if err != nil || runtime.GOOS == "windows" {
		return ""
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Sprintf("The data directory %s is open to other users (mode %04o): they could replace the journal or plant links in it. Run: chmod 700 %s", dir, perm, dir)
	}
	return ""
}

// Journal is the profile's journal (the desk's).
func (a *Account) Journal() *journal.Journal { return a.Desk.Journal() }

// History is a new history of the profile's movements on its rail, joined
// with its journal: the journal's payouts in doubt and refused are rows
// from the start, the rail's snapshots come with LoadMore. Make a new one
// to see payouts sent since. An account without a desk has a history that
// cannot load.
func (a *Account) History() *history.History {
	if a.Desk == nil {
		return history.New(nil, nil)
	}
	return history.New(a.Desk.Rail(), a.Desk.Journal(), a.Desk.IsMerge)
}

// Names is the profile's cache of counterparty names, read on its rail
// with the desk's clock: one per account, so that a name is asked for once
// while the profile is open.
func (a *Account) Names() *history.Names {
	a.namesOnce.Do(func() {
		if a.Desk == nil {
			a.names = history.NewNames(nil, nil)
			return
		}
		a.names = history.NewNames(a.Desk.Rail(), a.Desk.Config().Clock)
	})
	return a.names
}

// Close releases the journal (its lock). An account whose journal was kept
// by the account that replaced it is not closed.
func (a *Account) Close() error {
	if a == nil || a.Desk == nil {
		return nil
	}
	return a.Journal().Close()
}

// DataDir is the data directory the profile's files are in ("" for an
// account made with New).
func (a *Account) DataDir() string { return a.dataDir }

// RequestsPath is the file of the profile's book of payment requests (a
// payreq.Book): DATA/requests-PROFILE.json.
func (a *Account) RequestsPath() string {
	return filepath.Join(a.dataDir, "requests-"+a.Name+".json")
}

// RequestLooker looks up the payment of one of the profile's payment
// requests by its trace: on a Safe profile the payer's transaction under
// that request id, as this wallet received it (saferail.Rail.Incoming); on
// a legacy one the transfer by trace, through the desk's rail.
func (a *Account) RequestLooker() rail.Looker {
	if a.incoming != nil {
		return a.incoming
	}
	return a.Desk.Rail()
}

// ErrNoBalances: the account cannot read balances (made with New).
var ErrNoBalances = errors.New("account: no balances can be read for this profile")

// Balances reads the assets the account holds, with their balances and
// prices, in the server's order.
func (a *Account) Balances(ctx context.Context) ([]rail.Asset, error) {
	if a.holdings == nil {
		return nil, ErrNoBalances
	}
	return a.holdings(ctx)
}

// User reads a user by id (a payer's name).
func (a *Account) User(ctx context.Context, userID string) (*rail.User, error) {
	id, err := mixin.ParseUUID("user id", userID)
	if err != nil {
		return nil, err
	}
	return a.Desk.Rail().User(ctx, id)
}

// Asset reads an asset by id, also one the account holds none of. An
// unknown asset is an error for which errors.Is(err, rail.ErrNotFound)
// holds.
func (a *Account) Asset(ctx context.Context, assetID string) (*rail.Asset, error) {
	id, err := mixin.ParseUUID(mixin.FieldAsset, assetID)
	if err != nil {
		return nil, err
	}
	return a.Desk.Rail().Asset(ctx, id)
}

// KeepsPIN reports whether the profile keeps its PIN in the keyring (it is
// then not asked at every payout).
func (a *Account) KeepsPIN() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.profile.KeepPIN
}

// PIN is the kept PIN, or "" when it is asked for at every payout.
func (a *Account) PIN() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.profile.KeepPIN {
		return a.profile.PIN
	}
	return ""
}

// AsksPIN reports whether the operator types the PIN for a payout: the
// rail needs one and the profile does not keep it.
func (a *Account) AsksPIN() bool {
	if a.Desk != nil && !a.Desk.NeedsPIN() {
		return false
	}
	return !a.KeepsPIN()
}

// IsSafe reports whether the profile is a Safe one (its payouts go through
// the Safe API, signed with its keystore's spend key).
func (a *Account) IsSafe() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.profile.Kind() == "safe"
}

// Lockable reports whether the console can lock this profile when idle: its
// rail has a PIN to type to unlock. A Safe profile has none (its payouts are
// signed with the keystore's spend key), so an idle lock could only be
// lifted by a key press and would protect nothing: it is not locked.
func (a *Account) Lockable() bool {
	return a.Desk == nil || a.Desk.NeedsPIN()
}

// MatchesKeptPIN reports, in constant time, whether pin is the kept PIN
// (false when none is kept).
func (a *Account) MatchesKeptPIN(pin string) bool {
	kept := a.PIN()
	return kept != "" && cryptosubtle.ConstantTimeCompare([]byte(pin), []byte(kept)) == 1
}

// VerifyPIN checks a PIN with the rail's server, through the desk: no check
// goes out while a payout's post may still reach the server. A PIN the
// server refused as wrong gives an error for which WrongPIN holds.
func (a *Account) VerifyPIN(ctx context.Context, pin string) error {
	return a.Desk.VerifyPIN(ctx, pin)
}

// ForgetRefusedPIN follows the answer to a request that carried the PIN
// used: when that PIN is the one kept for the profile and an error of errs
// says the server refused it (wrong, or in a form the server refuses; not
// a lock, after which it may be right), the account forgets it, asks the
// PIN at every payout from now on, and reports true. SaveProfile then
// saves the profile so, so that the next start does not send it either.
func (a *Account) ForgetRefusedPIN(used string, errs ...error) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.profile.KeepPIN || used == "" || used != a.profile.PIN {
		return false
	}
	for _, err := range errs {
		if PINRejected(err) {
			a.profile.KeepPIN, a.profile.PIN = false, ""
			return true
		}
	}
	return false
}

// SaveProfile saves the profile as it is now to the keyring (after
// ForgetRefusedPIN: without its PIN). An account made with New saves
// nothing.
func (a *Account) SaveProfile(ctx context.Context) error {
	a.mu.Lock()
	p, store := a.profile, a.store
	a.mu.Unlock()
	if store == nil {
		return nil
	}
	return store.Save(ctx, a.Name, p, true)
}
