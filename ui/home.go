package ui

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/shopspring/decimal"

	"mixdesk/mixin"
)

// homeScreen shows the profile and its balances.
type homeScreen struct {
	assets  []mixin.Asset
	loaded  time.Time
	loading bool
	gen     int
	err     string
	doubt   int // payouts of the journal still in doubt

	kTransfer, kHistory, kRequest, kBook, kBatch, kRefresh, kSettle, kSetup, kQuit key.Binding
}

type assetsMsg struct {
	gen    int
	assets []mixin.Asset
	err    error
}

func newHomeScreen() *homeScreen {
	return &homeScreen{
		kTransfer: bind([]string{"t"}, "t", "transfer"),
		kHistory:  bind([]string{"h"}, "h", "history"),
		kRequest:  bind([]string{"p"}, "p", "requests"),
		kBook:     bind([]string{"b"}, "b", "book"),
		kBatch:    bind([]string{"f"}, "f", "batch"),
		kRefresh:  bind([]string{"r"}, "r", "refresh"),
		kSettle:   bind([]string{"s"}, "s", "settle in-doubt payouts"),
		kSetup:    bind([]string{"n"}, "n", "new profile"),
		kQuit:     bind([]string{"q"}, "q", "quit"),
	}
}

// keys is the help line: short words, so that it fits one line of a
// 100-column terminal, and no quit key of its own (q quits here too, but
// the help line's one quit hint is ctrl+c, which quits everywhere).
func (h *homeScreen) keys() []key.Binding {
	ks := []key.Binding{h.kTransfer, h.kBatch, h.kHistory, h.kRequest, h.kBook, h.kRefresh}
	if h.doubt > 0 {
		ks = append(ks, h.kSettle)
	}
	return append(ks, h.kSetup)
}

// fullKeys is the home screen's whole key map, for ?.
func (h *homeScreen) fullKeys() []key.Binding {
	ks := []key.Binding{
		bind([]string{"t"}, "t", "new payout (transfer)"),
		bind([]string{"f"}, "f", "batch of payouts from a CSV file"),
		bind([]string{"h"}, "h", "history of payouts and receipts"),
		bind([]string{"p"}, "p", "payment requests (link and QR code)"),
		bind([]string{"b"}, "b", "address book of saved recipients"),
		bind([]string{"r"}, "r", "refresh the balances"),
	}
	if h.doubt > 0 {
		ks = append(ks, bind([]string{"s"}, "s", "settle the payouts in doubt by their trace"))
	}
	return append(ks, bind([]string{"n"}, "n", "set up a new profile"), bind([]string{"q"}, "q", "quit"))
}

// countDoubt reads how many payouts are in doubt (an in-memory look-up).
func (h *homeScreen) countDoubt(a *App) {
	if a.conn != nil {
		h.doubt = len(a.conn.journal.InDoubt())
	}
}

// refresh reads the balances again.
func (h *homeScreen) refresh(a *App) tea.Cmd {
	h.gen = a.nextGen()
	h.loading = true
	h.countDoubt(a)
	gen, client := h.gen, a.conn.client
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		as, err := client.Assets(ctx)
		return assetsMsg{gen: gen, assets: as, err: err}
	}
}

func (h *homeScreen) update(a *App, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
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
		h.assets = sortAssets(msg.assets)
		h.loaded = time.Now()
		return nil
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, h.kTransfer):
			a.transfer = newTransferScreen(a, h.assets)
			a.screen = screenTransfer
			return a.transfer.init()
		case key.Matches(msg, h.kHistory):
			return a.openHistory()
		case key.Matches(msg, h.kRequest):
			return a.openRequests()
		case key.Matches(msg, h.kBook):
			return a.openBook()
		case key.Matches(msg, h.kBatch):
			return a.openBatch()
		case key.Matches(msg, h.kRefresh):
			return h.refresh(a)
		case key.Matches(msg, h.kSettle) && h.doubt > 0:
			a.setStatus("Settling "+plural(h.doubt, "in-doubt payout")+" by trace…", true)
			return a.recoverCmd()
		case key.Matches(msg, h.kSetup):
			a.goSetup("", "")
			a.setup.canCancel = true
			return nil
		case key.Matches(msg, h.kQuit):
			a.quitting = true
			return tea.Quit
		}
	}
	return nil
}

// sortAssets orders by USD value, largest first, then by symbol.
func sortAssets(as []mixin.Asset) []mixin.Asset {
	out := append([]mixin.Asset(nil), as...)
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

func assetValue(a mixin.Asset) decimal.Decimal { return dec(a.Balance).Mul(dec(a.PriceUSD)) }

func (h *homeScreen) view(a *App, height int) string {
	st := a.st
	var b strings.Builder
	me := a.conn.me
	if rep := a.conn.report; rep != nil && !rep.Intact() {
		// Said on the screen the operator comes back to, not only once.
		b.WriteString(st.Error.Bold(true).Render(para("⚠ JOURNAL BROKEN: "+explain(rep.Err())+" Check it with mixdesk journal verify.", a.width-2, "")) + "\n\n")
	}
	// The ids stay on the line whatever the name's length.
	ids := "  Mixin ID " + clean(me.IdentityNumber) + "  ·  client id " + clean(me.UserID)
	b.WriteString(st.Title.Render(truncate(nameText(me.FullName), max(a.width-2-lipgloss.Width(ids), 12))) + st.Subtle.Render(ids) + "\n")
	b.WriteString(st.Subtle.Render("profile "+a.conn.name+pinNote(a.conn.profile.KeepPIN)) + "\n\n")

	w := a.width - 2
	symW, amtW, usdW := 8, 26, 18
	nameW := w - symW - amtW - usdW - 6
	if nameW < 8 {
		nameW = 8
	}
	b.WriteString(st.Label.Render(padRight("ASSET", symW)+padRight("NAME", nameW)+padLeft("BALANCE", amtW)+padLeft("VALUE (USD)", usdW)) + "\n")
	total := decimal.Zero
	twins := assetTwins(h.assets)
	rows := height - 9
	for i, as := range h.assets {
		if i >= rows && rows > 0 {
			b.WriteString(st.Subtle.Render("  … "+plural(len(h.assets)-i, "more asset")) + "\n")
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
	if len(h.assets) == 0 && !h.loading && h.err == "" {
		b.WriteString(st.Subtle.Render("No asset holds a balance.") + "\n")
	}
	for _, as := range h.assets[min(len(h.assets), max(rows, 0)):] {
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
		b.WriteString(st.Subtle.Render("Balances as of " + h.loaded.Format("15:04:05") + " (r to refresh)"))
	}
	return safeView(b.String())
}

func pinNote(keep bool) string {
	if keep {
		return " · PIN kept in the keyring"
	}
	return " · PIN asked at every transfer"
}

func padLeft(s string, n int) string {
	w := lipgloss.Width(s)
	if w >= n {
		return " " + s
	}
	return strings.Repeat(" ", n-w) + s
}

func (h *homeScreen) typing() bool { return false }
