package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"mixdesk/internal/qrscan"
	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/mixin/sandbox"
)

const (
	payAsset     = "4d8c508b-91c5-375b-92b0-ee702ed2dac5"
	payRecipient = "8dcf823d-9eb3-4da2-8734-f0aad50c0da6"
	payTrace     = "0b4f49dc-8fb4-4539-9a89-fb3afc613747"
)

// payurl runs `mixdesk payurl ARGS` and returns its exit status, stdout and
// stderr.
func payurl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	rc := run(append([]string{"payurl"}, args...), &out, &errb)
	return rc, out.String(), errb.String()
}

// useKeyring puts an in-memory keyring in place of the system one for the
// rest of the test (these tests are not parallel).
func useKeyring(t *testing.T, m *keystore.Memory) {
	t.Helper()
	old := payurlKeyring
	payurlKeyring = func() keystore.Backend { return m }
	t.Cleanup(func() { payurlKeyring = old })
}

// noKeyring makes every keyring call fail as on a machine without a
// session bus.
func noKeyring(t *testing.T) {
	t.Helper()
	m := keystore.NewMemory()
	m.SetFault(func(keystore.Op, string, string) error { return keystore.ErrNoBus })
	useKeyring(t, m)
}

func TestPayURLPrintsALinkThatReadsBack(t *testing.T) {
	noKeyring(t) // --recipient is given: the keyring is never asked
	cases := []struct {
		name string
		args []string
		want mixin.PayRequest
	}{
		{"all fields", []string{"--asset", payAsset, "--amount", "12.50", "--memo", "invoice 42 · café", "--trace", payTrace, "--recipient", payRecipient},
			mixin.PayRequest{Recipient: payRecipient, AssetID: payAsset, Amount: "12.5", TraceID: payTrace, Memo: "invoice 42 · café"}},
		{"no memo", []string{"--recipient", payRecipient, "--asset", payAsset, "--amount", "0.00000001", "--trace", payTrace},
			mixin.PayRequest{Recipient: payRecipient, AssetID: payAsset, Amount: "0.00000001", TraceID: payTrace}},
		{"memo with + and %", []string{"--recipient", payRecipient, "--asset", payAsset, "--amount", "3", "--trace", payTrace, "--memo", "1+1 = 100% 茶"},
			mixin.PayRequest{Recipient: payRecipient, AssetID: payAsset, Amount: "3", TraceID: payTrace, Memo: "1+1 = 100% 茶"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc, out, errs := payurl(t, tc.args...)
			if rc != 0 || errs != "" {
				t.Fatalf("rc %d, stderr %q", rc, errs)
			}
			if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
				t.Fatalf("stdout is not one line: %q", out)
			}
			link := strings.TrimSuffix(out, "\n")
			if strings.Contains(link, "+") || strings.Contains(link, " ") {
				t.Errorf("a space is not escaped as %%20: %s", link)
			}
			got, err := mixin.ParsePayURL(link)
			if err != nil || got != tc.want {
				t.Fatalf("%s reads back as %+v, %v; want %+v", link, got, err, tc.want)
			}
		})
	}
}

func TestPayURLMakesANewTraceEachTime(t *testing.T) {
	noKeyring(t)
	seen := map[string]bool{}
	for range 3 {
		rc, out, errs := payurl(t, "--asset", payAsset, "--amount", "1", "--recipient", payRecipient)
		if rc != 0 {
			t.Fatalf("rc %d: %s", rc, errs)
		}
		p, err := mixin.ParsePayURL(strings.TrimSpace(out))
		if err != nil {
			t.Fatal(err)
		}
		if u, err := uuid.Parse(p.TraceID); err != nil || u.Version() != 4 {
			t.Fatalf("trace %q is not a uuid v4", p.TraceID)
		}
		if seen[p.TraceID] {
			t.Fatal("a trace was made twice")
		}
		seen[p.TraceID] = true
	}
}

