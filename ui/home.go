package ui

import (
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/shopspring/decimal"

	"mixdesk/payout/rail"
	"mixdesk/policy"
)

// homeScreen shows the profile and its balances, which it reads into the
// shared context for the other screens.
type homeScreen struct {
	ctx     *shared
	loaded  time.Time
	loading bool
	gen     int
	err     string
	doubt   int // payouts of the journal still in doubt

	km homeKeys
}

// homeKeys is the home screen's key map. The help line has short words,
// so that it fits one line of a 100-column terminal, and no quit key of
// its own: the root's one quit hint reads q/ctrl+c here (q quits the
// balances, which have nowhere to go back to; ctrl+c quits everywhere).
type homeKeys struct {
	Transfer, Batch, History, Request, Book, Refresh, Settle, Setup, Quit keyDef
}

func newHomeKeys() homeKeys {
	return homeKeys{
		Transfer: newKey([]string{"t"}, "t", "transfer").long("t", "new payout (transfer)"),
		Batch:    newKey([]string{"f"}, "f", "batch").long("f", "batch of payouts from a CSV file"),
		History:  newKey([]string{"h"}, "h", "history").long("h", "history of payouts and receipts"),
		Request:  newKey([]string{"p"}, "p", "requests").long("p", "payment requests (link and QR code)"),
		Book:     newKey([]string{"b"}, "b", "book").long("b", "address book of saved recipients"),
		Refresh:  newKey([]string{"r"}, "r", "reload").long("r", "read the balances again"),
		Settle:   newKey([]string{"s"}, "s", "settle in-doubt payouts").long("s", "settle the payouts in doubt by their trace"),
		Setup:    newKey([]string{"n"}, "n", "new profile").long("n", "set up a new profile"),
		Quit:     newKey([]string{"q"}, "q", "quit"),
	}
}

type assetsMsg struct {
	gen    int
	assets []rail.Asset
	err    error
}

// journalMovedMsg: payouts were recorded or settled. The home screen counts
// those in doubt again, and reads the balances again when money moved.
type journalMovedMsg struct{ moneyMoved bool }

func newHomeScreen(ctx *shared) *homeScreen {
	return &homeScreen{ctx: ctx, km: newHomeKeys()}
}

// syncKeys enables settling while a payout is in doubt.
func (h *homeScreen) syncKeys() { h.km.Settle.SetEnabled(h.doubt > 0) }

// keys is the help line.
func (h *homeScreen) keys() []key.Binding {
	h.syncKeys()
	k := h.km
	return []key.Binding{k.Transfer.Binding, k.Batch.Binding, k.History.Binding, k.Request.Binding, k.Book.Binding, k.Refresh.Binding,
		k.Settle.Binding, k.Setup.Binding}
}

// fullKeys is the home screen's whole key map, for ?.
func (h *homeScreen) fullKeys() []key.Binding {
	k := h.km
	ks := fullOf(k.Transfer, k.Batch, k.History, k.Request, k.Book, k.Refresh)
	if h.doubt > 0 {
		ks = append(ks, k.Settle.full())
	}
	return append(ks, k.Setup.full(), k.Quit.full())
}

// countDoubt reads how many payouts are in doubt (an in-memory look-up).
func (h *homeScreen) countDoubt() {
	if h.ctx.acct != nil {
		h.doubt = len(h.ctx.acct.Journal().InDoubt())
	}
}

// refresh reads the balances again.
func (h *homeScreen) refresh() tea.Cmd {
	h.gen = h.ctx.nextGen()
	h.loading = true
	h.countDoubt()
	gen, acct := h.gen, h.ctx.acct
	return func() tea.Msg {
		ctx, cancel := within(timeoutRead)
		defer cancel()
		as, err := acct.Balances(ctx)
		return assetsMsg{gen: gen, assets: as, err: err}
	}
}

func (h *homeScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case refreshMsg:
		return h.refresh()
	case journalMovedMsg:
		if msg.moneyMoved {
			return h.refresh() // which counts them too
		}
		h.countDoubt()
		return nil
	case assetsMsg:
		if msg.gen != h.gen {
			return nil // an older refresh
		}
		h.loading = false
		if msg.err != nil {
			h.err = explain(msg.err)
			return nil
		}
		h.err = ""
		h.ctx.balances = sortAssets(msg.assets)
		h.loaded = time.Now()
		return nil
	case tea.KeyMsg:
		return h.onKey(msg)
	}
	return nil
}

