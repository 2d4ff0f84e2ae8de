package safe

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"

	"mixdesk/mixin"
)

var serverPubHex = hex.EncodeToString(ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey))

func vectorKeystore() Keystore {
	return Keystore{AppID: senderID, SessionID: sessionID, ServerPublicKey: serverPubHex,
		SessionPrivateKey: sessionSeedHex, SpendPrivateKey: senderSpendHex}
}

func keystoreJSON(t *testing.T, k Keystore) string {
	t.Helper()
	b, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseKeystoreJSON(t *testing.T) {
	text := `  {"app_id":"` + senderID + `","session_id":"` + sessionID + `","server_public_key":"` + serverPubHex +
		`","session_private_key":"` + sessionSeedHex + `","spend_private_key":"` + strings.ToUpper(senderSpendHex) + `","extra":1}` + "\n"
	k, err := ParseKeystore(text)
	if err != nil {
		t.Fatal(err)
	}
	acct, err := k.Open()
	if err != nil {
		t.Fatal(err)
	}
	if acct.AppID != senderID || acct.Spend().Public().String() != "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8" ||
		acct.Session().ClientID != senderID || acct.Session().SessionID != sessionID {
		t.Fatalf("account %v", acct)
	}
	// The dashboard's download without the spend key parses; Open asks for it.
	noSpend := vectorKeystore()
	noSpend.SpendPrivateKey = ""
	k, err = ParseKeystore(keystoreJSON(t, noSpend)[:len(keystoreJSON(t, noSpend))-len(`,"spend_private_key":""}`)] + "}")
	if err != nil || k.SpendPrivateKey != "" {
		t.Fatalf("without spend key: %v", err)
	}
	if _, err := k.Open(); fieldOf(err) != FieldSpendPrivateKey {
		t.Fatalf("open without spend key: %v", err)
	}
}

func fieldOf(err error) string {
	var fe *mixin.FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

func TestParseKeystoreErrors(t *testing.T) {
	for _, c := range []struct{ text, field string }{
		{``, FieldKeystore},
		{`[1,2]`, FieldKeystore},
		{`{"app_id": "` + senderID + `"`, FieldKeystore},
		{`{"session_id":"a","server_public_key":"b","session_private_key":"c"}`, FieldAppID},
		{`{"app_id":"a","server_public_key":"b","session_private_key":"c"}`, FieldSessionID},
		{`{"app_id":"a","session_id":"a","session_private_key":"c"}`, FieldServerPublicKey},
		{`{"app_id":"a","session_id":"a","server_public_key":"b"}`, FieldSessionPrivateKey},
		{`{"app_id":"a","session_id":"a","server_public_key":"b","session_private_key":7}`, FieldSessionPrivateKey},
	} {
		if _, err := ParseKeystore(c.text); fieldOf(err) != c.field {
			t.Errorf("%q: %v, want field %s", c.text, err, c.field)
		}
	}
}

// TestOpenNamesTheBadField: each bad field gets one line naming it and
// never quoting a key.
func TestOpenNamesTheBadField(t *testing.T) {
	secret := "9" + sessionSeedHex[1:]
	for _, c := range []struct {
		name  string
		edit  func(*Keystore)
		field string
	}{
		{"app id", func(k *Keystore) { k.AppID = "app" }, FieldAppID},
		{"session id", func(k *Keystore) { k.SessionID = "" }, FieldSessionID},
		{"server key not hex", func(k *Keystore) { k.ServerPublicKey = "zz" + serverPubHex[2:] }, FieldServerPublicKey},
		{"server key short", func(k *Keystore) { k.ServerPublicKey = serverPubHex[:62] }, FieldServerPublicKey},
		{"server key not a point", func(k *Keystore) { k.ServerPublicKey = notPoint }, FieldServerPublicKey},
		{"session key short", func(k *Keystore) { k.SessionPrivateKey = secret[:60] }, FieldSessionPrivateKey},
		{"session key not hex", func(k *Keystore) { k.SessionPrivateKey = "g" + secret[1:] }, FieldSessionPrivateKey},
		{"spend key empty", func(k *Keystore) { k.SpendPrivateKey = " " }, FieldSpendPrivateKey},
		{"spend key short", func(k *Keystore) { k.SpendPrivateKey = secret[:63] }, FieldSpendPrivateKey},
		{"spend key is the session key", func(k *Keystore) { k.SpendPrivateKey = k.SessionPrivateKey }, FieldSpendPrivateKey},
		{"64-byte key with a wrong public half", func(k *Keystore) { k.SpendPrivateKey = secret + secret }, FieldSpendPrivateKey},
	} {
		k := vectorKeystore()
		k.SessionPrivateKey = secret
		c.edit(&k)
		_, err := k.Open()
		if fieldOf(err) != c.field {
			t.Errorf("%s: %v, want field %s", c.name, err, c.field)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || strings.Contains(msg, secret[:16]) || strings.Contains(msg, senderSpendHex[:16]) {
			t.Errorf("%s: %q", c.name, msg)
		}
	}
	// A 64-byte Ed25519 key (seed ‖ public) in hex is its seed.
	k := vectorKeystore()
	full := ed25519.NewKeyFromSeed(mustHex(t, senderSpendHex))
	k.SpendPrivateKey = hex.EncodeToString(full)
	acct, err := k.Open()
	if err != nil || acct.Spend().Public().String() != hex.EncodeToString(full[32:]) {
		t.Fatalf("64-byte key: %v", err)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	k := vectorKeystore()
	acct, err := k.Open()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{k, &k, acct, acct.Spend(), *acct} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			out := fmt.Sprintf(verb, v)
			for _, secret := range []string{sessionSeedHex, senderSpendHex, scalarOf(acct.Spend()).String()} {
				if strings.Contains(out, secret[:12]) || strings.Contains(out, fmt.Sprintf("%x", secret[:12])) {
					t.Errorf("%s of %T prints a secret: %s", verb, v, out)
				}
			}
		}
	}
	if !strings.Contains(fmt.Sprint(k), "[redacted]") || !strings.Contains(fmt.Sprint(acct), senderID) {
		t.Fatalf("%v / %v", k, acct)
	}
}

func TestDetectSessionKind(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}))
	edKey := ed25519.NewKeyFromSeed(mustHex(t, sessionSeedHex))
	edB64 := base64.RawURLEncoding.EncodeToString(edKey)
	legacyJSON := func(key string) string {
		b, _ := json.Marshal(map[string]string{"pin": "", "client_id": senderID, "session_id": sessionID, "pin_token": "x", "private_key": key})
		return string(b)
	}
	noSpend := vectorKeystore()
	noSpend.SpendPrivateKey = ""
	for _, c := range []struct {
		name, text string
		want       SessionKind
	}{
		{"Safe keystore", keystoreJSON(t, vectorKeystore()), KindSafe},
		{"Safe keystore without spend key", keystoreJSON(t, noSpend), KindSafeNoSpend},
		{"legacy RSA PEM", rsaPEM, KindLegacyRSA},
		{"legacy RSA keystore", legacyJSON(rsaPEM), KindLegacyRSA},
		{"legacy Ed25519 key", edB64, KindLegacyEd25519},
		{"legacy Ed25519 keystore", legacyJSON(edB64), KindLegacyEd25519},
		{"legacy keystore with a hex seed", legacyJSON(sessionSeedHex), KindLegacyEd25519},
		{"bare hex seed", "  " + sessionSeedHex + "\n", KindEd25519Seed},
		{"nothing", "", KindUnknown},
		{"words", "hello there", KindUnknown},
		{"broken JSON", `{"spend_private_key":`, KindUnknown},
	} {
		if got := DetectSessionKind(c.text); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
		if DetectSessionKind(c.text).String() == "" {
			t.Errorf("%s: no description", c.name)
		}
	}
}
