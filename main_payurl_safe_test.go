package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"mixdesk/internal/qrscan"
	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/payout"
	"mixdesk/safe/mixaddress"
	"mixdesk/safe/paylink"
	safesandbox "mixdesk/safe/sandbox"
)

// TestPayURLSafeForm: --safe makes the Safe link and says so on stderr; a
// MIX address makes it without being asked; --legacy keeps the legacy one.
func TestPayURLSafeForm(t *testing.T) {
	noKeyring(t)
	rc, out, errs := payurl(t, "--safe", "--asset", payAsset, "--amount", "12.50", "--memo", "1+1 = 2 茶", "--trace", payTrace, "--recipient", payRecipient)
	if rc != 0 || strings.Count(out, "\n") != 1 {
		t.Fatalf("rc %d, stdout %q, stderr %q", rc, out, errs)
	}
	link := strings.TrimSpace(out)
	p, err := paylink.Parse(link)
	want := paylink.Request{Recipient: payRecipient, AssetID: payAsset, Amount: "12.5", TraceID: payTrace, Memo: "1+1 = 2 茶"}
	if err != nil || p != want || !strings.HasPrefix(link, "https://mixin.one/pay/"+payRecipient+"?") {
		t.Fatalf("%s reads back as %+v, %v", link, p, err)
	}
	if strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "a Safe link (--safe)") || !strings.Contains(errs, payTrace) {
		t.Fatalf("stderr %q", errs)
	}

	// A MIX address is paid only by a Safe link.
	addr, err := mixaddress.New(1, payRecipient)
	if err != nil {
		t.Fatal(err)
	}
	rc, out, errs = payurl(t, "--asset", payAsset, "--amount", "1", "--trace", payTrace, "--recipient", addr.String(), "--qr")
	link, rest, _ := strings.Cut(out, "\n")
	if rc != 0 || !strings.HasPrefix(link, "https://mixin.one/pay/"+addr.String()+"?") || !strings.Contains(errs, "the recipient is a MIX address") {
		t.Fatalf("a MIX address: rc %d, %q, %q", rc, out, errs)
	}
	if got, err := qrscan.Decode(strings.TrimPrefix(rest, "\n")); err != nil || got != link {
		t.Fatalf("the QR code reads %q, %v", got, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--legacy", "--recipient", addr.String()}, "--recipient: a MIX address is paid only through a Safe link"},
		{[]string{"--safe", "--legacy", "--recipient", payRecipient}, "--safe and --legacy"},
		{[]string{"--safe", "--recipient", payRecipient, "--memo", strings.Repeat("茶", 100)}, "--memo: 300 bytes"},
		{[]string{"--recipient", "MIXnotanaddress"}, "--recipient:"},
	} {
		rc, out, errs := payurl(t, append([]string{"--asset", payAsset, "--amount", "1"}, tc.args...)...)
		if rc != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: rc %d, stdout %q, stderr %q; want %q", tc.args, rc, out, errs, tc.want)
		}
	}
	// --legacy with a user id: the legacy link, nothing on stderr.
	rc, out, errs = payurl(t, "--legacy", "--asset", payAsset, "--amount", "1", "--recipient", payRecipient)
	if p, err := mixin.ParsePayURL(strings.TrimSpace(out)); rc != 0 || err != nil || p.Recipient != payRecipient || errs != "" {
		t.Fatalf("--legacy: rc %d, %q, %q", rc, out, errs)
	}
}

// TestPayURLSafeProfile: the app of a Safe profile is paid by a Safe link
// unless --legacy is given.
func TestPayURLSafeProfile(t *testing.T) {
	_, w, err := safesandbox.NewWorld(safesandbox.Options{Seed: 9})
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
	ks := w.Operator
	if err := store.Save(ctx, "vault", keystore.Profile{Safe: &ks}, false); err != nil {
		t.Fatal(err)
	}
	if err := store.SetDefault(ctx, "vault"); err != nil {
		t.Fatal(err)
	}
	useKeyring(t, m)
	app := w.OperatorUser.UserID

	var o, e bytes.Buffer
	if rc := run([]string{"--profile", "vault", "payurl", "--asset", payAsset, "--amount", "5", "--memo", "rent"}, &o, &e); rc != 0 {
		t.Fatalf("rc %d: %s", rc, e.String())
	}
	p, err := paylink.Parse(strings.TrimSpace(o.String()))
	if err != nil || p.Recipient != app || p.Amount != "5" || p.Memo != "rent" {
		t.Fatalf("%s: %+v %v", o.String(), p, err)
	}
	if !strings.Contains(e.String(), "the profile's app is a Safe wallet") {
		t.Fatalf("stderr %q", e.String())
	}
	for _, secret := range []string{w.Operator.SpendPrivateKey, w.Operator.SessionPrivateKey} {
		if strings.Contains(o.String()+e.String(), secret) {
			t.Fatal("payurl printed a secret of the profile")
		}
	}
	rc, out, errs := payurl(t, "--legacy", "--asset", payAsset, "--amount", "5")
	if lp, err := mixin.ParsePayURL(strings.TrimSpace(out)); rc != 0 || err != nil || lp.Recipient != app || errs != "" {
		t.Fatalf("--legacy on a Safe profile: rc %d, %q, %q, %v", rc, out, errs, err)
	}
	// A memo a Safe link cannot carry names the flag.
	rc, out, errs = payurl(t, "--asset", payAsset, "--amount", "5", "--memo", strings.Repeat("茶", 100))
	if rc != 2 || out != "" || !strings.Contains(errs, "--memo: 300 bytes") {
		t.Fatalf("a long memo: rc %d, %q, %q", rc, out, errs)
	}
}

// TestSandboxHostsPayALink: each sandbox host has another user of its
// world pay a link, and the payment is in the world saved to disk.
func TestSandboxHostsPayALink(t *testing.T) {
	ctx := context.Background()
	dir := sandboxDir(t.TempDir(), sandboxSafe)
	h, err := startSafeSandbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	op, usdt := h.world.OperatorUser.UserID, h.world.Assets[2].AssetID
	trace := payout.NewTraceID()
	link, _ := paylink.Build(paylink.Request{Recipient: op, AssetID: usdt, Amount: "7", TraceID: trace})
	line, err := h.payLink(ctx, link)
	if err != nil || !strings.Contains(line, h.world.Users[0].FullName+" paid 7") {
		t.Fatalf("Safe host: %q %v", line, err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	h2, err := startSafeSandbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, q := range h2.srv.Requests() {
		found = found || q.RequestID == trace && q.State == "spent"
	}
	_ = h2.Close()
	if !found {
		t.Fatal("the payment is not in the saved world")
	}

	ldir := sandboxDir(t.TempDir(), sandboxLegacy)
	l, err := startSandbox(ldir)
	if err != nil {
		t.Fatal(err)
	}
	op = l.world.OperatorUser.UserID
	usdt = l.world.Assets[len(l.world.Assets)-1].AssetID
	trace = payout.NewTraceID()
	legacyLink, _ := mixin.PayURL(mixin.PayRequest{Recipient: op, AssetID: usdt, Amount: "3", TraceID: trace})
	if line, err := l.payLink(ctx, legacyLink); err != nil || !strings.Contains(line, " paid 3") {
		t.Fatalf("legacy host: %q %v", line, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := startSandbox(ldir)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	n := 0
	for _, e := range l2.srv.Ledger() {
		if e.TraceID == trace {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d transfers of the trace in the saved world", n)
	}
}