func (h *homeScreen) onKey(k tea.KeyMsg) tea.Cmd {
	h.syncKeys()
	km := h.km
	switch {
	case km.Transfer.matches(k):
		h.ctx.ask(openMsg{screenTransfer})
	case km.History.matches(k):
		h.ctx.ask(openMsg{screenHistory})
	case km.Request.matches(k):
		h.ctx.ask(openMsg{screenRequest})
	case km.Book.matches(k):
		h.ctx.ask(openMsg{screenBook})
	case km.Batch.matches(k):
		h.ctx.ask(openMsg{screenBatch})
	case km.Refresh.matches(k):
		return h.refresh()
	case km.Settle.matches(k):
		h.ctx.setStatus("Settling "+plural(h.doubt, "in-doubt payout")+" by trace…", true)
		h.ctx.ask(settleMsg{})
	case km.Setup.matches(k):
		h.ctx.ask(openMsg{screenSetup})
	case km.Quit.matches(k):
		h.ctx.ask(quitMsg{})
	}
	return nil
}

// sortAssets orders by USD value, largest first, then by symbol.
func sortAssets(as []rail.Asset) []rail.Asset {
	out := append([]rail.Asset(nil), as...)
	sort.SliceStable(out, func(i, j int) bool {
		vi, vj := assetValue(out[i]), assetValue(out[j])
		if !vi.Equal(vj) {
			return vi.GreaterThan(vj)
		}
		return out[i].Symbol < out[j].Symbol
	})
	return out
}

func dec(s string) decimal.Decimal {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero
	}
	return d
}

func assetValue(a rail.Asset) decimal.Decimal { return dec(a.Balance).Mul(dec(a.PriceUSD)) }

func (h *homeScreen) view(height int) string {
	st := h.ctx.st
	var b strings.Builder
	if rep := h.ctx.acct.Report; rep != nil && !rep.Intact() {
		// Said on the screen the operator comes back to, not only once.
		b.WriteString(st.Error.Bold(true).Render(para("⚠ JOURNAL BROKEN: "+explain(rep.Err())+" Check it with mixdesk journal verify.", h.ctx.width-2, "")) + "\n\n")
	}
	b.WriteString(h.idLines(st))
	b.WriteString(st.Subtle.Render(para("profile "+h.ctx.acct.Name+h.pinNote(), h.ctx.width-2, "")) + "\n")
	notes := 0 // lines
	for _, n := range []string{h.lockNote(), h.ctx.acct.Warning} {
		if n != "" {
			note := para("⚠ "+clean(n), h.ctx.width-2, "  ")[2:]
			b.WriteString(st.Warn.Render(note) + "\n")
			notes += strings.Count(note, "\n") + 1
		}
	}
	b.WriteString("\n")

	w := h.ctx.width - 2
	symW, amtW, usdW := 8, 26, 18
	nameW := w - symW - amtW - usdW - 6
	if nameW < 8 {
		nameW = 8
	}
	b.WriteString(st.Label.Render(padRight("ASSET", symW)+padRight("NAME", nameW)+padLeft("BALANCE", amtW)+padLeft("VALUE (USD)", usdW)) + "\n")
	total := decimal.Zero
	twins := assetTwins(h.ctx.balances)
	rows := height - 9 - notes
	for i, as := range h.ctx.balances {
		if i >= rows && rows > 0 {
			b.WriteString(st.Subtle.Render("  … "+plural(len(h.ctx.balances)-i, "more asset")) + "\n")
			break
		}
		v := assetValue(as)
		total = total.Add(v)
		name := truncate(as.Name, nameW-1)
		if tag := twins[as.AssetID]; tag != "" {
			// Two assets read alike: the start of the id tells them apart.
			name = truncate(as.Name, max(nameW-1-len(tag)-3, 4)) + " · " + tag
		}
		b.WriteString(padRight(truncate(as.Symbol, symW-1), symW) + padRight(name, nameW) +
			st.Money.Render(padLeft(money(dec(as.Balance)), amtW)) + padLeft(usd(v), usdW) + "\n")
	}
	if len(h.ctx.balances) == 0 && !h.loading && h.err == "" {
		b.WriteString(st.Subtle.Render("No asset holds a balance.") + "\n")
	}
	for _, as := range h.ctx.balances[min(len(h.ctx.balances), max(rows, 0)):] {
		total = total.Add(assetValue(as))
	}
	b.WriteString(strings.Repeat("─", max(w, 10)) + "\n")
	b.WriteString(padRight("TOTAL", symW+nameW+amtW) + st.Money.Render(padLeft(usd(total), usdW)) + "\n\n")
	if h.doubt > 0 {
		b.WriteString(st.Warn.Render("⚠ "+plural(h.doubt, "payout")+" in doubt: settled by trace before the next send (s to settle now)") + "\n")
	}
	switch {
	case h.loading:
		b.WriteString(st.Subtle.Render("Refreshing balances…"))
	case h.err != "":
		b.WriteString(st.Error.Render("Balances not refreshed: " + h.err))
	case !h.loaded.IsZero():
		b.WriteString(st.Subtle.Render("Balances as of " + h.loaded.Format("15:04:05") + " (r to reload)"))
	}
	b.WriteString(h.peopleView(w))
	return safeView(b.String())
}

