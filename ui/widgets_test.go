package ui

import (
	"context"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/account"
	"mixdesk/keystore"
	"mixdesk/mixin"
	"mixdesk/payout/rail"
	"time"
)

var pickerAssets = []rail.Asset{
	{AssetID: btcID, Symbol: "BTC", Name: "Bitcoin", Balance: "1"},
	{AssetID: usdtID, Symbol: "USDT", Name: "Tether USD", Balance: "50"},
	{AssetID: "0f0f0f0f-91c5-375b-92b0-ee702ed2dac5", Symbol: "USDT", Name: "Tether USD (other chain)", Balance: "5"},
}

// TestAssetPickerFiltersMovesAndChooses: the picker filters by symbol,
// name or the start of the id, wraps its highlight, writes the chosen
// symbol into its field, and drops the choice once the text is edited.
func TestAssetPickerFiltersMovesAndChooses(t *testing.T) {
	p := newAssetPicker("", pickerAssets)
	if len(p.matches) != 3 {
		t.Fatalf("%d matches with no filter, want 3", len(p.matches))
	}
	p.input.SetValue("usdt")
	p.edited()
	if len(p.matches) != 2 {
		t.Fatalf("%d matches of usdt, want 2", len(p.matches))
	}
	if !p.move(-1) {
		t.Fatal("no list to move in")
	}
	if hl, _ := p.highlighted(); hl.AssetID != pickerAssets[2].AssetID {
		t.Fatalf("↑ from the top is on %s, want the last match", hl.AssetID)
	}
	if !p.choose() || p.chosen == nil || p.chosen.AssetID != pickerAssets[2].AssetID || p.input.Value() != "USDT" {
		t.Fatalf("chosen %+v, field %q", p.chosen, p.input.Value())
	}
	list := p.listView(DefaultStyles(), func(as rail.Asset, twin string) string { return as.Name + "|" + twin })
	mustContain(t, list, "Tether USD|id "+shortID(usdtID), "▸ Tether USD (other chain)|id 0f0f0f0f")

	p.input.SetValue("0f0f")
	p.edited()
	if p.chosen != nil || len(p.matches) != 1 {
		t.Fatalf("after an edit: chosen %+v, %d matches", p.chosen, len(p.matches))
	}
	p.input.SetValue("doge")
	p.edited()
	if p.move(1) || p.choose() || p.chosen != nil {
		t.Fatal("a picker with no match moved or chose")
	}
}

// TestAssetPickerExplicitTakesOnlyWhatIsPointedAt: the asset picker (the
// transfer form's, the payment request's) highlights and takes nothing until a filter is typed or
// the highlight moved: the first ↓ lands on the first asset, the first ↑ on
// the last; clearing the text makes it untouched again.
func TestAssetPickerExplicitTakesOnlyWhatIsPointedAt(t *testing.T) {
	p := newAssetPicker("", pickerAssets)
	if !p.untouched() || p.choose() || p.chosen != nil {
		t.Fatalf("an untouched picker chose %+v", p.chosen)
	}
	if _, ok := p.highlighted(); ok {
		t.Fatal("an untouched picker highlights an asset")
	}
	row := func(as rail.Asset, _ string) string { return as.Symbol }
	if list := p.listView(DefaultStyles(), row); strings.Contains(list, "▸") {
		t.Fatalf("an untouched picker's list marks a row:\n%s", list)
	}
	if !p.move(-1) {
		t.Fatal("no list to move in")
	}
	if hl, _ := p.highlighted(); hl.AssetID != pickerAssets[2].AssetID {
		t.Fatalf("the first ↑ is on %s, want the last asset", hl.AssetID)
	}
	p.input.SetValue("")
	p.edited()
	if !p.untouched() || !p.move(1) {
		t.Fatal("an edit did not make the picker untouched again")
	}
	if !p.choose() || p.chosen.AssetID != pickerAssets[0].AssetID {
		t.Fatalf("the first ↓ then choose took %+v, want the first asset", p.chosen)
	}
	p.input.SetValue("usdt")
	p.edited()
	if p.untouched() || !p.choose() || p.chosen.AssetID != usdtID {
		t.Fatalf("a typed filter then choose took %+v, want the first match", p.chosen)
	}
}

type fakeResolver map[string]*rail.User

func (f fakeResolver) Recipient(_ context.Context, q string) (*rail.User, error) {
	if u, ok := f[q]; ok {
		return u, nil
	}
	return nil, &mixin.Error{Code: 10404, Description: "not found"}
}

