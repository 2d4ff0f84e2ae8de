package addressbook

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"mixdesk/mixin"
)

var bookTime = time.Date(2025, 11, 26, 9, 0, 0, 0, time.UTC)

// fieldErr returns the *mixin.FieldError in err, or nil.
func fieldErr(err error) *mixin.FieldError {
	var fe *mixin.FieldError
	if errors.As(err, &fe) {
		return fe
	}
	return nil
}

// openBook opens the book at path with a fixed clock.
func openAddrBook(t *testing.T, path string) *Book {
	t.Helper()
	b, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	b.now = func() time.Time { return bookTime }
	return b
}

func mustSaveEntry(t *testing.T, b *Book, e Entry, replace string) {
	t.Helper()
	if err := b.Save(e, replace); err != nil {
		t.Fatalf("Save(%+v, %q): %v", e, replace, err)
	}
}

func entryLabels(es []Entry) string {
	var ls []string
	for _, e := range es {
		ls = append(ls, e.Label)
	}
	return strings.Join(ls, ",")
}

func TestAddressBookSaveAndReopen(t *testing.T) {
	dir := t.TempDir()
	path := Path(filepath.Join(dir, "data"), "main")
	if want := filepath.Join(dir, "data", "addressbook-main.json"); path != want {
		t.Fatalf("Path = %s, want %s", path, want)
	}
	b := openAddrBook(t, path)
	if b.Len() != 0 || b.Path() != path {
		t.Fatal("a missing file is not an empty book")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("opening made the file")
	}
	mustSaveEntry(t, b, Entry{Label: "  zeta corp ", UserID: strings.ToUpper(rcp(1)), IdentityNumber: "7000101", FullName: "Zeta", Note: "net 30"}, "")
	mustSaveEntry(t, b, Entry{Label: "Alpha", UserID: rcp(2), SavedAt: bookTime.Add(-time.Hour).In(time.FixedZone("X", 3600))}, "")
	mustSaveEntry(t, b, Entry{Label: "beta", UserID: rcp(3), FullName: "Bêta Café"}, "")

	if got := entryLabels(b.List()); got != "Alpha,beta,zeta corp" {
		t.Fatalf("List order %s", got)
	}
	z, ok := b.ByLabel(" ZETA CORP")
	if !ok || z.UserID != rcp(1) || z.IdentityNumber != "7000101" || z.FullName != "Zeta" || z.Note != "net 30" || !z.SavedAt.Equal(bookTime) {
		t.Fatalf("ByLabel = %+v, %v", z, ok)
	}
	if a, _ := b.ByLabel("alpha"); !a.SavedAt.Equal(bookTime.Add(-time.Hour)) || a.SavedAt.Location() != time.UTC {
		t.Fatalf("a given SavedAt is kept (in UTC): %v", a.SavedAt)
	}
	if e, ok := b.ByUser(strings.ToUpper(rcp(3))); !ok || e.Label != "beta" {
		t.Fatalf("ByUser = %+v, %v", e, ok)
	}
	if _, ok := b.ByUser("not a uuid"); ok {
		t.Fatal("ByUser found a bad id")
	}

	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("file mode %v, %v", fi, err)
		}
	}
	again := openAddrBook(t, path)
	if fmt.Sprint(again.List()) != fmt.Sprint(b.List()) {
		t.Fatalf("reopened:\n%+v\nwant\n%+v", again.List(), b.List())
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".addressbook-*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestAddressBookMatch(t *testing.T) {
	b := openAddrBook(t, filepath.Join(t.TempDir(), "ab.json"))
	mustSaveEntry(t, b, Entry{Label: "Payroll Ann", UserID: rcp(1), FullName: "Ann Lee"}, "")
	mustSaveEntry(t, b, Entry{Label: "Landlord", UserID: rcp(2), FullName: "Annex Holdings"}, "")
	mustSaveEntry(t, b, Entry{Label: "annual audit", UserID: rcp(3), FullName: "KPMG"}, "")
	mustSaveEntry(t, b, Entry{Label: "Cloud", UserID: rcp(4), FullName: "Hosting"}, "")
	cases := map[string]string{
		"ann":   "annual audit,Payroll Ann,Landlord", // labels first, then names
		"  ":    "annual audit,Cloud,Landlord,Payroll Ann",
		"HOLD":  "Landlord",
		"cloud": "Cloud",
		"zzz":   "",
	}
	for q, want := range cases {
		if got := entryLabels(b.Match(q)); got != want {
			t.Errorf("Match(%q) = %s, want %s", q, got, want)
		}
	}
}

