package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// openForm opens the transfer form from the balances.
func openForm(t *testing.T, a *App, p *pump) *transferScreen {
	t.Helper()
	p.typ("t")
	if a.screen != screenTransfer {
		t.Fatalf("t opened screen %d, want the transfer form", a.screen)
	}
	return a.transfer()
}

// toMemo fills the form with USDT, the rig's recipient and an amount, and
// leaves the focus on the memo.
func toMemo(t *testing.T, a *App, p *pump, r *rig, amount string) *transferScreen {
	t.Helper()
	tr := openForm(t, a, p)
	p.typ("usdt")
	p.press(tea.KeyEnter)
	p.typ(r.rcpt.IdentityNumber)
	p.until("the recipient", func(a *App) bool { return tr.rcpt.user != nil })
	p.press(tea.KeyTab)
	p.typ(amount)
	p.press(tea.KeyTab)
	return tr
}

// TestTransferTabOnEmptyAssetChoosesNothing: leaving the asset field with
// nothing typed or pointed at chooses no asset (it once took the first of
// the list, BTC): the field stays empty and says so, and Review names what
// is missing. ↓ points at the first asset, and only then tab takes it.
func TestTransferTabOnEmptyAssetChoosesNothing(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	a, p := startHome(t, r, termW, termH)
	tr := openForm(t, a, p)
	mustNotContain(t, a.View(), "▸") // nothing highlighted: nothing would be taken

	p.press(tea.KeyTab)
	if tr.picker.chosen != nil || tr.picker.input.Value() != "" || tr.focus != tfRecipient {
		t.Fatalf("tab on the empty asset field: chosen %+v, field %q, focus %d", tr.picker.chosen, tr.picker.input.Value(), tr.focus)
	}
	v := a.View()
	checkGolden(t, "left_empty", v, termW)
	mustContain(t, v, "no asset chosen: type its symbol or name here, or ↑/↓ to pick one")
	mustNotContain(t, v, "Bitcoin · balance")

	p.press(tea.KeyTab, tea.KeyTab, tea.KeyTab, tea.KeyEnter) // → Review, pressed
	mustContain(t, a.View(), "Fill in every field first: choose an asset.")

	p.press(tea.KeyTab, tea.KeyDown) // Review → Asset; ↓ points at the first
	mustContain(t, a.View(), "▸ BTC")
	p.press(tea.KeyTab)
	if tr.picker.chosen == nil || tr.picker.chosen.AssetID != btcID {
		t.Fatalf("↓ then tab chose %+v, want BTC", tr.picker.chosen)
	}
	mustNotContain(t, a.View(), "no asset chosen")
}

// TestTransferLongMemoIsRefusedNotCut: a memo longer than 140 characters
// is kept whole and refused with its count (it was once cut to 140 without
// a word); Review stays disabled until it is short enough.
func TestTransferLongMemoIsRefusedNotCut(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	a, p := startHome(t, r, termW, termH)
	tr := toMemo(t, a, p, r, "1")
	p.typ(strings.Repeat("m", 150))
	if n := len(tr.memo.Value()); n != 150 {
		t.Fatalf("the memo holds %d characters of the 150 typed", n)
	}
	if tr.ready() {
		t.Fatal("Review is enabled with a memo of 150 characters")
	}
	v := a.View()
	checkGolden(t, "too_long", v, termW)
	mustContain(t, v, "150/140", "✗ 150 characters; at most 140", "(Review)")

	for range 10 {
		p.press(tea.KeyBackspace)
	}
	p.press(tea.KeyTab)
	v = a.View()
	mustContain(t, v, "140/140", "> Review <")
	mustNotContain(t, v, "✗")
}

// TestTransferMemoFollowsTheRail: the form checks the memo by the rules of
// the profile's rail: on the Safe rail a memo of 100 characters of 3 bytes
// each is over its 256 bytes and refused on the form; the legacy rail
// takes it.
func TestTransferMemoFollowsTheRail(t *testing.T) {
	t.Parallel()
	memo := strings.Repeat("茶", 100)

	sr, _, _ := safeRig(t)
	a, p := startHome(t, sr, termW, termH)
	tr := toMemo(t, a, p, sr, "1")
	p.typ(memo)
	mustContain(t, a.View(), "100/140", "✗ 300 bytes of UTF-8; at most 256")
	if tr.ready() {
		t.Fatal("Review is enabled on the Safe rail with a memo of 300 bytes")
	}

	lr := newRig(t, rigOpts{})
	a, p = startHome(t, lr, termW, termH)
	tr = toMemo(t, a, p, lr, "1")
	p.typ(memo)
	mustNotContain(t, a.View(), "✗")
	if !tr.ready() {
		t.Fatal("Review is disabled on the legacy rail with a memo of 100 characters")
	}
}

