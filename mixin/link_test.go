package mixin

import (
	"strings"
	"testing"
)

const (
	tRecipient = "8dcf823d-9eb3-4da2-8734-f0aad50c0da6"
	tAsset     = "c6d0c728-2624-429b-8e0d-d9d19b6592fa"
	tTrace     = "0f8fad5b-d9cb-469f-a165-70867728950e"
)

func TestPayURLRoundTrip(t *testing.T) {
	cases := []PayRequest{
		{Recipient: tRecipient, AssetID: tAsset, Amount: "0.5", TraceID: tTrace},
		{Recipient: tRecipient, AssetID: tAsset, Amount: "12", TraceID: tTrace, Memo: "invoice 42 & co +1 100%"},
		{Recipient: tRecipient, AssetID: tAsset, Amount: "1", TraceID: tTrace, Memo: "付款 ✓"},
	}
	for _, p := range cases {
		link, err := PayURL(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(link, "https://mixin.one/pay?recipient="+tRecipient+"&asset="+tAsset+"&amount="+p.Amount+"&trace="+tTrace) {
			t.Fatalf("link %s", link)
		}
		if strings.Contains(link, "+") {
			t.Fatalf("space or plus not percent-escaped: %s", link)
		}
		back, err := ParsePayURL(link)
		if err != nil {
			t.Fatal(err)
		}
		if back != p {
			t.Fatalf("round trip %+v != %+v", back, p)
		}
	}
	if link, _ := PayURL(cases[1]); !strings.Contains(link, "invoice%2042%20%26%20co%20%2B1%20100%25") {
		t.Fatalf("memo escaping: %s", link)
	}
}

func TestPayURLRefusesBadRequests(t *testing.T) {
	base := PayRequest{Recipient: tRecipient, AssetID: tAsset, Amount: "1", TraceID: tTrace}
	for name, mut := range map[string]func(*PayRequest){
		"amount":    func(p *PayRequest) { p.Amount = "1e3" },
		"recipient": func(p *PayRequest) { p.Recipient = "me" },
		"trace":     func(p *PayRequest) { p.TraceID = "" },
		"memo":      func(p *PayRequest) { p.Memo = strings.Repeat("x", 141) },
	} {
		p := base
		mut(&p)
		if _, err := PayURL(p); err == nil {
			t.Errorf("%s: bad request built a link", name)
		}
	}
}

func TestParsePayURLRefuses(t *testing.T) {
	ok := "https://mixin.one/pay?recipient=" + tRecipient + "&asset=" + tAsset + "&amount=1&trace=" + tTrace
	if _, err := ParsePayURL(ok); err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePayURL("mixin://pay?recipient=" + tRecipient + "&asset=" + tAsset + "&amount=1&trace=" + tTrace); err != nil {
		t.Fatalf("mixin scheme: %v", err)
	}
	for _, bad := range []string{
		"", "not a link", "http://mixin.one/pay?x=1", "https://evil.example/pay?recipient=" + tRecipient,
		ok + "&amount=2", ok + "&extra=1", strings.Replace(ok, "&trace="+tTrace, "", 1),
		strings.Replace(ok, "amount=1", "amount=-1", 1), ok + "#frag", ok + "&memo=%zz",
	} {
		if _, err := ParsePayURL(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func FuzzPayURL(f *testing.F) {
	f.Add(tRecipient, tAsset, "1.5", tTrace, "memo with spaces+plus&amp")
	f.Add(tRecipient, tAsset, "0.00000001", tTrace, "")
	f.Add(tRecipient, tAsset, "1", tTrace, "%20%2B")
	f.Fuzz(func(t *testing.T, rcpt, asset, amount, trace, memo string) {
		p := PayRequest{Recipient: rcpt, AssetID: asset, Amount: amount, TraceID: trace, Memo: memo}
		link, err := PayURL(p)
		if err != nil {
			return
		}
		back, err := ParsePayURL(link)
		if err != nil {
			t.Fatalf("own link %q refused: %v", link, err)
		}
		again, _ := PayURL(back)
		if again != link {
			t.Fatalf("round trip changed the link: %q → %q", link, again)
		}
	})
}

func FuzzParsePayURL(f *testing.F) {
	f.Add("https://mixin.one/pay?recipient=" + tRecipient + "&asset=" + tAsset + "&amount=1&trace=" + tTrace + "&memo=a%20b")
	f.Add("mixin://pay?amount=1")
	f.Add("https://mixin.one/pay?%")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePayURL(s)
		if err != nil {
			return
		}
		if _, err := PayURL(p); err != nil {
			t.Fatalf("parsed %q into an invalid request: %v", s, err)
		}
	})
}
