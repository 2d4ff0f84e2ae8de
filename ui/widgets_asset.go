package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/textinput"

	"mixdesk/payout/rail"
)

// assetPicker is a form's asset field, the one of the transfer form and of
// the request form: what is typed filters the assets (by symbol or name,
// or the start of the id), the matches are listed in a window under the
// field while it has the focus, and tab or enter takes the highlighted one.
type assetPicker struct {
	input   textinput.Model
	assets  []rail.Asset // what it picks from, in order
	matches []int        // indexes into assets that match the filter
	pick    int          // position in matches
	chosen  *rail.Asset  // taken with tab or enter; nil until then, and after an edit
	// moved: the highlight was moved since the text last changed. Nothing
	// is highlighted, and nothing taken, until the operator types a filter
	// or moves with ↑/↓ (see untouched).
	moved bool
}

// pickerRows is how many matches the list under the field shows.
const pickerRows = 5

func newAssetPicker(placeholder string, assets []rail.Asset) assetPicker {
	p := assetPicker{input: textInput(placeholder, 40, 44), assets: assets}
	p.filter()
	return p
}

// setAssets changes what the picker picks from, keeping the filter.
func (p *assetPicker) setAssets(as []rail.Asset) {
	p.assets = as
	p.filter()
}

// filter recomputes the assets matching the text typed.
func (p *assetPicker) filter() {
	q := strings.ToLower(strings.TrimSpace(p.input.Value()))
	p.matches = p.matches[:0]
	for i, as := range p.assets {
		if assetMatches(as, q) {
			p.matches = append(p.matches, i)
		}
	}
	if p.pick >= len(p.matches) {
		p.pick = max(0, len(p.matches)-1)
	}
}

// edited follows a change of the text: the choice is dropped and the list
// filtered again from its top.
func (p *assetPicker) edited() {
	p.chosen = nil
	p.pick = 0
	p.moved = false
	p.filter()
}

// untouched reports whether the picker has nothing to take: no filter
// typed and the highlight never moved. Leaving it then takes no
// asset, rather than the first of the list.
func (p *assetPicker) untouched() bool {
	return !p.moved && strings.TrimSpace(p.input.Value()) == ""
}

// move moves the highlight by delta (-1 up, 1 down), wrapping around; it
// reports false when there is no list to move in. On an untouched picker
// the first move lands on the first match (↓) or the last (↑).
func (p *assetPicker) move(delta int) bool {
	if len(p.matches) == 0 {
		return false
	}
	switch {
	case p.untouched() && delta > 0:
		p.pick = 0
	case p.untouched():
		p.pick = len(p.matches) - 1
	default:
		p.pick = step(p.pick, len(p.matches), delta)
	}
	p.moved = true
	return true
}

// highlighted is the asset the highlight is on; none while the picker is
// untouched.
func (p *assetPicker) highlighted() (rail.Asset, bool) {
	if len(p.matches) == 0 || p.untouched() {
		return rail.Asset{}, false
	}
	return p.assets[p.matches[p.pick]], true
}

// choose takes the highlighted asset, and writes its symbol in the field;
// it reports false (and chooses nothing) when no asset matches, or none is
// highlighted.
func (p *assetPicker) choose() bool {
	as, ok := p.highlighted()
	if !ok {
		p.chosen = nil
		return false
	}
	p.chosen = &as
	p.input.SetValue(nameText(as.Symbol))
	return true
}

// listView is the window of the matches that holds the highlighted one,
// each drawn by row (twin is the tag of an asset whose symbol another one
// shares, or "").
func (p *assetPicker) listView(st Styles, row func(as rail.Asset, twin string) string) string {
	var b strings.Builder
	twins := assetTwins(p.assets)
	from, to := listWindow(len(p.matches), p.pick, pickerRows)
	if from > 0 {
		b.WriteString(fieldIndent + st.Subtle.Render("… "+itoa(from)+" before") + "\n")
	}
	for i := from; i < to; i++ {
		as := p.assets[p.matches[i]]
		line := row(as, twins[as.AssetID])
		if i == p.pick && !p.untouched() {
			b.WriteString("           " + st.Focused.Render(listMark+line) + "\n")
		} else {
			b.WriteString(fieldIndent + line + "\n")
		}
	}
	if to < len(p.matches) {
		b.WriteString(fieldIndent + st.Subtle.Render("… "+itoa(len(p.matches)-to)+" more") + "\n")
	}
	return b.String()
}

// assetMatches reports whether an asset answers the picker's lower-cased
// query: by symbol or name, or by the start of its id.
func assetMatches(as rail.Asset, q string) bool {
	return q == "" || strings.Contains(strings.ToLower(as.Symbol), q) || strings.Contains(strings.ToLower(as.Name), q) || strings.HasPrefix(as.AssetID, q)
}

// listWindow is the part [from, to) of a list of n items that a picker
// shows in size rows: it always holds pick, so that the item the keys act
// on is on the screen.
func listWindow(n, pick, size int) (from, to int) {
	if n <= size {
		return 0, n
	}
	from = max(0, min(pick-size/2, n-size))
	return from, from + size
}

// assetTwins tells apart the assets that share a symbol (cleaned, case and
// spacing aside): for each of them a tag with the start of its asset id,
// which no server text can imitate on its own. Assets whose symbol is their
// own get no tag.
func assetTwins(as []rail.Asset) map[string]string {
	count := make(map[string]int, len(as))
	for _, x := range as {
		count[symbolKey(x.Symbol)]++
	}
	var out map[string]string
	for _, x := range as {
		if count[symbolKey(x.Symbol)] < 2 {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[x.AssetID] = "id " + shortID(x.AssetID)
	}
	return out
}

// symbolKey is a symbol as it reads on the screen, for comparing.
func symbolKey(s string) string { return strings.ToLower(nameText(s)) }
