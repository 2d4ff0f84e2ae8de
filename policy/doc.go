// Package policy reads the treasury policy of a profile from the config
// file (config.toml, DefaultPath): the large-amount threshold, the
// duplicate-payout window, the idle lock, address-book-only, and the caps
// per asset, with [profiles.NAME] tables overriding the top level key by
// key (see Load for the format).
//
// Load reads one profile's Policy; a missing file is Default(), and any
// mistake in the file, in any profile's table, is a *ConfigError naming
// the file, the line and what is wrong: nothing falls back to a default
// silently. Policy.Apply turns a policy into the review rules of a
// payout.Config; the desk enforces them (the caps are payout.AssetLimit),
// and the console takes the idle lock from the policy.
package policy
