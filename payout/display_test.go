package payout

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestIDLikeText: what in a name reads as a Mixin ID or a user id, once
// cleaned.
func TestIDLikeText(t *testing.T) {
	for _, c := range []struct{ name, like, what string }{
		{"Bob (37160001)", "(37160001)", "a Mixin ID"},
		{"Bob \u200b(37160001)", "(37160001)", "a Mixin ID"},
		{"Bob (7)", "(7)", "a Mixin ID"},
		{"Bob [ 42 ]", "[ 42 ]", "a Mixin ID"},
		{"Bob （３７１６）", "（３７１６）", "a Mixin ID"},
		{"Order 12345", "12345", "a Mixin ID"},
		{"Pay 3716\u200b0001", "37160001", "a Mixin ID"},
		{"user 3F2504E0-4F89-41D3-9A0C-0305E82C3301", "3F2504E0-4F89-41D3-9A0C-0305E82C3301", "a user id"},
		{"Team 2024", "", ""},
		{"Alice Ng", "", ""},
		{"", "", ""},
	} {
		like, what := IDLikeText(c.name)
		if like != c.like || what != c.what {
			t.Errorf("IDLikeText(%q) = %q, %q; want %q, %q", c.name, like, what, c.like, c.what)
		}
	}
}

// TestReviewWarnsOfNamesLikeIDs: a recipient whose name reads as an id is a
// warning that names the verified Mixin ID; a long name is cut in every
// warning, so that a warning (shown whole) stays readable.
func TestReviewWarnsOfNamesLikeIDs(t *testing.T) {
	r := newRig(t, 61, withClock(reviewStart))
	add := func(name string) int {
		u := r.srv.AddUser(name)
		r.users = append(r.users, u)
		return len(r.users) - 1
	}
	bob := add("Bob \u200b(37160001)")
	plain := add("Alice Ng")
	long := add(strings.Repeat("Longname ", 666) + "Tail..")
	padded := add("Alice Ng" + strings.Repeat(" ", 150) + "x")

	rv := r.review(r.draft(bob, "5", ""), nil)
	if !hasWarning(rv, WarnNameLikeID) {
		t.Fatalf("warnings %v, want %s", warningKinds(rv), WarnNameLikeID)
	}
	for _, w := range rv.Warnings {
		if w.Kind == WarnNameLikeID && (!strings.Contains(w.Text, "(37160001)") || !strings.Contains(w.Text, "Mixin ID is "+r.users[bob].IdentityNumber)) {
			t.Errorf("warning %q does not quote the id-like text and the verified Mixin ID", w.Text)
		}
	}
	if rv := r.review(r.draft(plain, "5", ""), nil); hasWarning(rv, WarnNameLikeID) {
		t.Errorf("a plain name warned: %v", rv.Warnings)
	}
	rv = r.review(r.draft(long, "5", ""), nil)
	for _, w := range rv.Warnings {
		if n := utf8.RuneCountInString(w.Text); n > 200 {
			t.Errorf("a warning of %d characters: %.80q…", n, w.Text)
		}
	}
	if !strings.Contains(rv.Warnings[0].Text, "…") {
		t.Errorf("the long name is not cut with an ellipsis: %q", rv.Warnings[0].Text)
	}
	rv = r.review(r.draft(padded, "5", ""), nil)
	if w := rv.Warnings[0].Text; !strings.Contains(w, "Alice Ng x (Mixin ID "+r.users[padded].IdentityNumber+")") {
		t.Errorf("the padded name is not shown on one line, whole: %q", w)
	}
}
