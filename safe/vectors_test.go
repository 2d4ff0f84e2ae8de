package safe

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/MixinNetwork/mixin/common"
	"github.com/MixinNetwork/mixin/crypto"

	"mixdesk/mixin"
)

// The values below are copied from ../shared/safe-vectors/output.txt (made
// with kernel v0.18.26 and cross-checked against the official Go SDK).
const (
	vectorUnsignedHex = "77770005fe6b7788944d328778f98e3e81588215b5a07de4f9a4a7de4db4535b404e65db000286db5a371d07daf6f3082f4bea123dd525e0268566c8eb030168894fd20e25b80000000000000000a3790f758fcead0206133ba5ee1a47f2e7ceb0bb30a0af4db1d5e0a0780356fc00020000000000000002000000040280de800001a989ffa5e6965d9d9d35b12baa01332076a8bdd7b067665099a8d2a850cc018006c5a0a983b8afe5e209db5902d2dc17ca5499eaa95f4bec4a90f271aca9883d0003fffe01000000000003c65d400001c1811cd0203de31f161679ca92845acada635d222b1f62dfbff8532fa729b30a831be0f9e974da4e3f9e68b6eb0dceb35dfca255b2db0c0bdb3110387d2774560003fffe01000000000000000568656c6c6f0000"
	vectorSignedHex   = "77770005fe6b7788944d328778f98e3e81588215b5a07de4f9a4a7de4db4535b404e65db000286db5a371d07daf6f3082f4bea123dd525e0268566c8eb030168894fd20e25b80000000000000000a3790f758fcead0206133ba5ee1a47f2e7ceb0bb30a0af4db1d5e0a0780356fc00020000000000000002000000040280de800001a989ffa5e6965d9d9d35b12baa01332076a8bdd7b067665099a8d2a850cc018006c5a0a983b8afe5e209db5902d2dc17ca5499eaa95f4bec4a90f271aca9883d0003fffe01000000000003c65d400001c1811cd0203de31f161679ca92845acada635d222b1f62dfbff8532fa729b30a831be0f9e974da4e3f9e68b6eb0dceb35dfca255b2db0c0bdb3110387d2774560003fffe01000000000000000568656c6c6f00020001000052149a51fa5d60c1ecd021484e31015bf7be0d034c71e0a9db4450e93b88513c4173af0cf694f0578e593ec1fb10b574225389ca354a6c4a45d1d31ff8264c0e00010000f53cc39a5c9229e99b037f84f4de391ffb714df285c1d6548b6fbd3255c3d26581eb398ae11b7c458251405fbf04836cf3cc90d2c3437bca30bddbd73197f90d"
	vectorHash        = "e319d2b131f3014ec5c2705d9a7ca8ff7590149a496f590b06b825c20630fcf5"
	vectorJWT         = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJleHAiOjE3MDAwMDAzMDAsImlhdCI6MTcwMDAwMDAwMCwianRpIjoiMDAwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMGIxIiwic2NwIjoiRlVMTCIsInNpZCI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDBhMSIsInNpZyI6IjQzYWVmZDc0NmY4NTc4ZmNiNmYzNDVjMGY2NTEyZDcxNmU1NDJhNDY2ZmYyMTc0ZDQ2NWIwNTc0YTI5YjhlNGQiLCJ1aWQiOiIwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDEifQ.iob3mfgsnZnk-_Y_3GIhTgSTfof-BJJP-6LBB6mHeSmuW4PkvVKqUivDgllzq-eesPUjPZzPxi57q7xBc7OLCQ"
)

