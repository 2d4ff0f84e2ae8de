package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"mixdesk/mixin"
)

func TestPINVerifyAdvancesIterator(t *testing.T) {
	for _, kind := range []mixin.KeyKind{mixin.KeyEd25519, mixin.KeyRSA} {
		t.Run(kind.String(), func(t *testing.T) {
			e := newEnv(t)
			a := e.newActor("Desk", kind, "")
			pin := a.pin()
			me := decode[mixin.User](t, a.verifyPIN(pin))
			if me.UserID != a.user.UserID || !me.HasPIN {
				t.Fatalf("/pin/verify = %+v", me)
			}
			// The same encrypted PIN again: its iterator is used up.
			wantError(t, a.verifyPIN(pin), mixin.CodePINIncorrect, "iterator")
			decode[mixin.User](t, a.verifyPIN(a.pin()))
		})
	}
}

func TestPINEncodingsAccepted(t *testing.T) {
	for _, kind := range []mixin.KeyKind{mixin.KeyEd25519, mixin.KeyRSA} {
		t.Run(kind.String(), func(t *testing.T) {
			e := newEnv(t)
			a := e.newActor("Desk", kind, "")
			key := a.pinKey()
			now := e.clock.Now()
			for i, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
				p := sealPIN(t, key, a.creds.PIN, now.Unix(), uint64(now.UnixNano())+uint64(i), enc)
				decode[mixin.User](t, a.verifyPIN(p))
			}
		})
	}
}

func TestPINFormatErrors(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "")
	key := a.pinKey()
	now := e.clock.Now()
	iter := uint64(now.UnixNano())
	otherKey := make([]byte, 32)
	if _, err := rand.Read(otherKey); err != nil {
		t.Fatal(err)
	}
	short := make([]byte, 32)
	plain := make([]byte, 32)
	copy(plain, "12ab56")
	for i := 22; i < 32; i++ {
		plain[i] = 10
	}
	badPad := make([]byte, 32)
	copy(badPad, a.creds.PIN)
	for name, c := range map[string]struct {
		pin, reason string
	}{
		"plaintext PIN":     {a.creds.PIN, "plaintext"},
		"empty":             {"", "wrong length"},
		"not base64":        {"!!!!not-base64!!!", "not base64"},
		"wrong length":      {base64.StdEncoding.EncodeToString(short), "wrong length"},
		"another key":       {sealPIN(t, otherKey, a.creds.PIN, now.Unix(), iter, base64.StdEncoding), "does not decrypt"},
		"bad padding":       {sealRaw(t, key, badPad, base64.StdEncoding), "does not decrypt"},
		"not digits inside": {sealRaw(t, key, plain, base64.StdEncoding), "not six digits"},
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, a.verifyPIN(c.pin), mixin.CodePINFormat, c.reason)
		})
	}
	// None of these counts towards the lock.
	for range 6 {
		wantError(t, a.verifyPIN("123456"), mixin.CodePINFormat, "")
	}
	decode[mixin.User](t, a.verifyPIN(a.pin()))
}

