package mixin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

const hostile = "Mallory\x1b]52;c;ZWNobyBoaQ==\a\x1b[2J\u202e\u200b(37160001)\u2028\u009b"

// hostileAPI answers every call with data, its strings set to hostile.
func hostileAPI(t *testing.T, data string) *Client {
	t.Helper()
	c, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request, i int) {
		echo(w, r)
		io.WriteString(w, `{"data":`+data+`}`)
	})
	return c
}

func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Every free-text string of every answer is display-safe once decoded,
// whichever call decoded it.
func TestAnswersAreCleanedWhereTheyAreDecoded(t *testing.T) {
	h := js(hostile)
	user := `{"user_id":"` + tRecipient + `","identity_number":"37160002","full_name":` + h + `}`
	asset := `{"asset_id":"` + tAsset + `","chain_id":"` + tAsset + `","symbol":` + h + `,"name":` + h + `,"icon_url":` + h + `,"balance":` + h + `,"price_usd":` + h + `,"change_usd":` + h + `}`
	snap := `{"type":` + h + `,"snapshot_id":"` + tTrace + `","trace_id":"` + tTrace + `","asset_id":"` + tAsset + `","opponent_id":"` + tRecipient +
		`","amount":` + h + `,"opening_balance":` + h + `,"closing_balance":` + h + `,"memo":` + h + `,"created_at":"2026-11-26T12:00:00Z"}`
	ctx := context.Background()
	var texts []string
	u := func(x *User, err error) {
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, x.FullName)
	}
	a := func(x *Asset) { texts = append(texts, x.Symbol, x.Name, x.IconURL, x.Balance, x.PriceUSD, x.ChangeUSD) }
	s := func(x *Snapshot) { texts = append(texts, x.Type, x.Amount, x.OpeningBalance, x.ClosingBalance, x.Memo) }

	c := hostileAPI(t, user)
	u(c.Me(ctx))
	u(c.User(ctx, tRecipient))
	u(c.Search(ctx, "37160002"))
	u(c.VerifyPIN(ctx, "123456"))
	c = hostileAPI(t, `[`+asset+`,`+asset+`]`)
	as, err := c.Assets(ctx)
	if err != nil || len(as) != 2 {
		t.Fatal(as, err)
	}
	a(&as[0])
	a(&as[1])
	c = hostileAPI(t, asset)
	one, err := c.Asset(ctx, tAsset)
	if err != nil {
		t.Fatal(err)
	}
	a(one)
	c = hostileAPI(t, `[`+snap+`]`)
	ss, err := c.Snapshots(ctx, SnapshotQuery{})
	if err != nil || len(ss) != 1 {
		t.Fatal(ss, err)
	}
	s(&ss[0])
	c = hostileAPI(t, snap)
	for _, get := range []func() (*Snapshot, error){
		func() (*Snapshot, error) { return c.Snapshot(ctx, tTrace) },
		func() (*Snapshot, error) { return c.TransferByTrace(ctx, tTrace) },
		func() (*Snapshot, error) {
			return c.Transfer(ctx, TransferInput{AssetID: tAsset, OpponentID: tRecipient, Amount: "1", TraceID: tTrace}, "123456")
		},
	} {
		x, err := get()
		if err != nil {
			t.Fatal(err)
		}
		s(x)
	}
	if len(texts) != 4+3*6+4*5 {
		t.Fatalf("%d texts", len(texts))
	}
	want := DisplayText(hostile)
	if want != "Mallory(37160001) " {
		t.Fatalf("DisplayText(hostile) = %q", want)
	}
	for i, got := range texts {
		if got != want {
			t.Errorf("text %d = %q, want %q", i, got, want)
		}
	}
}

// An error's description and extra, and a 5xx body, are cleaned too.
func TestErrorTextIsCleaned(t *testing.T) {
	c, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request, i int) {
		echo(w, r)
		io.WriteString(w, `{"error":{"status":202,"code":10002,"description":`+js(hostile)+`,"extra":{"field":`+js("memo\x1b[2J")+`,"list":[`+js("\u202e")+`]}}}`)
	})
	_, err := c.Me(context.Background())
	var e *Error
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	if e.Field() != "memo" || e.Description != DisplayText(hostile) || e.Extra["list"].([]any)[0] != "" {
		t.Fatalf("error not cleaned: %q %q %v", e.Description, e.Field(), e.Extra)
	}
	checkDisplaySafe(t, hostile, err.Error())

	c, _ = fakeAPI(t, func(w http.ResponseWriter, r *http.Request, i int) {
		w.WriteHeader(502)
		io.WriteString(w, hostile+strings.Repeat("é", 300))
	})
	_, err = c.Transfer(context.Background(), TransferInput{AssetID: tAsset, OpponentID: tRecipient, Amount: "1", TraceID: tTrace}, "123456")
	var se *ServerError
	if !errors.As(err, &se) {
		t.Fatal(err)
	}
	checkDisplaySafe(t, hostile, err.Error())
}

