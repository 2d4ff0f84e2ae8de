package policy

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"mixdesk/addressbook"
	"mixdesk/keystore"
	"mixdesk/payout"
	"mixdesk/payout/payouttest"
)

// Asset ids of the sandbox's default world.
const (
	btcID  = payouttest.BTC
	ethID  = payouttest.ETH
	usdtID = payouttest.USDT
)

// writeConfig writes a config file in a fresh directory and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// policyDoc is the example of Load's documentation.
const policyDoc = `# Large-amount warning at or above this USD value; "0" turns it off.
large_usd = "1000"
# Look-back of the "same amount to the same recipient" warning.
duplicate_window = "6h"
# Lock the console after this long without a key press; "0" = never.
idle_lock = "5m"
# Refuse recipients that are not in the profile's address book.
address_book_only = false

# Caps per asset, keyed by asset UUID (here USDT).
[limits."4d8c508b-91c5-375b-92b0-ee702ed2dac5"]
per_transfer = "5000"
daily = "20000"

[profiles.payroll]
address_book_only = true
idle_lock = "2m"

[profiles.payroll.limits."4d8c508b-91c5-375b-92b0-ee702ed2dac5"]
per_transfer = "2000"
daily = "10000"
`

func TestLoadPolicyMissingFile(t *testing.T) {
	p, err := Load(filepath.Join(t.TempDir(), "none", "config.toml"), "main")
	if err != nil || !reflect.DeepEqual(p, Default()) {
		t.Fatalf("Load of a missing file = %+v, %v; want the default", p, err)
	}
	d := Default()
	if d.LargeUSD != "1000" || d.DuplicateWindow != 6*time.Hour || d.IdleLock != 5*time.Minute || d.AddressBookOnly || d.Limits != nil {
		t.Fatalf("Default = %+v", d)
	}
}

func TestLoadPolicyExample(t *testing.T) {
	path := writeConfig(t, policyDoc)
	top, err := Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	want := Policy{LargeUSD: "1000", DuplicateWindow: 6 * time.Hour, IdleLock: 5 * time.Minute,
		Limits: map[string]payout.AssetLimit{usdtID: {PerTransfer: "5000", Daily: "20000"}}}
	if !reflect.DeepEqual(top, want) {
		t.Fatalf("top level = %+v, want %+v", top, want)
	}
	other, err := Load(path, "treasury") // no table of its own
	if err != nil || !reflect.DeepEqual(other, want) {
		t.Fatalf("profile without a table = %+v, %v", other, err)
	}
	payroll, err := Load(path, "payroll")
	if err != nil {
		t.Fatal(err)
	}
	want.AddressBookOnly, want.IdleLock = true, 2*time.Minute
	want.Limits = map[string]payout.AssetLimit{usdtID: {PerTransfer: "2000", Daily: "10000"}}
	if !reflect.DeepEqual(payroll, want) {
		t.Fatalf("payroll = %+v, want %+v", payroll, want)
	}
}

func TestLoadPolicyProfileOverrides(t *testing.T) {
	path := writeConfig(t, `
large_usd = "500.50"
idle_lock = "0"

[limits."`+strings.ToUpper(usdtID)+`"]
per_transfer = "100.0"
daily = "1000"

[limits."`+btcID+`"]
daily = "0.5"

[profiles.ops]
large_usd = "0"
duplicate_window = "90m"
idle_lock = "10m"

[profiles.ops.limits."`+usdtID+`"]
daily = "300"

[profiles.ops.limits."`+ethID+`"]
per_transfer = "2"
`)
	top, err := Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if top.LargeUSD != "500.5" || top.IdleLock != 0 || top.DuplicateWindow != 6*time.Hour ||
		!reflect.DeepEqual(top.Limits, map[string]payout.AssetLimit{usdtID: {PerTransfer: "100", Daily: "1000"}, btcID: {Daily: "0.5"}}) {
		t.Fatalf("top = %+v", top)
	}
	ops, err := Load(path, "ops")
	if err != nil {
		t.Fatal(err)
	}
	// Key by key over the top level; limits merged per asset (the profile's
	// USDT table replaces the top level's: no per-transfer cap).
	want := Policy{LargeUSD: "0", DuplicateWindow: 90 * time.Minute, IdleLock: 10 * time.Minute,
		Limits: map[string]payout.AssetLimit{usdtID: {Daily: "300"}, btcID: {Daily: "0.5"}, ethID: {PerTransfer: "2"}}}
	if !reflect.DeepEqual(ops, want) {
		t.Fatalf("ops = %+v, want %+v", ops, want)
	}
	// What Load gives, a desk takes.
	r := payouttest.New(t, payouttest.Options{Seed: 220, Config: ops.Apply(payout.Config{})})
	if got := r.Desk.Config(); got.LargeUSD != "0" || got.Limits[usdtID].Daily != "300" {
		t.Fatalf("desk config %+v", got)
	}
}

