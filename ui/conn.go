package ui

import (
	"context"
	"runtime"

	"errors"
	"fmt"
	tea "github.com/charmbracelet/bubbletea"
	"os"
	"path/filepath"
	"time"

	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/payout"
	"mixdesk/payout/legacyrail"
)

// Deps is what the console is built on. Main fills it; tests fill it with a
// sandbox and an in-memory keyring.
type Deps struct {
	Store   *keystore.Store
	APIURL  string
	DataDir string // where journals live
	Profile string // the profile asked for with --profile; "" = the default
	Sandbox bool   // show the SANDBOX marker
	// ClientOptions are passed to every mixin client (timeouts in tests).
	ClientOptions []mixin.Option
	// Payout is the review configuration besides the profile's own id.
	Payout payout.Config
	// IdleLock, when not zero, overrides the profile's idle-lock time
	// (negative: never lock, as on the sandbox, whose PIN nobody types).
	IdleLock time.Duration
	// ConfigPath is the policy file (limits, address-book-only, idle lock);
	// "" means the defaults.
	ConfigPath string
}

// conn is an open profile: its session, client, journal and desk.
type conn struct {
	name    string
	profile keystore.Profile // holds the PIN only when the profile keeps it
	client  *mixin.Client
	journal *payout.Journal
	desk    *payout.Desk
	me      mixin.User
	report  *payout.Report
	warn    string // a problem to show at once (a data directory others can read)
	book    *payout.AddressBook
	policy  payout.Policy
}

// pin is the kept PIN, or "" when it is asked for at every transfer.
func (c *conn) pin() string {
	if c.profile.KeepPIN {
		return c.profile.PIN
	}
	return ""
}

// pinForgottenMsg: the profile without its refused PIN was saved (err nil)
// or could not be.
type pinForgottenMsg struct{ err error }

// keptPINRefused is called with the PIN a request carried and what became
// of it. When that PIN is the one kept in the keyring and the server
// refused it (20119, 20118), it is never sent again: the profile asks for
// the PIN at every transfer from now on, and is saved so, so that the next
// start does not send it either. The operator is told why.
func (a *App) keptPINRefused(used string, errs ...error) tea.Cmd {
	c := a.conn
	if c == nil || !c.profile.KeepPIN || used == "" || used != c.profile.PIN {
		return nil
	}
	refused := false
	for _, err := range errs {
		refused = refused || mixin.IsPINIncorrect(err) || mixin.IsPINFormat(err)
	}
	if !refused {
		return nil
	}
	c.profile.KeepPIN, c.profile.PIN = false, ""
	a.setStatus("The server refused the PIN kept for this profile. It is not used again: type the PIN at each payout, or set the profile up again (n) to keep the right one.", false)
	if a.deps.Store == nil {
		return nil
	}
	store, name, p := a.deps.Store, c.name, c.profile
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return pinForgottenMsg{err: store.Save(ctx, name, p, true)}
	}
}

func (c *conn) close() {
	if c != nil && c.journal != nil {
		_ = c.journal.Close()
	}
}

// journalPath is the journal file of a profile.
func journalPath(dataDir, profile string) string {
	return filepath.Join(dataDir, "journal-"+profile+".jsonl")
}

// openConn opens a profile: checks the session with GET /me, opens and
// verifies the journal and builds the desk. Nothing here is on the UI
// goroutine.
// An open journal of the profile may be handed in (reuse) to be kept.
func openConn(ctx context.Context, d Deps, name string, p keystore.Profile, reuse *payout.Journal) (*conn, error) {
	sess, err := mixin.NewSession(p.Credentials)
	if err != nil {
		return nil, err
	}
	client, err := mixin.NewClient(d.APIURL, sess, d.ClientOptions...)
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
	if err := os.MkdirAll(d.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the data directory: %w", err)
	}
	warn := looseDir(d.DataDir)
	pol := payout.DefaultPolicy()
	if d.ConfigPath != "" {
		if pol, err = payout.LoadPolicy(d.ConfigPath, name); err != nil {
			return nil, err
		}
	}
	book, err := payout.OpenAddressBook(filepath.Join(d.DataDir, "addressbook-"+name+".json"))
	if err != nil {
		return nil, err
	}
	j, rep := reuse, (*payout.Report)(nil)
	if j == nil {
		if j, rep, err = payout.Open(journalPath(d.DataDir, name)); err != nil {
			return nil, err
		}
	}
	cfg := pol.Apply(d.Payout)
	cfg.Self = sess.ClientID
	cfg.Book = book
	desk, err := payout.NewDeskOn(legacyrail.New(client), j, cfg)
	if err != nil {
		if reuse == nil {
			_ = j.Close()
		}
		return nil, err
	}
	return &conn{name: name, profile: p, client: client, journal: j, desk: desk, me: *me, report: rep, book: book, policy: pol, warn: warn}, nil
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

// Messages of the start-up and setup flows.
type (
	// startMsg: the profile to open was read from the keyring (or there is none).
	startMsg struct {
		name    string
		profile keystore.Profile
		none    bool
		err     error
	}
	// connMsg: a profile was opened (or failed to open).
	connMsg struct {
		c   *conn
		err error
	}
	// recoveredMsg: in-doubt payouts were settled at start-up.
	recoveredMsg struct {
		results []payout.Result
		err     error
		pin     string // the PIN the settlement carried ("" when none)
	}
)

func loadProfileCmd(d Deps) func() startMsg {
	return func() startMsg {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		name := d.Profile
		if name == "" {
			def, err := d.Store.Default(ctx)
			if err != nil && !errors.Is(err, keystore.ErrNotFound) {
				return startMsg{err: err}
			}
			if def == "" {
				return startMsg{none: true}
			}
			name = def
		}
		p, err := d.Store.Load(ctx, name)
		if errors.Is(err, keystore.ErrNotFound) {
			if d.Profile != "" {
				return startMsg{name: name, err: fmt.Errorf("no profile named %q in the keyring; set it up", name)}
			}
			return startMsg{none: true}
		}
		return startMsg{name: name, profile: p, err: err}
	}
}