func TestAddressBookEditAndRemove(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ab.json")
	b := openAddrBook(t, path)
	mustSaveEntry(t, b, Entry{Label: "Supplier", UserID: rcp(1), FullName: "S"}, "")
	mustSaveEntry(t, b, Entry{Label: "Other", UserID: rcp(2)}, "")

	// Rename, and a change of case only.
	mustSaveEntry(t, b, Entry{Label: "Main supplier", UserID: rcp(1), FullName: "S", Note: "edited"}, "supplier")
	mustSaveEntry(t, b, Entry{Label: "MAIN SUPPLIER", UserID: rcp(1), FullName: "S"}, "Main supplier")
	if got := entryLabels(b.List()); got != "MAIN SUPPLIER,Other" {
		t.Fatalf("after edits: %s", got)
	}
	// A new recipient under an existing entry's label is an edit of it.
	mustSaveEntry(t, b, Entry{Label: "Other", UserID: rcp(3)}, "other")
	if e, _ := b.ByLabel("other"); e.UserID != rcp(3) {
		t.Fatalf("edited user id: %+v", e)
	}
	if _, ok := b.ByUser(rcp(2)); ok {
		t.Fatal("the old user id is still saved")
	}

	before, _ := os.ReadFile(path)
	for _, c := range []struct {
		e       Entry
		replace string
		field   string
	}{
		{Entry{Label: "Other", UserID: rcp(1)}, "main supplier", FieldLabel},    // label of another entry
		{Entry{Label: "Third", UserID: rcp(3)}, "main supplier", FieldUserID},   // user id of another entry
		{Entry{Label: "Gone", UserID: rcp(9)}, "no such label", FieldLabel},     // nothing to edit
		{Entry{Label: "other", UserID: rcp(9)}, "", FieldLabel},                 // add under a taken label
		{Entry{Label: "New", UserID: strings.ToUpper(rcp(3))}, "", FieldUserID}, // add a saved user
	} {
		err := b.Save(c.e, c.replace)
		if fe := fieldErr(err); fe == nil || fe.Field != c.field {
			t.Errorf("Save(%+v, %q) = %v, want a %s error", c.e, c.replace, err, c.field)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) || b.Len() != 2 {
		t.Fatal("a refused save changed the book")
	}

	if err := b.Remove(" main SUPPLIER "); err != nil {
		t.Fatal(err)
	}
	if err := b.Remove("main supplier"); fieldErr(err) == nil || fieldErr(err).Field != FieldLabel {
		t.Fatalf("Remove of a missing label: %v", err)
	}
	if got := entryLabels(openAddrBook(t, path).List()); got != "Other" {
		t.Fatalf("after remove, the file holds %s", got)
	}
}

func TestAddressBookValidation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ab.json")
	b := openAddrBook(t, path)
	mustSaveEntry(t, b, Entry{Label: "Kept", UserID: rcp(1)}, "")
	before, _ := os.ReadFile(path)
	ok := Entry{Label: "New", UserID: rcp(2), IdentityNumber: "123", FullName: "N", Note: "n"}
	with := func(f func(*Entry)) Entry { e := ok; f(&e); return e }
	cases := []struct {
		name  string
		e     Entry
		field string
	}{
		{"empty label", with(func(e *Entry) { e.Label = "  " }), FieldLabel},
		{"label too long", with(func(e *Entry) { e.Label = strings.Repeat("é", 41) }), FieldLabel},
		{"label with a tab", with(func(e *Entry) { e.Label = "a\tb" }), FieldLabel},
		{"label with an escape", with(func(e *Entry) { e.Label = "a\x1b[31m" }), FieldLabel},
		{"label with a bidi override", with(func(e *Entry) { e.Label = "pay\u202eevil" }), FieldLabel},
		{"label not UTF-8", with(func(e *Entry) { e.Label = "a\xff" }), FieldLabel},
		{"same label in another case", with(func(e *Entry) { e.Label = "KEPT" }), FieldLabel},
		{"no user id", with(func(e *Entry) { e.UserID = "" }), FieldUserID},
		{"user id not a UUID", with(func(e *Entry) { e.UserID = "7000101" }), FieldUserID},
		{"user id saved already", with(func(e *Entry) { e.UserID = rcp(1) }), FieldUserID},
		{"note too long", with(func(e *Entry) { e.Note = strings.Repeat("é", 141) }), FieldNote},
		{"note with a newline", with(func(e *Entry) { e.Note = "a\nb" }), FieldNote},
		{"note not UTF-8", with(func(e *Entry) { e.Note = "\xff" }), FieldNote},
		{"identity number with letters", with(func(e *Entry) { e.IdentityNumber = "12a" }), mixin.FieldRecipient},
		{"name with a control character", with(func(e *Entry) { e.FullName = "a\x00b" }), mixin.FieldRecipient},
	}
	for _, c := range cases {
		err := b.Save(c.e, "")
		if fe := fieldErr(err); fe == nil || fe.Field != c.field {
			t.Errorf("%s: Save = %v, want a *mixin.FieldError for %q", c.name, err, c.field)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) || b.Len() != 1 {
		t.Fatal("a refused save changed the book")
	}
	// The edges are allowed.
	mustSaveEntry(t, b, with(func(e *Entry) { e.Label = strings.Repeat("é", 40); e.Note = strings.Repeat("é", 140) }), "")
	mustSaveEntry(t, b, Entry{Label: "x", UserID: rcp(3)}, "") // name, number and note may be empty
}

func TestAddressBookMalformedFile(t *testing.T) {
	good := `{"version":1,"entries":[{"label":"A","user_id":"` + rcp(1) + `","saved_at":"2025-11-26T09:00:00Z"}]}`
	entry := func(fields string) string {
		return `{"version": 1, "entries": [` + "\n" + fields + "\n]}"
	}
	cases := []struct {
		name, data string
		want       []string
	}{
		{"empty", "", []string{"empty"}},
		{"not JSON", "{\n\"version\": 1,\n\"entries\": [}\n", []string{"line 3", "not valid JSON"}},
		{"cut short", good[:40], []string{"ends in the middle"}},
		{"trailing data", good + "\n{}", []string{"line 2", "more data"}},
		{"unknown field", entry(`{"label":"A","user_id":"` + rcp(1) + `","pin":"123456"}`), []string{"unknown field", `"pin"`}},
		{"wrong type", entry(`{"label":7,"user_id":"` + rcp(1) + `"}`), []string{"line 2", "label", "string"}},
		{"newer version", `{"version":2,"entries":[]}`, []string{"version is 2"}},
		{"bad user id", entry(`{"label":"A","user_id":"nope"}`), []string{"entry 1", "user id"}},
		{"same label twice", entry(`{"label":"A","user_id":"` + rcp(1) + `"},{"label":"a","user_id":"` + rcp(2) + `"}`), []string{"entry 2", "already the label"}},
		{"same user twice", entry(`{"label":"A","user_id":"` + rcp(1) + `"},{"label":"B","user_id":"` + strings.ToUpper(rcp(1)) + `"}`), []string{"entry 2", "already saved"}},
		{"not UTF-8", "{\"version\":1,\"entries\":[{\"label\":\"\xff\"}]}", []string{"UTF-8"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "addressbook-x.json")
			if err := os.WriteFile(path, []byte(c.data), 0o644); err != nil {
				t.Fatal(err)
			}
			b, err := Open(path)
			if err == nil || b != nil {
				t.Fatalf("Open = %v, %v; want an error", b, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, path) {
				t.Errorf("error %q does not name the file", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q is more than one line", msg)
			}
			if after, _ := os.ReadFile(path); string(after) != c.data {
				t.Error("the malformed file was changed")
			}
		})
	}
	t.Run("good", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ab.json")
		os.WriteFile(path, []byte(good), 0o600)
		if b, err := Open(path); err != nil || b.Len() != 1 {
			t.Fatalf("%v", err)
		}
	})
	t.Run("a directory", func(t *testing.T) {
		if _, err := Open(t.TempDir()); err == nil {
			t.Fatal("a directory opened as a book")
		}
	})
}

// TestAddressBookFailedWrite: when the new file cannot be put in place, the
// book keeps what it had, and no temporary file is left.
func TestAddressBookFailedWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ab.json")
	b := openAddrBook(t, path)
	mustSaveEntry(t, b, Entry{Label: "A", UserID: rcp(1)}, "")
	// A directory where the file should be: the rename fails.
	os.Remove(path)
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := b.Save(Entry{Label: "B", UserID: rcp(2)}, ""); err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("Save = %v, want a failure", err)
	}
	if got := entryLabels(b.List()); got != "A" {
		t.Fatalf("book after a failed save: %s", got)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".addressbook-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestAddressBookConcurrentUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ab.json")
	b := openAddrBook(t, path)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := b.Save(Entry{Label: fmt.Sprintf("r%02d", i), UserID: rcp(i)}, ""); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			_ = b.List()
			_ = b.Match("r1")
			_, _ = b.ByUser(rcp(i))
		}()
	}
	wg.Wait()
	if b.Len() != 16 || openAddrBook(t, path).Len() != 16 {
		t.Fatalf("%d entries in memory, want 16", b.Len())
	}
}

