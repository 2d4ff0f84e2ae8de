package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"mixdesk/journal"
)

const (
	jAsset = "4d8c508b-91c5-375b-92b0-ee702ed2dac5"
	jUser  = "8dcf823d-9eb3-4da2-8734-f0aad50c0da6"
	jSnap  = "ab56be4c-5b20-41c6-a9c3-244f9a433f35"
	jTrace = "0b4f49dc-8fb4-4539-9a89-fb3afc613747"
	jOther = "5f0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
)

// journalCmd runs `mixdesk ARGS` and returns its exit status, stdout and
// stderr.
func journalCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	rc := run(args, &out, &errb)
	return rc, out.String(), errb.String()
}

// writeJournal makes a journal of four records at path (a payout done, one
// refused with a memo a spreadsheet would run) and returns its head hash.
func writeJournal(t *testing.T, path string) string {
	t.Helper()
	j, rep, err := journal.Open(path, journal.WithOperator("alice"), journal.WithHost("desk-1"))
	if err != nil || !rep.Intact() {
		t.Fatalf("Open: %v %v", err, rep)
	}
	defer j.Close()
	steps := []func() (journal.Entry, error){
		func() (journal.Entry, error) {
			return j.AppendIntent(journal.Intent{Trace: jTrace, AssetID: jAsset, RecipientID: jUser, Amount: "12.5", Memo: "invoice 7"})
		},
		func() (journal.Entry, error) {
			return j.AppendDone(journal.Done{Trace: jTrace, SnapshotID: jSnap, ClosingBalance: "87.5", Via: journal.ViaSend})
		},
		func() (journal.Entry, error) {
			return j.AppendIntent(journal.Intent{Trace: jOther, AssetID: jAsset, RecipientID: jUser, Amount: "1000", Memo: "=SUM(A1:A9)"})
		},
		func() (journal.Entry, error) {
			return j.AppendFailed(journal.Failed{Trace: jOther, Code: 20117, Description: "Insufficient balance."})
		},
	}
	for _, step := range steps {
		if _, err := step(); err != nil {
			t.Fatal(err)
		}
	}
	_, head := j.Head()
	return head
}