// idLines are the app's name and its ids: the ids stay on the line
// whatever the name's length.
func (h *homeScreen) idLines(st Styles) string {
	me := h.ctx.acct.Me
	idName := "client id "
	if h.ctx.acct.IsSafe() {
		idName = "app id " // the Safe keystore's name for it
	}
	ids := "  Mixin ID " + clean(me.IdentityNumber) + "  ·  " + idName + clean(me.UserID)
	name := nameText(me.FullName)
	if room := h.ctx.width - 2 - lipgloss.Width(ids); lipgloss.Width(name) <= room || room >= 32 {
		return st.Title.Render(truncate(name, max(room, 12))) + st.Subtle.Render(ids) + "\n"
	}
	// A narrow terminal: the name on its own line, the ids under it,
	// rather than a name cut to a few letters.
	if lipgloss.Width(ids) > h.ctx.width-2 {
		ids = strings.TrimLeft(ids, " ") // the ids whole rather than indented
	}
	return st.Title.Render(truncate(name, h.ctx.width-2)) + "\n" + st.Subtle.Render(ids) + "\n"
}

// peopleView names the sandbox world's other users: someone to pay, by
// Mixin ID, for an operator new to the desk.
func (h *homeScreen) peopleView(w int) string {
	if len(h.ctx.people) == 0 {
		return ""
	}
	parts := make([]string, len(h.ctx.people))
	for i, p := range h.ctx.people {
		parts[i] = clean(p.Name) + " " + clean(p.MixinID)
		if p.NotOnSafe {
			parts[i] += " (not on Safe: refused)"
		}
	}
	// Lines break between people, never inside a name and its number.
	lines := []string{"Others in this sandbox, to pay by Mixin ID (t):"}
	for i, p := range parts {
		last, sep := &lines[len(lines)-1], " · "
		if i == 0 {
			sep = " "
		}
		if lipgloss.Width(*last+sep+p) <= w {
			*last += sep + p
			continue
		}
		lines = append(lines, truncate(p, w))
	}
	return "\n\n" + h.ctx.st.Subtle.Render(strings.Join(lines, "\n"))
}

// pinNote says where the PIN of a payout comes from, and when the console
// does not lock when idle.
func (h *homeScreen) pinNote() string {
	acct := h.ctx.acct
	lock := ""
	if acct.Lockable() && h.ctx.lockAfter() <= 0 {
		lock = " · no idle lock"
		if h.ctx.sandbox {
			lock += " (sandbox)"
		}
	}
	switch {
	case !acct.AsksPIN() && acct.KeepsPIN() && h.ctx.inMemory:
		return " · PIN held in memory for this run (no keyring)" + lock
	case !acct.AsksPIN() && acct.KeepsPIN():
		return " · PIN kept in the keyring" + lock
	case !acct.Lockable():
		return " · no PIN: signed with the keystore's spend key · no idle lock"
	case !acct.AsksPIN():
		return " · no PIN needed" + lock
	}
	return " · PIN asked at every transfer" + lock
}

// lockNote says that the idle lock the policy file sets is not applied,
// and why ("" when it is, or when the file sets none).
func (h *homeScreen) lockNote() string {
	acct := h.ctx.acct
	d := acct.Policy.IdleLock
	if d <= 0 || d == policy.DefaultIdleLock || h.ctx.lockAfter() == d {
		return "" // off, applied, or the default: the file may set none
	}
	set := "idle_lock = \"" + configDuration(d) + "\" in the config is not applied: "
	switch {
	case !acct.Lockable():
		return set + "a Safe profile has no PIN to unlock with."
	case h.ctx.sandbox:
		return set + "the sandbox never locks."
	}
	return ""
}

// configDuration writes d as the config file would: "30s", "2m", "1h30m".
func configDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func padLeft(s string, n int) string {
	w := lipgloss.Width(s)
	if w >= n {
		return " " + s
	}
	return strings.Repeat(" ", n-w) + s
}

func (h *homeScreen) typing() bool { return false }
