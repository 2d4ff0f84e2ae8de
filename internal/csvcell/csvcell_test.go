package csvcell

import "testing"

// TestTextGuardsFormulas: a cell that a spreadsheet may run, also after
// a leading space or in full-width form, gets the apostrophe.
func TestTextGuardsFormulas(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", " =1": "' =1", "\t=1": "' =1", "\n+1": "' +1", "＝1": "'＝1", "＋1": "'＋1", "－1": "'－1", "＠x": "'＠x",
		"\u00a0=1": "'\u00a0=1", "plain": "plain", "'q": "''q", "": "", "é=": "é=",
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestUnguard: Unguard gives back exactly the text Guard protected.
func TestUnguard(t *testing.T) {
	for _, s := range []string{"=1+1", " =1", "'q", "''q", "plain", "", "＝1", "-1.5"} {
		if got := Unguard(Guard(s)); got != s {
			t.Errorf("Unguard(Guard(%q)) = %q", s, got)
		}
	}
}