// TestAddressBookRefusesLabelsThatReadAsIDs: a label of digits only reads
// as a Mixin ID number where recipients are typed, and a UUID label as a
// user id: either could pay a stranger, so neither is saved.
func TestAddressBookRefusesLabelsThatReadAsIDs(t *testing.T) {
	b, err := Open(filepath.Join(t.TempDir(), "book.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{"67757111", "8dcf823d-9eb3-4da2-8734-f0aad50c0da6"} {
		err := b.Save(Entry{Label: label, UserID: "3f77d5bb-cd70-43e5-8139-7cad0b426619"}, "")
		var fe *mixin.FieldError
		if !errors.As(err, &fe) || fe.Field != FieldLabel {
			t.Errorf("label %q: %v", label, err)
		}
	}
	if b.Len() != 0 {
		t.Fatal("a label that reads as an id was saved")
	}
	if err := b.Save(Entry{Label: "team-7", UserID: "3f77d5bb-cd70-43e5-8139-7cad0b426619"}, ""); err != nil {
		t.Fatal(err)
	}
}

// TestAddressBookNamesAreDisplaySafe: a saved name (the server's) loses
// invisible and direction-changing characters, when saved and when an
// older book holding them is read.
func TestAddressBookNamesAreDisplaySafe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "book.json")
	b := openAddrBook(t, path)
	mustSaveEntry(t, b, Entry{Label: "bob", UserID: rcp(1), FullName: "Bob \u200b(3716)\u202e\u2060\ufeff\u00ad"}, "")
	e, ok := b.ByLabel("bob")
	if !ok || e.FullName != "Bob (3716)" {
		t.Fatalf("saved name %q, want %q", e.FullName, "Bob (3716)")
	}
	b = openAddrBook(t, path)
	if e, _ := b.ByLabel("bob"); e.FullName != "Bob (3716)" {
		t.Fatalf("name read back %q", e.FullName)
	}
}
