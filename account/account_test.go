package account

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mixdesk/addressbook"
	"mixdesk/journal"
	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
	"mixdesk/payout"
	"mixdesk/payout/rail"
)

// world is a sandbox behind an HTTP server, an in-memory keyring and an
// Env on them.
type world struct {
	srv *sandbox.Server
	w   sandbox.World
	env Env
}

func newWorld(t *testing.T) *world {
	t.Helper()
	srv, w, err := sandbox.NewWorld(sandbox.Options{Seed: 7, Operator: sandbox.SessionOptions{Kind: mixin.KeyEd25519}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	store, err := keystore.New(keystore.NewMemory(), keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &world{srv: srv, w: w, env: Env{
		Store: store, APIURL: hs.URL, DataDir: filepath.Join(t.TempDir(), "data"),
		ClientOptions: []mixin.Option{mixin.WithTimeout(5 * time.Second),
			mixin.WithRetry(mixin.RetryPolicy{Attempts: 1, Base: time.Millisecond, Max: time.Millisecond})},
		Payout: payout.Config{PostWindow: time.Nanosecond},
	}}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func (w *world) wrongPIN() string {
	if w.w.Operator.PIN == "123456" {
		return "654321"
	}
	return "123456"
}

// TestOpenChecksTheSessionAndOpensTheFiles: Open answers with the app the
// session belongs to, the profile's journal, book and desk in the data
// directory, and balances; the journal is locked until Close.
func TestOpenChecksTheSessionAndOpensTheFiles(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := testCtx(t)
	a, err := w.env.Open(ctx, "treasury", keystore.Profile{Credentials: w.w.Operator, KeepPIN: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Me.UserID != w.w.OperatorUser.UserID || a.Me.FullName != w.w.OperatorUser.FullName || a.Name != "treasury" {
		t.Fatalf("opened %q as %+v", a.Name, a.Me)
	}
	if a.Journal().Path() != journal.Path(w.env.DataDir, "treasury") || a.Book.Path() != addressbook.Path(w.env.DataDir, "treasury") {
		t.Fatalf("journal %s, book %s", a.Journal().Path(), a.Book.Path())
	}
	if a.RequestsPath() != filepath.Join(w.env.DataDir, "requests-treasury.json") || a.DataDir() != w.env.DataDir {
		t.Fatalf("requests %s, data %s", a.RequestsPath(), a.DataDir())
	}
	if a.Report == nil || !a.Report.Intact() || a.Warning != "" {
		t.Fatalf("report %+v, warning %q", a.Report, a.Warning)
	}
	as, err := a.Balances(ctx)
	if err != nil || len(as) == 0 {
		t.Fatalf("balances %v, %v", as, err)
	}
	if !a.KeepsPIN() || a.AsksPIN() || a.PIN() != w.w.Operator.PIN || !a.MatchesKeptPIN(w.w.Operator.PIN) || a.MatchesKeptPIN(w.wrongPIN()) {
		t.Fatal("the kept PIN is not the profile's")
	}
	if _, err := w.env.Open(ctx, "treasury", keystore.Profile{Credentials: w.w.Operator}, nil); !errors.Is(err, journal.ErrInUse) {
		t.Fatalf("a second open of the journal: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := w.env.Open(ctx, "treasury", keystore.Profile{Credentials: w.w.Operator}, nil)
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	defer b.Close()
	if b.KeepsPIN() || !b.AsksPIN() || b.PIN() != "" || b.MatchesKeptPIN("") {
		t.Fatal("a profile that does not keep its PIN gives one")
	}
}

// TestOpenKeepsAnOpenJournal: opening the open profile again with its
// journal keeps that journal (it is locked) and reads no report.
func TestOpenKeepsAnOpenJournal(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := testCtx(t)
	a, err := w.env.Open(ctx, "treasury", keystore.Profile{Credentials: w.w.Operator}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := w.env.Open(ctx, "treasury", keystore.Profile{Credentials: w.w.Operator}, a.Journal())
	if err != nil {
		t.Fatal(err)
	}
	if b.Journal() != a.Journal() || b.Report != nil {
		t.Fatal("the open journal was not kept")
	}
}

// TestOpenLooseDataDirWarns: a data directory others can write to is said.
func TestOpenLooseDataDirWarns(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if err := os.MkdirAll(w.env.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(w.env.DataDir, 0o777); err != nil {
		t.Fatal(err)
	}
	a, err := w.env.Open(testCtx(t), "treasury", keystore.Profile{Credentials: w.w.Operator}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if !strings.Contains(a.Warning, "mode 0777") || !strings.Contains(a.Warning, "chmod 700") {
		t.Fatalf("warning %q", a.Warning)
	}
}

// TestFind: no profile at all, the default one, one named that is not
// there.
func TestFind(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := testCtx(t)
	if _, _, err := w.env.Find(ctx, ""); !errors.Is(err, ErrNoProfile) {
		t.Fatalf("an empty keyring: %v", err)
	}
	if err := w.env.Store.Save(ctx, "treasury", keystore.Profile{Credentials: w.w.Operator, KeepPIN: true}, false); err != nil {
		t.Fatal(err)
	}
	if err := w.env.Store.SetDefault(ctx, "treasury"); err != nil {
		t.Fatal(err)
	}
	name, p, err := w.env.Find(ctx, "")
	if err != nil || name != "treasury" || p.ClientID != w.w.Operator.ClientID {
		t.Fatalf("default: %q %v %v", name, p, err)
	}
	name, _, err = w.env.Find(ctx, "payroll")
	if err == nil || name != "payroll" || !strings.Contains(err.Error(), `no profile named "payroll"`) {
		t.Fatalf("a profile not there: %q %v", name, err)
	}
}

// TestSetupSavesOnlyWhatTheServerAccepted: a session field that does not
// parse, a wrong PIN, a name taken: each refused on its field and nothing
// saved; then the profile is saved (without its PIN when not kept), made
// the default and opened.
func TestSetupSavesOnlyWhatTheServerAccepted(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := testCtx(t)
	saved := func() bool {
		ok, err := w.env.Store.Exists(ctx, "treasury")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	bad := w.w.Operator
	bad.ClientID = "not-a-uuid"
	_, err := w.env.Setup(ctx, Setup{Name: "treasury", Profile: keystore.Profile{Credentials: bad}})
	var se *SetupError
	if !errors.As(err, &se) || se.Field != FieldClientID || saved() {
		t.Fatalf("a bad client id: %v", err)
	}

	wrong := w.w.Operator
	wrong.PIN = w.wrongPIN()
	_, err = w.env.Setup(ctx, Setup{Name: "treasury", Profile: keystore.Profile{Credentials: wrong}})
	if !errors.As(err, &se) || se.Field != FieldPIN || !WrongPIN(err) || saved() {
		t.Fatalf("a wrong PIN: %v", err)
	}

	a, err := w.env.Setup(ctx, Setup{Name: "treasury", Profile: keystore.Profile{Credentials: w.w.Operator}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Me.UserID != w.w.OperatorUser.UserID || !a.AsksPIN() {
		t.Fatalf("opened %+v", a.Me)
	}
	stored, err := w.env.Store.Load(ctx, "treasury")
	if err != nil || stored.PIN != "" || stored.KeepPIN {
		t.Fatalf("stored a PIN not kept (%v)", err)
	}
	if def, _ := w.env.Store.Default(ctx); def != "treasury" {
		t.Fatalf("default %q", def)
	}

	_, err = w.env.Setup(ctx, Setup{Name: "treasury", Profile: keystore.Profile{Credentials: w.w.Operator, KeepPIN: true}, Reuse: a.Journal()})
	if !errors.As(err, &se) || se.Field != FieldProfile || !errors.Is(err, keystore.ErrExists) {
		t.Fatalf("a name taken: %v", err)
	}
	b, err := w.env.Setup(ctx, Setup{Name: "treasury", Profile: keystore.Profile{Credentials: w.w.Operator, KeepPIN: true}, Overwrite: true, Reuse: a.Journal()})
	if err != nil {
		t.Fatal(err)
	}
	if b.Journal() != a.Journal() || !b.KeepsPIN() {
		t.Fatal("set up again: the open journal was not kept, or the PIN not")
	}
	if stored, _ := w.env.Store.Load(ctx, "treasury"); stored.PIN != w.w.Operator.PIN {
		t.Fatal("the kept PIN was not stored")
	}
}

// TestVerifyPINGoesToTheServer: a wrong PIN is WrongPIN, the right one
// passes; a PIN of another form is refused before anything is sent.
func TestVerifyPINGoesToTheServer(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := testCtx(t)
	a, err := w.env.Open(ctx, "treasury", keystore.Profile{Credentials: w.w.Operator}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.VerifyPIN(ctx, w.wrongPIN()); !WrongPIN(err) || !PINRejected(err) {
		t.Fatalf("a wrong PIN: %v", err)
	}
	if err := a.VerifyPIN(ctx, w.w.Operator.PIN); err != nil {
		t.Fatalf("the right PIN: %v", err)
	}
	var fe *FieldError
	if err := a.VerifyPIN(ctx, "12"); !errors.As(err, &fe) || WrongPIN(err) {
		t.Fatalf("a short PIN: %v", err)
	}
}

// TestForgetRefusedPIN: the kept PIN is forgotten, and saved so, only when
// the server refused that very PIN as wrong (or its form); not after a
// lock, nor when another PIN was refused.
func TestForgetRefusedPIN(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := testCtx(t)
	p := keystore.Profile{Credentials: w.w.Operator, KeepPIN: true}
	if err := w.env.Store.Save(ctx, "treasury", p, false); err != nil {
		t.Fatal(err)
	}
	a, err := w.env.Open(ctx, "treasury", p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	kept := w.w.Operator.PIN
	wrong := a.VerifyPIN(ctx, w.wrongPIN())
	locked := &mixin.Error{Code: mixin.CodeTooManyRequests, Description: "Too many requests"}
	switch {
	case a.ForgetRefusedPIN(w.wrongPIN(), wrong):
		t.Fatal("forgot the kept PIN when another one was refused")
	case a.ForgetRefusedPIN(kept, locked, nil):
		t.Fatal("forgot the kept PIN after a lock")
	case a.ForgetRefusedPIN("", wrong):
		t.Fatal("forgot the kept PIN for a request without one")
	case !a.ForgetRefusedPIN(kept, nil, wrong):
		t.Fatal("kept a PIN the server refused")
	}
	if a.KeepsPIN() || a.PIN() != "" || !a.AsksPIN() || a.ForgetRefusedPIN(kept, wrong) {
		t.Fatal("the refused PIN is still given")
	}
	if err := a.SaveProfile(ctx); err != nil {
		t.Fatal(err)
	}
	stored, err := w.env.Store.Load(ctx, "treasury")
	if err != nil || stored.KeepPIN || stored.PIN != "" {
		t.Fatalf("the keyring still keeps the refused PIN (%v)", err)
	}
}

// TestNewAccountReadsNothing: an account made of a desk reads no balances
// and saves nothing.
func TestNewAccountReadsNothing(t *testing.T) {
	a := New("t", keystore.Profile{KeepPIN: true}, rail.User{}, nil)
	if _, err := a.Balances(context.Background()); !errors.Is(err, ErrNoBalances) {
		t.Fatalf("balances: %v", err)
	}
	if err := a.SaveProfile(context.Background()); err != nil || a.Close() != nil {
		t.Fatal("an account of parts saved or closed something")
	}
}