// TestRecipientFieldKeepsOnlyTheLatestAnswer: a look-up goes out once the
// pause is over; an answer of an earlier look-up, or for a text no longer
// in the field, is dropped; the field is ready only while its text is the
// one that resolved.
func TestRecipientFieldKeepsOnlyTheLatestAnswer(t *testing.T) {
	ra := alice
	res := fakeResolver{"37169012": &ra}
	f := newRecipientField()
	f.input.SetValue("37169012")
	f.edited(1)
	if !f.resolving || f.ready() {
		t.Fatal("an edited field is not waiting for its look-up")
	}
	if cmd, ok := f.update(resolveTickMsg{gen: 0}, res, &lifetime{}); !ok || cmd != nil {
		t.Fatal("the tick of an earlier edit started a look-up")
	}
	cmd, _ := f.update(resolveTickMsg{gen: 1}, res, &lifetime{})
	if cmd == nil {
		t.Fatal("no look-up after the pause")
	}
	answer := cmd().(recipientMsg)
	f.update(recipientMsg{gen: 1, q: "3716", user: &rail.User{UserID: "x"}}, res, &lifetime{})
	if f.user != nil {
		t.Fatal("an answer for another text was kept")
	}
	f.update(answer, res, &lifetime{})
	if !f.ready() || f.user.UserID != alice.UserID || f.resolving {
		t.Fatalf("user %+v, resolving %v", f.user, f.resolving)
	}
	mustContain(t, f.status(DefaultStyles(), 120), "✓ Alice Ng · Mixin ID 37169012 · "+alice.UserID)
	f.input.SetValue("37169013")
	if f.ready() {
		t.Fatal("ready after the text changed")
	}
}

// TestPINFieldIsMaskedAndCleared: the PIN is drawn as dots, checked for six
// digits, and gone once cleared.
func TestPINFieldIsMaskedAndCleared(t *testing.T) {
	p := newPINField()
	p.Focus()
	for _, c := range "123456" {
		p.Model, _ = p.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{c}})
	}
	row := p.row(DefaultStyles(), true)
	if !p.valid() || strings.Contains(row, "123456") || !strings.Contains(row, "› PIN: ••••••") {
		t.Fatalf("valid %v, row %q", p.valid(), row)
	}
	p.clear()
	if p.Value() != "" || p.valid() {
		t.Fatal("the PIN is still there after clear")
	}
}

// blockingResolver answers only when its context ends.
type blockingResolver struct{ started chan struct{} }

func (b blockingResolver) Recipient(ctx context.Context, _ string) (*rail.User, error) {
	close(b.started)
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestLeavingTheFormEndsItsLookUp: a recipient look-up on its way when the
// operator leaves the transfer form is given up at once (its context is
// cancelled), not left to run until its timeout; its answer is one the
// form drops.
func TestLeavingTheFormEndsItsLookUp(t *testing.T) {
	t.Parallel()
	a := New(Deps{})
	a.Update(tea.WindowSizeMsg{Width: termW, Height: termH})
	a.acct = account.New(profileName, keystore.Profile{}, rail.User{}, nil)
	a.pages[screenTransfer] = newTransferScreen(&a.shared, pickerAssets)
	a.screen = screenTransfer
	f := &a.transfer().rcpt
	f.input.SetValue("37169012")
	f.edited(a.nextGen())
	res := blockingResolver{started: make(chan struct{})}
	cmd, _ := f.update(resolveTickMsg{gen: f.gen}, res, &a.transfer().life)
	answer := make(chan tea.Msg, 1)
	go func() { answer <- cmd() }()
	<-res.started
	a.Update(keyPress("esc")) // a draft asks first: the second esc drops it
	a.Update(keyPress("esc"))
	if a.screen != screenHome {
		t.Fatalf("esc left the form for screen %d", a.screen)
	}
	select {
	case msg := <-answer:
		if m, ok := msg.(recipientMsg); !ok || !leftBehind(m.err) {
			t.Fatalf("the look-up answered %#v", msg)
		}
	case <-time.After(waitLong):
		t.Fatal("the look-up went on after the form was left")
	}
}

// TestHangKeepsLongValuesUnderTheirColumn: a value too long for its row
// (a 64-digit transaction hash, a name with its ids) goes on under its own
// first line, never back at the left edge, and no line passes the width.
func TestHangKeepsLongValuesUnderTheirColumn(t *testing.T) {
	t.Parallel()
	hash := strings.Repeat("5576ff2d", 8)
	got := "  Transaction     " + hang(hash, 18, 70)
	lines := strings.Split(got, "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], strings.Repeat(" ", 18)) || strings.ReplaceAll(strings.Join(lines, ""), " ", "") != "Transaction"+hash {
		t.Fatalf("hang gave %q", got)
	}
	fitsWidth(t, got, 70)
	f := &recipientField{user: &rail.User{UserID: "9607188d-030c-48c9-a2da-252dae7c03d5", IdentityNumber: "7000100002", FullName: "Amara Okafor"}}
	v := f.status(DefaultStyles(), 70)
	fitsWidth(t, v, 70)
	for _, l := range strings.Split(strings.TrimRight(v, "\n"), "\n") {
		if !strings.HasPrefix(l, fieldIndent) {
			t.Errorf("a line of the recipient's check is not under the field: %q", l)
		}
	}
}