// TestTransferEscAsksBeforeDroppingTheDraft: esc on an empty form goes back
// at once; on a draft it asks first (the draft was once dropped without a
// word): any other key keeps the draft and is taken as usual, a second esc
// drops it.
func TestTransferEscAsksBeforeDroppingTheDraft(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	a, p := startHome(t, r, termW, termH)
	openForm(t, a, p)
	p.press(tea.KeyEsc)
	if a.screen != screenHome {
		t.Fatalf("esc on an empty form: screen %d, want the balances", a.screen)
	}

	tr := toMemo(t, a, p, r, "12.5")
	p.press(tea.KeyEsc)
	if a.screen != screenTransfer {
		t.Fatal("one esc dropped the draft")
	}
	v := a.View()
	checkGolden(t, "asked", v, termW)
	mustContain(t, v, "esc again drops this draft and goes back to the balances; any other key keeps it.", "esc drop the draft")

	p.typ("x") // any other key: the draft stays, and the key is typed
	v = a.View()
	mustNotContain(t, v, "esc again drops", "drop the draft")
	if tr.memo.Value() != "x" || tr.amount.Value() != "12.5" {
		t.Fatalf("after another key: memo %q, amount %q", tr.memo.Value(), tr.amount.Value())
	}

	p.press(tea.KeyEsc, tea.KeyEsc)
	if a.screen != screenHome {
		t.Fatalf("two esc: screen %d, want the balances", a.screen)
	}
	if tr := openForm(t, a, p); tr.hasDraft() {
		t.Fatal("the dropped draft came back")
	}
}

// TestTransferFieldMessagesShareOneStyle: every message under a field is
// worded alike: no field name in front (the label is on the line above),
// lower case, no full stop after one sentence. The recipient's read
// "Recipient: no such user." beside the amount's "not a plain decimal".
func TestTransferFieldMessagesShareOneStyle(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	a, p := startHome(t, r, termW, termH)
	tr := openForm(t, a, p)
	p.typ("usdt")
	p.press(tea.KeyEnter)
	p.typ("7999999")
	p.until("the look-up", func(a *App) bool { return tr.rcpt.err != "" })
	p.press(tea.KeyTab)
	p.typ("1.2.3")
	v := a.View()
	checkGolden(t, "errors", v, termW)
	if l := strings.TrimSpace(lineWith(v, "✗ no such")); l != "✗ no such user" {
		t.Errorf("the recipient's message reads %q, want %q", l, "✗ no such user")
	}
	mustNotContain(t, v, "Recipient: ", "user.")
	for _, l := range strings.Split(v, "\n") {
		if i := strings.Index(l, "✗ "); i >= 0 {
			msg := strings.TrimSpace(l[i+len("✗ "):])
			if msg != fieldText(msg) {
				t.Errorf("field message %q is not in the style of the others (%q)", msg, fieldText(msg))
			}
		}
	}
}

// TestTransferCapsGroupedAndFlaggedWhileTyping: the per-transfer cap is
// flagged as the amount is typed, as the balance is (it once showed only
// after Review), and the caps' amounts read with grouped digits on the
// form as on the confirmation.
func TestTransferCapsGroupedAndFlaggedWhileTyping(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	cfg := filepath.Join(t.TempDir(), "config.toml")
	conf := "[limits.\"" + usdtID + "\"]\nper_transfer = \"2500\"\ndaily = \"3000\"\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	r.deps.Env.ConfigPath = cfg
	a, p := startHome(t, r, termW, termH)
	tr := toMemo(t, a, p, r, "2600")
	p.press(tea.KeyShiftTab) // back on the amount: nothing else pressed
	v := a.View()
	checkGolden(t, "per_transfer", v, termW)
	mustContain(t, v, "✗ over the per-transfer cap of 2,500 USDT", "(Review)")
	if tr.ready() {
		t.Fatal("Review is enabled over the per-transfer cap")
	}
	if n := r.calls.count("GET /assets/:id"); n != 0 {
		t.Errorf("a review was asked for (%d asset reads) over the per-transfer cap", n)
	}
	p.press(tea.KeyEsc, tea.KeyEsc)

	p.toConfirm(r, "2500")
	mustContain(t, a.View(), "Caps          per payout 2,500 · daily 3,000: used 0, left after this 500 USDT")
	p.confirmKept("2500")
	p.until("paid", func(a *App) bool { return a.screen == screenResult && a.result().res != nil && !a.result().busy() })
	p.press(tea.KeyEsc)

	tr = toMemo(t, a, p, r, "600")
	p.press(tea.KeyTab, tea.KeyEnter)
	p.until("the review", func(a *App) bool { return !tr.reviewing })
	mustContain(t, flat(a.View()), "✗ over the daily cap 3,000 USDT: used 2,500, left 500 (last 24 h, payouts in doubt included)")
}
