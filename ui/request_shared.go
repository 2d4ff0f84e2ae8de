package ui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"mixdesk/payout/rail"
	"mixdesk/payreq"
)

// requestShared is what the modes of the payment-request screen share:
// the console's context, the book and its file, the assets known by id,
// the lifetime of the look-ups, and the moves the modes ask of the screen.
type requestShared struct {
	ctx    *shared
	path   string       // the book's file
	book   *payreq.Book // nil until opened
	assets assetCatalog
	life   lifetime  // the look-ups of assets and payers, ended when the screen is left
	moves  []tea.Msg // asked of the screen, not made yet (reqToListMsg…)
	// sandboxPay pays a link as another user of the sandbox (Deps.SandboxPay);
	// nil outside the sandbox.
	sandboxPay func(ctx context.Context, link string) (string, error)
}

func newRequestShared(ctx *shared, path string) *requestShared {
	return &requestShared{
		ctx:    ctx,
		path:   path,
		assets: assetCatalog{byID: map[string]rail.Asset{}, fetching: map[string]bool{}},
	}
}

// linkForm is the form of the links of new requests: the Safe link on a
// Safe profile, else the legacy one. A request keeps the form it was made
// with.
func (rq *requestShared) linkForm() payreq.Form {
	if rq.ctx.acct != nil && rq.ctx.acct.IsSafe() {
		return payreq.FormSafe
	}
	return payreq.FormLegacy
}

// move asks the screen for another mode (reqToListMsg, reqToFormMsg,
// reqToShowMsg); the screen makes the move as soon as the mode's update
// returns.
func (rq *requestShared) move(msg tea.Msg) { rq.moves = append(rq.moves, msg) }

// takeMoves returns the moves asked since the last call, in order.
func (rq *requestShared) takeMoves() []tea.Msg {
	out := rq.moves
	rq.moves = nil
	return out
}

// left ends the look-ups of assets and payers on their way (a check of a
// request's payment goes on: what it finds is written to the book).
func (rq *requestShared) left() { rq.life.end() }

// fetchAssets looks up the assets of requests that the balances do not
// name, so that every row shows a symbol.
func (rq *requestShared) fetchAssets(reqs []payreq.Request) tea.Cmd {
	var cmds []tea.Cmd
	for _, r := range reqs {
		if _, ok := rq.assets.byID[r.AssetID]; ok || rq.assets.fetching[r.AssetID] {
			continue
		}
		cmds = append(cmds, rq.assetCmd(r.AssetID))
	}
	return tea.Batch(cmds...)
}

// assetCmd looks an asset up by id, in the screen's lifetime.
func (rq *requestShared) assetCmd(id string) tea.Cmd {
	rq.assets.fetching[id] = true
	acct := rq.ctx.acct
	ctx, cancel := rq.life.within(timeoutLookup)
	return func() tea.Msg {
		defer cancel()
		as, err := acct.Asset(ctx, id)
		return reqAssetMsg{id: id, asset: as, err: err}
	}
}

// symbol is an asset's symbol, display-safe and at most 16 cells, or the
// start of its id while unknown.
func (rq *requestShared) symbol(id string) string {
	if as, ok := rq.assets.byID[id]; ok && clean(as.Symbol) != "" {
		return truncate(as.Symbol, 16)
	}
	return shortID(clean(id))
}

// assetCatalog is the assets known by id (from the balances and look-ups),
// in the order learnt, and the look-ups on their way.
type assetCatalog struct {
	byID     map[string]rail.Asset
	order    []string
	fetching map[string]bool
}

// learn remembers assets (from the balances or a look-up).
func (c *assetCatalog) learn(as []rail.Asset) {
	for _, x := range as {
		if _, ok := c.byID[x.AssetID]; !ok {
			c.order = append(c.order, x.AssetID)
		}
		c.byID[x.AssetID] = x
	}
}

// known lists the assets known, in the order learnt.
func (c *assetCatalog) known() []rail.Asset {
	out := make([]rail.Asset, 0, len(c.order))
	for _, id := range c.order {
		out = append(out, c.byID[id])
	}
	return out
}

// chunk cuts s into pieces of at most n runes.
func chunk(s string, n int) []string {
	var out []string
	r := []rune(s)
	for len(r) > n {
		out = append(out, string(r[:n]))
		r = r[n:]
	}
	return append(out, string(r))
}

// localTime shows a time in the local zone to the second, or "—".
func localTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// spellDuration says a duration in words: "2 seconds", "10 minutes".
func spellDuration(d time.Duration) string {
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute")
	case d >= time.Second && d%time.Second == 0:
		return plural(int(d/time.Second), "second")
	}
	return d.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