func TestLoadPolicyErrors(t *testing.T) {
	const u = "4d8c508b-91c5-375b-92b0-ee702ed2dac5"
	cases := []struct {
		name string
		text string
		line int
		want string
	}{
		{"not TOML", "large_usd = \"1\"\nidle_lock = \n", 2, "not valid TOML"},
		{"unclosed table", "[limits\nx = 1\n", 2, "not valid TOML"},
		{"key twice", "large_usd = \"1\"\nlarge_usd = \"2\"\n", 2, "not valid TOML"},
		{"unknown key", "large_usd = \"1\"\n\nmax_amount = \"5\"\n", 3, "unknown key max_amount"},
		{"key in the wrong case", "LARGE_USD = \"1\"\n", 1, "case-sensitive"},
		{"dashes", "idle-lock = \"5m\"\n", 1, "write idle_lock"},
		{"unknown table", "# c\n[alerts]\nmail = \"x\"\n", 2, "unknown key alerts"},
		{"unknown nested table", "[foo.bar]\nx = 1\n", 1, "unknown key foo"},
		{"amount as a number", "large_usd = 1000\n", 1, `quoted string such as large_usd = "1000"`},
		{"amount as a float", "\n[limits.\"" + u + "\"]\ndaily = 10.5\n", 3, "not a float"},
		{"negative amount", "[limits.\"" + u + "\"]\nper_transfer = \"-5\"\n", 2, "must not be negative"},
		{"nine decimals", "[limits.\"" + u + "\"]\n\ndaily = \"1.123456789\"\n", 3, "at most 8 digits after the point"},
		{"zero cap", "[limits.\"" + u + "\"]\ndaily = \"0\"\n", 2, "greater than zero"},
		{"empty cap", "[limits.\"" + u + "\"]\ndaily = \"\"\n", 2, "leave the key out for no cap"},
		{"grouped amount", "large_usd = \"1,000\"\n", 1, "grouping"},
		{"exponent", "large_usd = \"1e3\"\n", 1, "exponent"},
		{"asset not a UUID", "[limits.USDT]\ndaily = \"5\"\n", 1, `"USDT" is not an asset UUID`},
		{"asset twice", "[limits.\"" + u + "\"]\ndaily = \"5\"\n[limits.\"" + strings.ToUpper(u) + "\"]\ndaily = \"6\"\n", 3, "given twice"},
		{"unknown cap", "[limits.\"" + u + "\"]\nweekly = \"5\"\n", 2, "unknown key limits." + u + ".weekly"},
		{"limits not a table", "limits = \"5\"\n", 1, "must be a table"},
		{"asset limits not a table", "[limits]\n\"" + u + "\" = \"5\"\n", 2, "must be a table"},
		{"duration without unit", "duplicate_window = \"6\"\n", 1, "not a duration"},
		{"duration as a number", "idle_lock = 300\n", 1, "quoted string"},
		{"negative duration", "idle_lock = \"-5m\"\n", 1, "must not be negative"},
		{"zero window", "duplicate_window = \"0s\"\n", 1, "more than zero"},
		{"idle lock too short", "idle_lock = \"5s\"\n", 1, "too short"},
		{"bool as a string", "address_book_only = \"yes\"\n", 1, "true or false"},
		{"profiles not a table", "profiles = 1\n", 1, "must be a table"},
		{"profile name in upper case", "[profiles.Main]\nidle_lock = \"1m\"\n", 1, "profile name"},
		{"profile name with a space", "[profiles.\"my desk\"]\nidle_lock = \"1m\"\n", 1, "profile name"},
		{"error in another profile", "[profiles.a]\nidle_lock = \"1m\"\n[profiles.b]\nlarge_usd = \"x\"\n", 4, "profiles.b.large_usd"},
		{"unknown key in a profile", "[profiles.a]\nidle_lock = \"1m\"\nbogus = true\n", 3, "unknown key profiles.a.bogus"},
		{"profiles in a profile", "[profiles.a.profiles.b]\nidle_lock = \"1m\"\n", 1, "nested"},
		{"first problem in the file", "idle_lock = \"-1m\"\nlarge_usd = \"x\"\n", 1, "idle_lock"},
		{"not UTF-8", "large_usd = \"1\"\n# \xff\n", 2, "UTF-8"},
		{"daily cap under the per-transfer cap", "[limits.\"" + u + "\"]\nper_transfer = \"5000\"\ndaily = \"1000\"\n", 3,
			"limits: asset " + u + " has a daily cap of 1,000, lower than its per-transfer cap of 5,000"},
		{"daily cap under the per-transfer cap, key in upper case", "[limits]\n\"" + strings.ToUpper(u) + "\" = { daily = \"1\", per_transfer = \"1.5\" }\n", 2,
			"make daily at least per_transfer"},
		{"daily cap under the per-transfer cap in a profile", "[limits.\"" + u + "\"]\nper_transfer = \"50\"\n[profiles.z.limits.\"" + u + "\"]\nper_transfer = \"50\"\n\ndaily = \"49.99999999\"\n", 6,
			"profiles.z.limits: asset " + u + " has a daily cap of 49.99999999, lower than its per-transfer cap of 50"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeConfig(t, c.text)
			p, err := Load(path, "a")
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Load = %+v, %v; want a *ConfigError", p, err)
			}
			if ce.Path != path || ce.Line != c.line || !strings.Contains(ce.Reason, c.want) {
				t.Fatalf("error %q (line %d), want line %d saying %q", err, ce.Line, c.line, c.want)
			}
			if want := path + ":" + strconv.Itoa(c.line) + ": " + ce.Reason; err.Error() != want {
				t.Fatalf("Error() = %q, want %q", err, want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q is more than one line", err)
			}
		})
	}
}