// Ids in answers are UUIDs; an answer with another id is broken, and for a
// transfer that leaves its outcome unknown. Upper-case ids are lower-cased.
func TestAnswerIdsAreChecked(t *testing.T) {
	good := map[string]string{"snapshot_id": tTrace, "trace_id": tTrace, "asset_id": tAsset, "opponent_id": tRecipient}
	snap := func(field, value string) string {
		m := map[string]any{"type": "transfer", "amount": "-1", "created_at": "2026-11-26T12:00:00Z"}
		for k, v := range good {
			m[k] = v
		}
		if value == "<absent>" {
			delete(m, field)
		} else if field != "" {
			m[field] = value
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	transfer := func(c *Client) (*Snapshot, error) {
		return c.Transfer(context.Background(), TransferInput{AssetID: tAsset, OpponentID: tRecipient, Amount: "1", TraceID: tTrace}, "123456")
	}
	for _, field := range []string{"snapshot_id", "trace_id", "asset_id", "opponent_id"} {
		for _, bad := range []string{"x", tTrace + "0", strings.Replace(tTrace, "-", "_", 1), "{" + tTrace[1:35] + "}", strings.Replace(tTrace, "f", "g", 1), "\x1b[2J" + tTrace[4:]} {
			_, err := transfer(hostileAPI(t, snap(field, bad)))
			var pe *ProtocolError
			if !errors.As(err, &pe) || !IsServerOrTransport(err) || !strings.Contains(pe.Reason, field+" is not a UUID") {
				t.Errorf("%s %q: got %v", field, bad, err)
				continue
			}
			checkDisplaySafe(t, bad, pe.Error())
		}
	}
	// Required ids.
	for _, field := range []string{"snapshot_id", "asset_id"} {
		if _, err := transfer(hostileAPI(t, snap(field, "<absent>"))); !IsServerOrTransport(err) || !strings.Contains(err.Error(), field+" is missing") {
			t.Errorf("without %s: got %v", field, err)
		}
	}
	// A deposit has no opponent and may have no trace.
	for _, field := range []string{"trace_id", "opponent_id"} {
		if _, err := transfer(hostileAPI(t, snap(field, ""))); err != nil {
			t.Errorf("empty %s refused: %v", field, err)
		}
	}
	// The position of a bad snapshot in a page is named.
	c := hostileAPI(t, "["+snap("", "")+","+snap("opponent_id", "nope")+"]")
	if _, err := c.Snapshots(context.Background(), SnapshotQuery{}); err == nil || !strings.Contains(err.Error(), "snapshot 2 of 2: opponent_id is not a UUID") {
		t.Errorf("page: got %v", err)
	}
	s, err := transfer(hostileAPI(t, snap("opponent_id", strings.ToUpper(tRecipient))))
	if err != nil || s.OpponentID != tRecipient {
		t.Fatalf("upper-case id: %v %v", s, err)
	}
	if _, err := hostileAPI(t, `[{"asset_id":"`+tAsset+`","chain_id":"btc"}]`).Assets(context.Background()); err == nil || !strings.Contains(err.Error(), "asset 1 of 1: chain_id is not a UUID") {
		t.Errorf("asset: got %v", err)
	}
}

type failingTransport struct{ text string }

func (f failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New(f.text)
}

// A transport failure's text may quote what the other end sent: it is
// display-safe too.
func TestTransportErrorTextIsCleaned(t *testing.T) {
	s, _ := NewSession(newEdSession(t, false).creds)
	c, err := NewClient("https://api.example", s, WithHTTPClient(&http.Client{Transport: failingTransport{"x509: certificate is valid for " + hostile}}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Transfer(context.Background(), TransferInput{AssetID: tAsset, OpponentID: tRecipient, Amount: "1", TraceID: tTrace}, "123456")
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatal(err)
	}
	checkDisplaySafe(t, hostile, err.Error())
}