func TestPayURLQRDecodesToTheLink(t *testing.T) {
	noKeyring(t)
	rc, out, errs := payurl(t, "--asset", payAsset, "--amount", "250", "--memo", "rent · März", "--recipient", payRecipient, "--qr")
	if rc != 0 || errs != "" {
		t.Fatalf("rc %d, stderr %q", rc, errs)
	}
	link, rest, ok := strings.Cut(out, "\n")
	if !ok || !strings.HasPrefix(rest, "\n") {
		t.Fatalf("want the link, a blank line and the QR code; got %q", out)
	}
	if strings.Contains(out, "\x1b") {
		t.Error("the output holds escape sequences; a script gets plain text")
	}
	got, err := qrscan.Decode(strings.TrimPrefix(rest, "\n"))
	if err != nil {
		t.Fatalf("%v\n%s", err, rest)
	}
	if got != link {
		t.Fatalf("the QR code reads %q, want the link %q", got, link)
	}
	if rows := strings.Count(rest, "\n") - 1; rows > 40 {
		t.Errorf("the QR code is %d rows tall", rows)
	}
}

func TestPayURLBadInputNamesTheFlag(t *testing.T) {
	noKeyring(t)
	base := func(over ...string) []string {
		args := map[string]string{"--asset": payAsset, "--amount": "1", "--recipient": payRecipient}
		for i := 0; i+1 < len(over); i += 2 {
			args[over[i]] = over[i+1]
		}
		var out []string
		for k, v := range args {
			out = append(out, k, v)
		}
		return out
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"bad amount", base("--amount", "1,000"), "--amount: no digit grouping"},
		{"negative amount", base("--amount", "-5"), "--amount: no sign allowed"},
		{"zero amount", base("--amount", "0"), "--amount: must be greater than zero"},
		{"too precise", base("--amount", "0.000000001"), "--amount: at most 8 digits after the point"},
		{"bad asset", base("--asset", "USDT"), "--asset: not a UUID"},
		{"bad recipient", base("--recipient", "alice"), "--recipient: not a UUID"},
		{"bad trace", base("--trace", "123"), "--trace: not a UUID"},
		{"long memo", base("--memo", strings.Repeat("m", 141)), "--memo: 141 characters; at most 140"},
		{"control in memo", base("--memo", "a\tb"), "--memo: contains a control character"},
		{"no asset", []string{"--amount", "1", "--recipient", payRecipient}, "--asset is required"},
		{"no amount", []string{"--asset", payAsset, "--recipient", payRecipient}, "--amount is required"},
		{"unknown flag", append(base(), "--colour", "red"), "unknown flag --colour"},
		{"stray argument", append(base(), "now"), `unexpected argument "now"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc, out, errs := payurl(t, tc.args...)
			if rc != 2 {
				t.Errorf("rc %d, want 2", rc)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if !strings.HasPrefix(errs, "mixdesk payurl: ") || !strings.Contains(errs, tc.want) || strings.Count(errs, "\n") != 1 {
				t.Errorf("stderr %q, want one line with %q", errs, tc.want)
			}
		})
	}
}

func TestPayURLRecipientFromTheProfile(t *testing.T) {
	_, w, err := sandbox.NewWorld(sandbox.Options{Seed: 99, Operator: sandbox.SessionOptions{Kind: mixin.KeyEd25519}})
	if err != nil {
		t.Fatal(err)
	}
	m := keystore.NewMemory()
	store, err := keystore.New(m, keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := store.Save(ctx, "treasury", keystore.Profile{Credentials: w.Operator, KeepPIN: true}, false); err != nil {
		t.Fatal(err)
	}
	if err := store.SetDefault(ctx, ""); err != nil { // the first profile saved became the default
		t.Fatal(err)
	}
	useKeyring(t, m)

	// No default profile: say so, and what to pass.
	rc, out, errs := payurl(t, "--asset", payAsset, "--amount", "1")
	if rc != 2 || out != "" || !strings.Contains(errs, "pass --recipient") || strings.Count(errs, "\n") != 1 {
		t.Fatalf("no default profile: rc %d, stdout %q, stderr %q", rc, out, errs)
	}
	if err := store.SetDefault(ctx, "treasury"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"payurl", "--asset", payAsset, "--amount", "1"},
		{"payurl", "--profile", "treasury", "--asset", payAsset, "--amount", "1"},
		{"--profile", "treasury", "payurl", "--asset", payAsset, "--amount", "1"},
	} {
		var o, e bytes.Buffer
		if rc := run(args, &o, &e); rc != 0 {
			t.Fatalf("%v: rc %d: %s", args, rc, e.String())
		}
		p, err := mixin.ParsePayURL(strings.TrimSpace(o.String()))
		if err != nil || p.Recipient != w.OperatorUser.UserID {
			t.Fatalf("%v: %+v %v; want the profile's client id %s", args, p, err, w.OperatorUser.UserID)
		}
		for _, secret := range []string{w.Operator.PIN, w.Operator.PrivateKey, w.Operator.PINToken, w.Operator.SessionID} {
			if strings.Contains(o.String()+e.String(), secret) {
				t.Fatal("payurl printed a secret of the profile")
			}
		}
	}
	rc, _, errs = payurl(t, "--profile", "payroll", "--asset", payAsset, "--amount", "1")
	if rc != 2 || !strings.Contains(errs, `no profile named "payroll"`) || !strings.Contains(errs, "pass --recipient") {
		t.Fatalf("unknown profile: rc %d, %q", rc, errs)
	}
	// --recipient wins over the profile.
	rc, out, _ = payurl(t, "--recipient", payRecipient, "--asset", payAsset, "--amount", "1")
	if p, _ := mixin.ParsePayURL(strings.TrimSpace(out)); rc != 0 || p.Recipient != payRecipient {
		t.Fatalf("--recipient: rc %d, %s", rc, out)
	}
}

func TestPayURLWithoutKeyringSaysToPassRecipient(t *testing.T) {
	noKeyring(t)
	rc, out, errs := payurl(t, "--asset", payAsset, "--amount", "1")
	if rc != 2 || out != "" {
		t.Fatalf("rc %d, stdout %q", rc, out)
	}
	if strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "no keyring") || !strings.Contains(errs, "pass --recipient USER_ID") {
		t.Fatalf("stderr %q", errs)
	}
}

func TestPayURLHelpAndSandbox(t *testing.T) {
	rc, out, _ := payurl(t, "--help")
	if rc != 0 || !strings.Contains(out, "--recipient ID") || !strings.Contains(out, "--qr") {
		t.Fatalf("payurl --help: rc %d, %q", rc, out)
	}
	var o, e bytes.Buffer
	if rc := run([]string{"--help"}, &o, &e); rc != 0 || !strings.Contains(o.String(), "mixdesk payurl --asset ID") {
		t.Fatalf("--help does not mention payurl: %q", o.String())
	}
	o.Reset()
	if rc := run([]string{"--sandbox", "payurl", "--asset", payAsset, "--amount", "1"}, &o, &e); rc != 2 || !strings.Contains(e.String(), "pass --recipient") {
		t.Fatalf("--sandbox payurl: rc %d, %q", rc, e.String())
	}
}

// TestCommandLineSpeaksItsOwnFlags: help as a command, flags named with
// the two dashes the usage writes them with, and no stray argument taken.
func TestCommandLineSpeaksItsOwnFlags(t *testing.T) {
	for _, c := range []struct {
		args   []string
		rc     int
		stdout string
		stderr string
	}{
		{[]string{"help"}, 0, "Usage:", ""},
		{[]string{"help", "payurl"}, 0, "mixdesk payurl --asset ID", ""},
		{[]string{"help", "journal"}, 0, "journal verify", ""},
		{[]string{"help", "nope"}, 2, "", `no help on "nope"`},
		{[]string{"-bogus"}, 2, "", "unknown flag --bogus (see mixdesk --help)"},
		{[]string{"--bogus"}, 2, "", "unknown flag --bogus (see mixdesk --help)"},
		{[]string{"--profile"}, 2, "", "--profile needs a value"},
		{[]string{"--version", "extra"}, 2, "", `--version takes no argument, got "extra"`},
	} {
		var out, errb bytes.Buffer
		rc := run(c.args, &out, &errb)
		if rc != c.rc || !strings.Contains(out.String(), c.stdout) || !strings.Contains(errb.String(), c.stderr) {
			t.Errorf("%v: rc %d, stdout %.60q, stderr %q; want rc %d with %q / %q", c.args, rc, out.String(), errb.String(), c.rc, c.stdout, c.stderr)
		}
		if c.stderr != "" && strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("%v: stderr %q is not one line", c.args, errb.String())
		}
	}
}