func TestLoadPolicyUnreadable(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir, "") // a directory
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Line != 0 || ce.Path != dir {
		t.Fatalf("Load(dir) = %v", err)
	}
	big := writeConfig(t, "# "+strings.Repeat("x", maxConfigBytes)+"\n")
	if _, err := Load(big, ""); !errors.As(err, &ce) || !strings.Contains(ce.Reason, "larger") {
		t.Fatalf("a huge file: %v", err)
	}
	// An empty file and comments only are the defaults; so is a BOM.
	for _, text := range []string{"", "# nothing yet\n", "\ufefflarge_usd = \"1000\"\n"} {
		if p, err := Load(writeConfig(t, text), ""); err != nil || !reflect.DeepEqual(p, Default()) {
			t.Fatalf("Load(%q) = %+v, %v", text, p, err)
		}
	}
}

func TestDefaultConfigPath(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("HOME", dir)
	t.Setenv("AppData", dir)
	p, err := DefaultPath()
	if err != nil || filepath.Base(p) != "config.toml" || filepath.Base(filepath.Dir(p)) != "mixdesk" || !strings.HasPrefix(p, dir) {
		t.Fatalf("DefaultPath = %q, %v", p, err)
	}
}

// TestProfileNameRuleMatchesTheKeyring: a [profiles.NAME] table is refused
// exactly when the keyring would refuse NAME as a profile name.
func TestProfileNameRuleMatchesTheKeyring(t *testing.T) {
	names := []string{"", "a", "main", "ops-2", "a.b_c", "-a", ".a", "_a", "A", "Main", "a b", "é", "a/b",
		strings.Repeat("a", 40), strings.Repeat("a", 41), "0", "9z"}
	for _, n := range names {
		if (profileNameProblem(n) == "") != (keystore.ValidateName(n) == nil) {
			t.Errorf("profile name %q: config says %q, keyring says %v", n, profileNameProblem(n), keystore.ValidateName(n))
		}
	}
}