func TestVectorsIdentifiers(t *testing.T) {
	s := sender(t)
	for _, c := range []struct{ name, got, want string }{
		{"spend scalar y", scalarOf(s.spend).String(), "aa9c2b77fe059cde7bbc67a4f30410d89c6d1440dede12e6a125f1841fff8e0f"},
		{"spend public B", s.spend.Public().String(), "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"},
		{"recipient B", recipient(t).spend.Public().String(), "29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7"},
		{"kernel asset id BTC", KernelAssetID(btcID).String(), "fe6b7788944d328778f98e3e81588215b5a07de4f9a4a7de4db4535b404e65db"},
		{"kernel asset id XIN", KernelAssetID(xinID).String(), common.XINAssetId.String()},
		{"members hash", MembersHash(senderID), "f12a25646e794b372aadbe3987ec87561d92664ccfb1a05a247e5878a3abd354"},
		{"members hash 2-of-3", MembersHash("00000000-0000-4000-8000-000000000003", senderID, recipientID), "134f7634299fcebbbe699ab8086ea85f52bbb17f078131e70274190ae782553c"},
		{"hint 0", GhostHint(vectorTrace, 0), "5e1beaa8-f5c0-37cc-81fa-fbe267fb1053"},
		{"hint 1", GhostHint(vectorTrace, 1), "dde37dda-9f1f-39bb-a036-55d65b66af60"},
		{"snapshot id", SnapshotID(senderID, crypto.Hash(mustHex(t, vectorHash))), "c8a49f8a-4e21-3107-b244-aed3499380a5"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.name, c.got, c.want)
		}
	}
	if ed := ed25519.NewKeyFromSeed(mustHex(t, senderSpendHex)).Public().(ed25519.PublicKey); hex.EncodeToString(ed) != s.spend.Public().String() {
		t.Error("spend public key is not the Ed25519 public key of the seed")
	}
}