func TestPINIncorrect(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyRSA, "")
	key := a.pinKey()
	wrong := "000000"
	if a.creds.PIN == wrong {
		wrong = "111111"
	}
	now := e.clock.Now()
	iter := uint64(now.UnixNano())
	next := func() uint64 { iter++; return iter }

	failures := func() int {
		e.srv.mu.Lock()
		defer e.srv.mu.Unlock()
		return len(e.srv.users[a.user.UserID].pinFailures)
	}
	wantError(t, a.verifyPIN(sealPIN(t, key, wrong, now.Unix(), next(), base64.StdEncoding)), mixin.CodePINIncorrect, "")
	wantError(t, a.verifyPIN(sealPIN(t, key, a.creds.PIN, now.Add(-11*time.Minute).Unix(), next(), base64.StdEncoding)), mixin.CodePINIncorrect, "time")
	wantError(t, a.verifyPIN(sealPIN(t, key, a.creds.PIN, now.Add(11*time.Minute).Unix(), next(), base64.StdEncoding)), mixin.CodePINIncorrect, "time")
	wantError(t, a.verifyPIN(sealPIN(t, key, a.creds.PIN, -1, next(), base64.StdEncoding)), mixin.CodePINIncorrect, "time")
	decode[mixin.User](t, a.verifyPIN(sealPIN(t, key, a.creds.PIN, now.Add(9*time.Minute).Unix(), next(), base64.StdEncoding)))
	// Wrong digits and a time off each count as a wrong try.
	if n := failures(); n != 4 {
		t.Fatalf("%d failures counted, want 4", n)
	}
	// A day later those have left the lock window.
	e.clock.Advance(25 * time.Hour)
	now = e.clock.Now()
	// Iterator zero, equal to the last, and below it: each counts too (a
	// held request arriving after a newer one is a wrong try).
	last := iter
	for _, it := range []uint64{0, last, last - 1} {
		wantError(t, a.verifyPIN(sealPIN(t, key, a.creds.PIN, now.Unix(), it, base64.StdEncoding)), mixin.CodePINIncorrect, "iterator")
	}
	// The iterator is not advanced by a failure: last+1 still works.
	wantError(t, a.verifyPIN(sealPIN(t, key, wrong, now.Unix(), last+5, base64.StdEncoding)), mixin.CodePINIncorrect, "")
	decode[mixin.User](t, a.verifyPIN(sealPIN(t, key, a.creds.PIN, now.Unix(), last+1, base64.StdEncoding)))
	if n := failures(); n != 4 || e.srv.PINFailures(a.user.UserID) != 4 {
		t.Fatalf("%d failures counted, want 4", n)
	}
}

func TestPINLock(t *testing.T) {
	e := newEnv(t)
	a := e.newActor("Desk", mixin.KeyEd25519, "100")
	b := e.newActor("Payee", mixin.KeyEd25519, "")
	key := a.pinKey()
	wrong := "000000"
	if a.creds.PIN == wrong {
		wrong = "111111"
	}
	iter := uint64(e.clock.Now().UnixNano())
	seal := func(digits string) string {
		iter = max(iter+1, uint64(e.clock.Now().UnixNano()))
		return sealPIN(t, key, digits, e.clock.Now().Unix(), iter, base64.RawURLEncoding)
	}
	// Stale iterators lock as wrong digits do: five, then 429.
	decode[mixin.User](t, a.verifyPIN(a.pin()))
	for range 5 {
		wantError(t, a.verifyPIN(sealPIN(t, key, a.creds.PIN, e.clock.Now().Unix(), 1, base64.RawURLEncoding)), mixin.CodePINIncorrect, "iterator")
	}
	wantError(t, a.verifyPIN(a.pin()), mixin.CodeTooManyRequests, "locked")
	e.clock.Advance(25 * time.Hour)
	// Four wrong tries, one hour apart, then one through a transfer.
	for range 4 {
		wantError(t, a.verifyPIN(seal(wrong)), mixin.CodePINIncorrect, "")
		e.clock.Advance(time.Hour)
	}
	in := mixin.TransferInput{AssetID: e.asset, OpponentID: b.user.UserID, Amount: "1", TraceID: uuid.NewString()}
	wantError(t, a.do(http.MethodPost, "/transfers", transferJSON(in, seal(wrong))), mixin.CodePINIncorrect, "")

	// Locked: the right PIN is refused on both PIN calls; reads go on.
	wantError(t, a.verifyPIN(a.pin()), mixin.CodeTooManyRequests, "locked")
	wantError(t, a.transfer(in), mixin.CodeTooManyRequests, "locked")
	decode[mixin.User](t, a.get("/me"))
	if a.balance() != "100" || len(e.srv.Ledger()) != 0 {
		t.Fatal("a locked PIN moved money")
	}
	// The first failure leaves the 24-hour window after 20 more hours.
	e.clock.Advance(20*time.Hour + time.Minute)
	decode[mixin.Snapshot](t, a.transfer(in))
	if a.balance() != "99" {
		t.Fatalf("balance %s after unlock", a.balance())
	}
	// Still four failures in the window: one more locks again.
	e.clock.Advance(time.Second)
	wantError(t, a.verifyPIN(seal(wrong)), mixin.CodePINIncorrect, "")
	wantError(t, a.verifyPIN(a.pin()), mixin.CodeTooManyRequests, "")
}