// editLine replaces old by new in line n (1-based) of the file at path.
func editLine(t *testing.T, path string, n int, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if !strings.Contains(lines[n-1], old) {
		t.Fatalf("line %d has no %q", n, old)
	}
	lines[n-1] = strings.Replace(lines[n-1], old, new, 1)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestJournalVerifyIntact(t *testing.T) {
	dir := t.TempDir()
	path := journal.Path(dir, "main")
	head := writeJournal(t, path)
	// A console holds the journal open (and locked) meanwhile.
	j, _, err := journal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	before, _ := os.ReadFile(path)

	want := "journal " + path + ": 4 records, chain intact (last seq 4, head " + head + ")\n"
	for _, args := range [][]string{
		{"journal", "verify", "--profile", "main", "--data-dir", dir},
		{"journal", "verify", "--file", path},
		{"--data-dir", dir, "--profile", "main", "journal", "verify"},
		{"--profile", "main", "journal", "verify", "--data-dir", dir},
	} {
		rc, out, errs := journalCmd(t, args...)
		if rc != 0 || out != want || errs != "" {
			t.Fatalf("%v: rc %d\nstdout %q\nstderr %q\nwant %q", args, rc, out, errs, want)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("verify changed the journal")
	}
}

// TestJournalVerifySandbox: --sandbox names the Safe sandbox's journal
// (DATA/sandbox-safe), --sandbox=legacy the legacy one's (DATA/sandbox).
func TestJournalVerifySandbox(t *testing.T) {
	for flag, sub := range map[string]string{"--sandbox": "sandbox-safe", "--sandbox=legacy": "sandbox"} {
		dir := t.TempDir()
		path := filepath.Join(dir, sub, "journal-sandbox.jsonl")
		writeJournal(t, path)
		rc, out, errs := journalCmd(t, flag, "--data-dir", dir, "journal", "verify")
		if rc != 0 || !strings.HasPrefix(out, "journal "+path+": 4 records, chain intact") {
			t.Fatalf("%s: rc %d, %q %q", flag, rc, out, errs)
		}
	}
}

func TestJournalVerifyBroken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	writeJournal(t, path)
	editLine(t, path, 2, jSnap, "ab56be4c-5b20-41c6-a9c3-000000000000") // the done record
	before, _ := os.ReadFile(path)

	rc, out, errs := journalCmd(t, "journal", "verify", "--file", path)
	first, rest, _ := strings.Cut(out, "\n")
	want := "journal " + path + ": BROKEN at line 3: prev does not match the hash of line 2"
	if rc != 1 || !strings.HasPrefix(first, want) || !strings.HasSuffix(first, "(1 problem); 1 record before it is intact") || errs != "" {
		t.Fatalf("rc %d\nstdout %q\nstderr %q\nwant a first line like %q", rc, out, errs, want)
	}
	if !strings.Contains(rest, "line 3:") || !strings.Contains(rest, "(chain)") {
		t.Fatalf("the problems are not listed: %q", rest)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("verify changed the journal")
	}

	// An edited amount breaks the intent's content hash, on its own line.
	path2 := filepath.Join(t.TempDir(), "j.jsonl")
	writeJournal(t, path2)
	editLine(t, path2, 3, `"amount":"1000"`, `"amount":"10"`)
	rc, out, _ = journalCmd(t, "journal", "verify", "--file", path2)
	if rc != 1 || !strings.Contains(out, "BROKEN at line 3:") || !strings.Contains(out, "(2 problems); 2 records before it are intact") {
		t.Fatalf("rc %d, %q", rc, out)
	}
}

func TestJournalVerifyTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	writeJournal(t, path)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":5,"prev":"`)
	f.Close()
	before, _ := os.ReadFile(path)
	rc, out, _ := journalCmd(t, "journal", "verify", "--file", path)
	if rc != 0 || !strings.Contains(out, "4 records, chain intact") || !strings.Contains(out, "cut short") {
		t.Fatalf("rc %d, %q", rc, out)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("verify cut the torn line off")
	}
}

func TestJournalExport(t *testing.T) {
	dir := t.TempDir()
	path := journal.Path(dir, "main")
	writeJournal(t, path)
	csvPath := filepath.Join(t.TempDir(), "audit.csv")
	rc, out, errs := journalCmd(t, "journal", "export", "--csv", csvPath, "--profile", "main", "--data-dir", dir)
	if rc != 0 || out != "exported 4 records of journal "+path+" to "+csvPath+"\n" || errs != "" {
		t.Fatalf("rc %d, %q %q", rc, out, errs)
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(csvPath); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("export file %v %v", fi, err)
		}
	}
	f, _ := os.Open(csvPath)
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 5 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	if got := strings.Join(rows[0][:16], ","); got != "seq,time,kind,trace_id,asset_id,recipient_id,amount,memo,operator,host,snapshot_id,closing_balance,code,description,hash,prev" {
		t.Fatalf("header %s", got)
	}
	if r := rows[1]; r[0] != "1" || r[2] != "intent" || r[3] != jTrace || r[6] != "12.5" || r[8] != "alice" || r[9] != "desk-1" {
		t.Fatalf("intent row %q", r)
	}
	if r := rows[3]; r[7] != "'=SUM(A1:A9)" {
		t.Fatalf("the formula memo is not guarded: %q", r[7])
	}
	if r := rows[4]; r[2] != "failed" || r[12] != "20117" || r[13] != "Insufficient balance." {
		t.Fatalf("failed row %q", r)
	}

	// An export never replaces a file.
	before, _ := os.ReadFile(csvPath)
	rc, _, errs = journalCmd(t, "journal", "export", "--csv", csvPath, "--file", path)
	if rc != 1 || !strings.Contains(errs, "already exists") {
		t.Fatalf("second export: rc %d, %q", rc, errs)
	}
	if after, _ := os.ReadFile(csvPath); !bytes.Equal(before, after) {
		t.Fatal("the export was replaced")
	}
}

func TestJournalExportBroken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	writeJournal(t, path)
	editLine(t, path, 2, `"kind":"done"`, `"kind":"dome"`) // unreadable
	csvPath := filepath.Join(t.TempDir(), "audit.csv")
	rc, out, errs := journalCmd(t, "journal", "export", "--file", path, "--csv", csvPath)
	if rc != 1 || !strings.Contains(out, "exported 3 records") || !strings.Contains(errs, "BROKEN at line 2") || !strings.Contains(errs, "1 line could not be read") {
		t.Fatalf("rc %d\nstdout %q\nstderr %q", rc, out, errs)
	}
	f, _ := os.Open(csvPath)
	rows, _ := csv.NewReader(f).ReadAll()
	f.Close()
	if len(rows) != 4 || rows[2][0] != "3" || rows[3][0] != "4" {
		t.Fatalf("export of a broken journal: %q", rows)
	}
}

func TestJournalCommandErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "j.jsonl")
	writeJournal(t, path)
	cases := []struct {
		args []string
		rc   int
		want string
	}{
		{[]string{"journal"}, 2, "say verify or export"},
		{[]string{"journal", "check"}, 2, `unknown command "check"`},
		{[]string{"journal", "verify"}, 2, "say which journal"},
		{[]string{"journal", "verify", "--file", path, "--profile", "main"}, 2, "not both"},
		{[]string{"journal", "verify", "--profile", "../etc"}, 2, "--profile: "},
		{[]string{"journal", "verify", "--file", path, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"journal", "verify", "--csv", "x.csv", "--file", path}, 2, "unknown flag --csv"},
		{[]string{"journal", "export", "--file", path}, 2, "needs --csv FILE"},
		{[]string{"journal", "verify", "--profile", "nobody", "--data-dir", dir}, 1, "there is no journal at " + filepath.Join(dir, "journal-nobody.jsonl")},
		{[]string{"journal", "verify", "--file", dir}, 1, "not a regular file"},
		{[]string{"journal", "export", "--file", path, "--csv", filepath.Join(dir, "no", "such", "dir.csv")}, 1, "nothing was exported"},
	}
	for _, c := range cases {
		rc, out, errs := journalCmd(t, c.args...)
		if rc != c.rc || !strings.Contains(errs, c.want) || out != "" || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: rc %d, stdout %q, stderr %q; want rc %d and one line saying %q", c.args, rc, out, errs, c.rc, c.want)
		}
	}
	for _, args := range [][]string{{"journal", "--help"}, {"journal", "verify", "--help"}, {"journal", "export", "-h"}} {
		rc, out, _ := journalCmd(t, args...)
		if rc != 0 || !strings.Contains(out, "mixdesk journal verify") {
			t.Errorf("%v: rc %d, %q", args, rc, out)
		}
	}
	if rc, out, _ := journalCmd(t, "--help"); rc != 0 || !strings.Contains(out, "mixdesk journal verify") {
		t.Errorf("--help does not mention the journal command: %q", out)
	}
}

// useConfig points the policy file at path for the rest of the test.
func useConfig(t *testing.T, path string) {
	t.Helper()
	old := configPathFor
	configPathFor = func() (string, error) { return path, nil }
	t.Cleanup(func() { configPathFor = old })
}

// TestMalformedConfigStopsStartUp: a mistake in the policy file stops
// mixdesk before anything starts, with the line and the reason.
func TestMalformedConfigStopsStartUp(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, []byte("idle_lock = \"5m\"\n[limits.\"USDT\"]\ndaily = \"100\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	useConfig(t, cfg)
	for _, args := range [][]string{{"--sandbox"}, {"--profile", "main"}} {
		dir := t.TempDir()
		rc, _, errs := journalCmd(t, append(args, "--data-dir", dir)...)
		if rc != 1 || !strings.Contains(errs, "mixdesk: config: "+cfg+":2: limits: \"USDT\" is not an asset UUID") || !strings.Contains(errs, "nothing was started") {
			t.Fatalf("%v: rc %d, %q", args, rc, errs)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("%v: something was started: %v", args, entries)
		}
	}
	// The journal commands do not need the policy.
	path := filepath.Join(t.TempDir(), "j.jsonl")
	writeJournal(t, path)
	if rc, _, errs := journalCmd(t, "journal", "verify", "--file", path); rc != 0 {
		t.Fatalf("verify with a broken config: %d %q", rc, errs)
	}
}
