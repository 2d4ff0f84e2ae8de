package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// asSandbox makes the rig's console run as --sandbox runs it: profiles in
// memory, no idle lock, with a policy file that sets one.
func asSandbox(t *testing.T, r *rig) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, []byte("idle_lock = \"30s\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.deps.Env.ConfigPath = cfg
	r.deps.Sandbox, r.deps.InMemory, r.deps.IdleLock = true, true, -1
}

// TestSandboxSaysWhatItDoesInstead: the sandbox's PIN is held in memory,
// not in a keyring, and it never locks: home says so, and says that the
// policy file's idle_lock is not applied; setup says that a profile set up
// there stays in memory.
func TestSandboxSaysWhatItDoesInstead(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	asSandbox(t, r)
	a := New(r.deps)
	clk := &fakeClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	a.now = clk.now
	a.lastInput = clk.now()
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: termW, Height: termH})
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })
	if a.acct.Policy.IdleLock != 30*time.Second {
		t.Fatalf("the policy's idle lock is %s, want the file's 30s", a.acct.Policy.IdleLock)
	}
	v := a.View()
	mustContain(t, v, "profile treasury · PIN held in memory for this run (no keyring) · no idle lock (sandbox)")
	mustContain(t, v, "\n ⚠ idle_lock = \"30s\" in the config is not applied: the sandbox never locks.")
	mustNotContain(t, v, "keyring ·", "PIN kept in the keyring")
	checkGolden(t, "home", v, termW)

	clk.add(time.Hour)
	p.send(lockTickMsg{})
	if a.lock != nil {
		t.Fatal("the sandbox locked")
	}

	p.typ("n")
	p.until("setup", func(a *App) bool { return a.screen == screenSetup })
	mustContain(t, flat(a.View()), "Sandbox: a profile set up here is kept in memory until mixdesk quits; nothing is saved to the OS keyring.")
}

func TestConfigDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second: "30s", 2 * time.Minute: "2m", 90 * time.Second: "1m30s", time.Hour: "1h", 90 * time.Minute: "1h30m",
	} {
		if got := configDuration(d); got != want {
			t.Errorf("%s written %q, want %q", d, got, want)
		}
	}
}

// TestSandboxNamesSomeoneToPay: a newcomer on the sandbox finds the other
// users of its world on home, by name and Mixin ID, a line breaking only
// between people, even at the smallest size; elsewhere nothing is shown.
func TestSandboxNamesSomeoneToPay(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpts{})
	r.deps.Sandbox, r.deps.InMemory, r.deps.IdleLock = true, true, -1
	r.deps.SandboxPeople = []SandboxPerson{{Name: "Amara Okafor", MixinID: "7000100002"}, {Name: "Bruno Costa", MixinID: "7000100003"},
		{Name: "Chen Wu", MixinID: "7000100004"}, {Name: "Dalia Haddad", MixinID: "7000100005"}, {Name: "Emeka Eze", MixinID: "7000100006", NotOnSafe: true}}
	a := New(r.deps)
	t.Cleanup(a.Close)
	p := newPump(t, a)
	p.run(a.Init())
	p.send(tea.WindowSizeMsg{Width: 72, Height: 22})
	p.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })
	v := a.View()
	mustContain(t, v, "Others in this sandbox, to pay by Mixin ID (t):", "Emeka Eze 7000100006 (not on Safe: refused)")
	for _, who := range []string{"Amara Okafor 7000100002", "Bruno Costa 7000100003", "Chen Wu 7000100004", "Dalia Haddad 7000100005"} {
		mustContain(t, v, who)
	}
	for _, l := range strings.Split(v, "\n") {
		if w := lipgloss.Width(strings.TrimRight(l, " ")); w > 72 {
			t.Errorf("a line of %d columns at 72: %q", w, l)
		}
	}

	plain := newRig(t, rigOpts{})
	b := New(plain.deps)
	t.Cleanup(b.Close)
	q := newPump(t, b)
	q.run(b.Init())
	q.send(tea.WindowSizeMsg{Width: termW, Height: termH})
	q.until("balances", func(a *App) bool { return a.home() != nil && !a.home().loaded.IsZero() })
	mustNotContain(t, b.View(), "Others in this sandbox")
}
