// Package keystore keeps the operator's app session profiles in the OS
// keyring (macOS Keychain, Windows Credential Manager, or a freedesktop
// Secret Service such as GNOME Keyring or KWallet on Linux), never in a file.
//
// A profile is a named set of session credentials (client id, session id,
// private key, PIN token) plus the PIN when the operator chose to keep it.
// Profiles are validated with package mixin before anything is written, and
// again when they are loaded.
//
// # Layout in the keyring
//
// Every entry lives under one service name ("mixdesk" by default). Keyrings
// limit the size of one secret (Windows refuses more than 2560 bytes, macOS
// about 3000), and an RSA-4096 key alone is larger than that, so a profile is
// stored as:
//
//   - parts "profile:NAME:SLOT:I" (I = 0, 1, ...), each under 2000 bytes of
//     base64 text, which together hold the profile's JSON record;
//   - a manifest "profile:NAME", written last, that names the slot ("a" or
//     "b"), the number of parts and the SHA-256 of the record.
//
// Load trusts a profile only when the manifest, every part and the checksum
// agree and the credentials pass mixin's checks again, so a half-written or
// damaged profile is reported, never used. An overwrite writes the other
// slot and switches the manifest to it, so a failed overwrite leaves the old
// profile intact.
//
// Keyrings cannot list their entries portably, so an index entry (user name
// "index") holds the profile names and the default profile. Every name that
// has entries in the keyring is listed in the index: Save lists a name before
// writing its parts, and Delete unlists it only after removing them.
//
// # Timeouts
//
// The keyring library has no timeouts, and a locked or absent Secret Service
// can block for minutes, so every keyring call runs in its own goroutine and
// is abandoned when its deadline passes (a goroutine cannot be stopped from
// outside). While an abandoned call is still running, the Store refuses new
// keyring calls at once with a timeout error instead of piling up more
// blocked goroutines; it accepts them again as soon as the call returns.
package keystore