// TestVectorsTransaction rebuilds the vectors' payment (0.42 BTC from two
// inputs, change 0.13, memo hello) through the package's own selection,
// ghost-key requests, build and signing, and gets the same bytes.
func TestVectorsTransaction(t *testing.T) {
	s, r := sender(t), recipient(t)
	p := Payment{RequestID: vectorTrace, AssetID: btcID, Sender: senderID, Recipient: recipientID, Amount: "0.42", Memo: "hello"}
	ins := vectorInputs(s)
	if got := ins[0].Keys[0]; got != "9ddc6b42ba65a63b25c6ec672835777267b49ed38450fe21e51fee525cbbc123" {
		t.Fatalf("input 0 key %s", got)
	}
	sel, err := SelectOutputs(ins, senderID, btcID, p.Amount, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(sel.Inputs) != 2 || sel.Total != "0.55" || sel.Change != "0.13" {
		t.Fatalf("selection %d inputs, total %s, change %s", len(sel.Inputs), sel.Total, sel.Change)
	}
	reqs := GhostRequests(p, sel)
	if len(reqs) != 2 || reqs[0].Receivers[0] != recipientID || reqs[1].Receivers[0] != senderID ||
		reqs[0].Hint != "5e1beaa8-f5c0-37cc-81fa-fbe267fb1053" || reqs[1].Index != 1 {
		t.Fatalf("ghost requests %+v", reqs)
	}
	ghosts := ghostsFor(reqs, map[string]wallet{senderID: s, recipientID: r})
	if ghosts[0].Keys[0] != "a989ffa5e6965d9d9d35b12baa01332076a8bdd7b067665099a8d2a850cc0180" ||
		ghosts[1].Mask != "831be0f9e974da4e3f9e68b6eb0dceb35dfca255b2db0c0bdb3110387d277456" {
		t.Fatalf("ghost keys differ from the vectors: %+v", ghosts)
	}
	u, err := Build(p, sel, ghosts)
	if err != nil {
		t.Fatal(err)
	}
	if u.RawHex() != vectorUnsignedHex {
		t.Fatalf("unsigned raw\n got %s\nwant %s", u.RawHex(), vectorUnsignedHex)
	}
	if u.Hash.String() != vectorHash || crypto.Blake3Hash(u.Raw) != u.Hash {
		t.Fatalf("hash %s", u.Hash)
	}
	views := s.views(u.Inputs)
	if views[0] != "ff93f27c407b078acd9980fda8396f84a888168af4f9455805e87fb9c9e7b90a" ||
		views[1] != "384f2ab51c6e951eede5450aadc2807b2cbde29b4687e5a6c0167f16003ce307" {
		t.Fatalf("views %v", views)
	}
	signed, hash, err := Sign(u.Raw, u.Inputs, views, s.spend)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(signed) != vectorSignedHex || hash != u.Hash {
		t.Fatalf("signed raw\n got %x\nwant %s", signed, vectorSignedHex)
	}

	// Decoded back with the kernel library.
	ver, err := common.UnmarshalVersionedTransaction(signed)
	if err != nil {
		t.Fatal(err)
	}
	if ver.PayloadHash() != u.Hash || string(ver.Extra) != "hello" || ver.Asset != KernelAssetID(btcID) ||
		len(ver.Inputs) != 2 || ver.Inputs[1].Index != 2 || len(ver.Outputs) != 2 ||
		ver.Outputs[0].Amount.String() != "0.42000000" || ver.Outputs[1].Amount.String() != "0.13000000" ||
		ver.Outputs[0].Script.String() != "fffe01" {
		t.Fatalf("decoded transaction differs: %+v", ver.Transaction)
	}
	// The recipient sees output 0 with its view key, the sender output 1.
	rv, sv := r.view, s.view
	rB, sB := r.spend.Public(), s.spend.Public()
	if *crypto.ViewGhostOutputKey(ver.Outputs[0].Keys[0], &rv, &ver.Outputs[0].Mask, 0) != rB ||
		*crypto.ViewGhostOutputKey(ver.Outputs[1].Keys[0], &sv, &ver.Outputs[1].Mask, 1) != sB {
		t.Fatal("outputs do not belong to recipient and sender")
	}
}

// TestVectorsSigningKey checks the signing key of each input against the
// kernel's DeriveGhostPrivateKey, as the vectors do.
func TestVectorsSigningKey(t *testing.T) {
	s := sender(t)
	y := scalarOf(s.spend)
	for i, o := range vectorInputs(s) {
		mask, _ := crypto.KeyFromString(o.Mask)
		priv := crypto.DeriveGhostPrivateKey(&mask, &s.view, &y, uint64(o.OutputIndex))
		if priv.Public().String() != o.Keys[0] {
			t.Errorf("input %d: DeriveGhostPrivateKey does not open its key", i)
		}
	}
}

// TestVectorsJWT: the vectors' token verifies with the keystore's session
// key and carries the sig claim the legacy session computes; the session
// signs the same request with the same claim.
func TestVectorsJWT(t *testing.T) {
	acct := openVectorAccount(t)
	path := "/safe/outputs?asset=" + KernelAssetID(btcID).String() + "&limit=500&members=" + MembersHash(senderID) + "&state=unspent&threshold=1"
	parts := strings.Split(vectorJWT, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	pub := ed25519.NewKeyFromSeed(mustHex(t, sessionSeedHex)).Public().(ed25519.PublicKey)
	if !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) {
		t.Fatal("vector token does not verify with the session key")
	}
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	want := mixin.RequestSig("GET", path, nil)
	if !strings.Contains(string(claims), want) || want != "43aefd746f8578fcb6f345c0f6512d716e542a466ff2174d465b0574a29b8e4d" {
		t.Fatalf("sig claim %s not in %s", want, claims)
	}
	tok, err := acct.Session().Token("GET", path, nil, "00000000-0000-4000-8000-0000000000b1", time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	tp := strings.Split(tok, ".")
	if tp[0] != parts[0] {
		t.Fatalf("header %s", tp[0])
	}
	mine, _ := base64.RawURLEncoding.DecodeString(tp[1])
	if !strings.Contains(string(mine), want) || !strings.Contains(string(mine), senderID) || !strings.Contains(string(mine), sessionID) {
		t.Fatalf("claims %s", mine)
	}
	ms, _ := base64.RawURLEncoding.DecodeString(tp[2])
	if !ed25519.Verify(pub, []byte(tp[0]+"."+tp[1]), ms) {
		t.Fatal("token does not verify")
	}
}

func openVectorAccount(t testing.TB) *Account {
	t.Helper()
	server := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	acct, err := Keystore{
		AppID: senderID, SessionID: sessionID, ServerPublicKey: hex.EncodeToString(server),
		SessionPrivateKey: sessionSeedHex, SpendPrivateKey: senderSpendHex,
	}.Open()
	if err != nil {
		t.Fatal(err)
	}
	return acct
}