// FuzzLoadPolicy: no input makes Load panic, and every error is a
// *ConfigError with a line inside the file.
func FuzzLoadPolicy(f *testing.F) {
	f.Add(policyDoc)
	f.Add("[limits]\n")
	f.Add("x = {a = 1}\n")
	f.Add("[[profiles]]\nname = 1\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string) {
		path := filepath.Join(dir, "config.toml")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path, "payroll")
		if err == nil {
			return
		}
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Line < 0 || ce.Line > strings.Count(text, "\n")+1 {
			t.Fatalf("error %v", err)
		}
	})
}

// TestLoadPolicyRefusesDeepNesting: a file nesting far deeper than the
// format needs is refused at once, with its line, instead of taking long to
// find where the mistake is.
func TestLoadPolicyRefusesDeepNesting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	deep := "[limits.\"4d8c508b-91c5-375b-92b0-ee702ed2dac5\"" + strings.Repeat(".a", 20000) + "]\nx = 1\n"
	if err := os.WriteFile(path, []byte("idle_lock = \"5m\"\n"+deep), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, "")
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Line != 2 || !strings.Contains(ce.Reason, "nest deeper") {
		t.Fatalf("got %v", err)
	}
	// The deepest form the format uses still loads.
	ok := "[profiles.payroll.limits.\"4d8c508b-91c5-375b-92b0-ee702ed2dac5\"]\ndaily = \"10\"\n"
	if err := os.WriteFile(path, []byte(ok), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, "payroll"); err != nil {
		t.Fatal(err)
	}
}

// TestLoadPolicyDailyCapEqualToPerTransfer: a daily cap equal to the
// per-transfer cap is a real policy (one payout a day at most) and is
// taken.
func TestLoadPolicyDailyCapEqualToPerTransfer(t *testing.T) {
	const u = "4d8c508b-91c5-375b-92b0-ee702ed2dac5"
	path := writeConfig(t, "[limits.\""+u+"\"]\nper_transfer = \"500\"\ndaily = \"500.0\"\n")
	p, err := Load(path, "")
	if err != nil || p.Limits[u].Daily != "500" || p.Limits[u].PerTransfer != "500" {
		t.Fatalf("Load = %+v, %v", p, err)
	}
}

func TestPolicyApply(t *testing.T) {
	book, err := addressbook.Open(filepath.Join(t.TempDir(), "ab.json"))
	if err != nil {
		t.Fatal(err)
	}
	p := Policy{LargeUSD: "250", DuplicateWindow: time.Hour, IdleLock: time.Minute, AddressBookOnly: true,
		Limits: map[string]payout.AssetLimit{usdtID: {Daily: "5"}}}
	c := p.Apply(payout.Config{Self: "me", Book: book, LargeUSD: "9", Limits: map[string]payout.AssetLimit{btcID: {Daily: "1"}}})
	if c.Self != "me" || c.Book != book || c.LargeUSD != "250" || c.DuplicateWindow != time.Hour || !c.AddressBookOnly ||
		len(c.Limits) != 1 || c.Limits[usdtID].Daily != "5" {
		t.Fatalf("Apply = %+v", c)
	}
	c.Limits[usdtID] = payout.AssetLimit{}
	if p.Limits[usdtID].Daily != "5" {
		t.Fatal("Apply shares the policy's map")
	}
	if d := Default().Apply(payout.Config{Limits: map[string]payout.AssetLimit{btcID: {}}}); d.Limits != nil || d.LargeUSD != "1000" || d.DuplicateWindow != 6*time.Hour || d.AddressBookOnly {
		t.Fatalf("default policy applied: %+v", d)
	}
}
