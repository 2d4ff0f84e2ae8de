package safe

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/MixinNetwork/mixin/common"
	"github.com/MixinNetwork/mixin/crypto"

	"mixdesk/mixin"
)

// Golden bytes of a one-input payment that needs no change: 0.3 BTC from
// the vectors' first input, memo "rent". Written once from Build and Sign;
// TestGoldenOneInput checks them and decodes them with the kernel library,
// so any change of encoding or signing shows here.
const (
	goldenTrace       = "0b6e9bd3-4a61-4c3c-9d6e-3c4f1b2a5e77"
	goldenOneUnsigned = "77770005fe6b7788944d328778f98e3e81588215b5a07de4f9a4a7de4db4535b404e65db000186db5a371d07daf6f3082f4bea123dd525e0268566c8eb030168894fd20e25b8000000000000000000010000000401c9c3800001a989ffa5e6965d9d9d35b12baa01332076a8bdd7b067665099a8d2a850cc018006c5a0a983b8afe5e209db5902d2dc17ca5499eaa95f4bec4a90f271aca9883d0003fffe01000000000000000472656e740000"
	goldenOneHash     = "6967d4819b685c69c507cb96d09fed3d14ac4a5022a4dd4fa20a91e4d2bba72b"
	goldenOneSigned   = "77770005fe6b7788944d328778f98e3e81588215b5a07de4f9a4a7de4db4535b404e65db000186db5a371d07daf6f3082f4bea123dd525e0268566c8eb030168894fd20e25b8000000000000000000010000000401c9c3800001a989ffa5e6965d9d9d35b12baa01332076a8bdd7b067665099a8d2a850cc018006c5a0a983b8afe5e209db5902d2dc17ca5499eaa95f4bec4a90f271aca9883d0003fffe01000000000000000472656e74000100010000127d12ff7c48ce9fa26f211dfcdcfe42b96fe6c7310ee7322c45d9a070b9da5e9fd3f680cec086d9f2ae1a5f3601fc98028abbeff820dfaa24deb04bd993c00b"
)

// notPoint is 32 bytes that are no curve point.
var notPoint = "02" + strings.Repeat("00", 31)

func pay(amount, memo string) Payment {
	return Payment{RequestID: goldenTrace, AssetID: btcID, Sender: senderID, Recipient: recipientID, Amount: amount, Memo: memo}
}

func wallets(t testing.TB) map[string]wallet {
	return map[string]wallet{senderID: sender(t), recipientID: recipient(t)}
}

// payWith chooses, builds and signs a payment from ins, with the answers
// the Sequencer would give.
func payWith(t testing.TB, p Payment, ins []Output) (*Unsigned, []byte) {
	t.Helper()
	s := sender(t)
	sel, err := SelectOutputs(ins, senderID, btcID, p.Amount, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	u, err := Build(p, sel, ghostsFor(GhostRequests(p, sel), wallets(t)))
	if err != nil {
		t.Fatal(err)
	}
	signed, hash, err := Sign(u.Raw, u.Inputs, s.views(u.Inputs), s.spend)
	if err != nil {
		t.Fatal(err)
	}
	if hash != u.Hash {
		t.Fatal("Sign's hash is not Build's")
	}
	return u, signed
}

func inputKeys(t testing.TB, ins []Output) []crypto.Key {
	t.Helper()
	keys := make([]crypto.Key, len(ins))
	for i, o := range ins {
		k, err := crypto.KeyFromString(o.Keys[0])
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
	}
	return keys
}

// manyInputs makes n inputs of amount each, at indexes 0..n-1 of one
// transaction, oldest first.
func manyInputs(w wallet, n int, amount string) []Output {
	ins := make([]Output, n)
	for i := range ins {
		ins[i] = w.output("many", uint(i), amount, fixedKey(byte(0x20+i%200)), int64(i+1), btcID)
	}
	return ins
}

func TestGoldenOneInput(t *testing.T) {
	u, signed := payWith(t, pay("0.3", "rent"), vectorInputs(sender(t))[:1])
	if u.RawHex() != goldenOneUnsigned || u.Hash.String() != goldenOneHash || hex.EncodeToString(signed) != goldenOneSigned {
		t.Fatalf("golden bytes changed:\nunsigned %s\nhash %s\nsigned %x", u.RawHex(), u.Hash, signed)
	}
	if u.Change != "0" || len(u.Inputs) != 1 {
		t.Fatalf("change %s, %d inputs", u.Change, len(u.Inputs))
	}
	ver, err := VerifySigned(signed, inputKeys(t, u.Inputs))
	if err != nil {
		t.Fatal(err)
	}
	if ver.PayloadHash() != u.Hash || len(ver.Outputs) != 1 || ver.Outputs[0].Amount.String() != "0.30000000" ||
		string(ver.Extra) != "rent" || ver.Version != common.TxVersionHashSignature {
		t.Fatalf("decoded %+v", ver.Transaction)
	}
}

// TestSeveralInputsWithChange: five inputs of 0.1 pay 0.45; the change
// 0.05 goes back to the sender, and every input's signature verifies.
func TestSeveralInputsWithChange(t *testing.T) {
	s, r := sender(t), recipient(t)
	ins := manyInputs(s, 8, "0.1")
	u, signed := payWith(t, pay("0.45", ""), ins)
	if len(u.Inputs) != 5 || u.Change != "0.05" {
		t.Fatalf("%d inputs, change %s", len(u.Inputs), u.Change)
	}
	ver, err := VerifySigned(signed, inputKeys(t, u.Inputs))
	if err != nil {
		t.Fatal(err)
	}
	if len(ver.Outputs) != 2 || ver.Outputs[0].Amount.String() != "0.45000000" || ver.Outputs[1].Amount.String() != "0.05000000" || len(ver.Extra) != 0 {
		t.Fatalf("outputs %v %v", ver.Outputs[0].Amount, ver.Outputs[1].Amount)
	}
	// Σ in = Σ out, as the kernel demands.
	in := common.NewIntegerFromString("0.5")
	if ver.Outputs[0].Amount.Add(ver.Outputs[1].Amount).Cmp(in) != 0 {
		t.Fatal("inputs and outputs do not balance")
	}
	rv, sv := r.view, s.view
	if *crypto.ViewGhostOutputKey(ver.Outputs[1].Keys[0], &sv, &ver.Outputs[1].Mask, 1) != s.spend.Public() ||
		*crypto.ViewGhostOutputKey(ver.Outputs[0].Keys[0], &rv, &ver.Outputs[0].Mask, 0) != r.spend.Public() {
		t.Fatal("change is not the sender's or payment not the recipient's")
	}
}

// TestWrongSignatureRefused: a signature the kernel library verifies, the
// same with one bit changed, and a valid signature of another key, both
// refused.
func TestWrongSignatureRefused(t *testing.T) {
	s := sender(t)
	u, signed := payWith(t, pay("0.42", "x"), vectorInputs(s))
	keys := inputKeys(t, u.Inputs)
	if _, err := VerifySigned(signed, keys); err != nil {
		t.Fatal(err)
	}
	ver, _ := common.UnmarshalVersionedTransaction(signed)
	if !keys[0].Verify(u.Hash, *ver.SignaturesMap[0][0]) {
		t.Fatal("kernel Verify refuses a good signature")
	}
	// One bit of input 1's signature flipped, at the end of the bytes.
	bad := append([]byte(nil), signed...)
	bad[len(bad)-1] ^= 0x01
	if _, err := VerifySigned(bad, keys); err == nil || !strings.Contains(err.Error(), "input 1") {
		t.Fatalf("flipped bit: %v", err)
	}
	// Input 0 signed by input 1's key: swap the keys.
	if _, err := VerifySigned(signed, []crypto.Key{keys[1], keys[0]}); err == nil {
		t.Fatal("signatures verified against the wrong keys")
	}
	// The same signature over another message.
	other := crypto.Blake3Hash([]byte("another transaction"))
	if keys[0].Verify(other, *ver.SignaturesMap[0][0]) {
		t.Fatal("signature verifies another message")
	}
}

// TestSignRefusesWrongKeys: a wrong spend key or another wallet's views
// make signatures the kernel would refuse; Sign says so and returns nothing.
func TestSignRefusesWrongKeys(t *testing.T) {
	s, r := sender(t), recipient(t)
	p := pay("0.42", "")
	sel, _ := SelectOutputs(vectorInputs(s), senderID, btcID, p.Amount, nil, 0)
	u, err := Build(p, sel, ghostsFor(GhostRequests(p, sel), wallets(t)))
	if err != nil {
		t.Fatal(err)
	}
	views := s.views(u.Inputs)
	for name, c := range map[string]struct {
		views []string
		spend *SpendKey
		field string
	}{
		"recipient's spend key": {views, r.spend, FieldViews},
		"recipient's views":     {r.views(u.Inputs), s.spend, FieldViews},
		"views swapped":         {[]string{views[1], views[0]}, s.spend, FieldViews},
		"one view":              {views[:1], s.spend, FieldViews},
		"view not hex":          {[]string{"zz", views[1]}, s.spend, FieldViews},
		"view not a scalar":     {[]string{strings.Repeat("ff", 32), views[1]}, s.spend, FieldViews},
		"no spend key":          {views, nil, FieldSpendPrivateKey},
	} {
		signed, _, err := Sign(u.Raw, u.Inputs, c.views, c.spend)
		var fe *mixin.FieldError
		if signed != nil || !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, _, err := Sign(u.Raw, u.Inputs[:1], views, s.spend); err == nil {
		t.Error("signed with one output for two inputs")
	}
	if _, _, err := Sign(u.Raw, []Output{u.Inputs[1], u.Inputs[0]}, views, s.spend); err == nil {
		t.Error("signed with the outputs in another order")
	}
	signed, _, _ := Sign(u.Raw, u.Inputs, views, s.spend)
	if _, _, err := Sign(signed, u.Inputs, views, s.spend); err == nil {
		t.Error("signed twice")
	}
	if _, _, err := Sign([]byte("not a transaction"), u.Inputs, views, s.spend); err == nil {
		t.Error("signed garbage")
	}
}

func TestBuildRefusesBadPayments(t *testing.T) {
	s := sender(t)
	ins := vectorInputs(s)
	okSel := func(amount string) *Selection {
		sel, err := SelectOutputs(ins, senderID, btcID, amount, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		return sel
	}
	good := pay("0.42", "")
	ghosts := ghostsFor(GhostRequests(good, okSel("0.42")), wallets(t))
	cases := []struct {
		name   string
		p      Payment
		sel    *Selection
		ghosts []GhostKeys
		field  string
	}{
		{"memo over 256 bytes", pay("0.42", strings.Repeat("€", 90)), okSel("0.42"), ghosts, mixin.FieldMemo},
		{"memo with a control character", pay("0.42", "a\x00b"), okSel("0.42"), ghosts, mixin.FieldMemo},
		{"amount with 9 decimals", pay("0.420000001", ""), okSel("0.42"), ghosts, mixin.FieldAmount},
		{"negative amount", pay("-0.42", ""), okSel("0.42"), ghosts, mixin.FieldAmount},
		{"bad trace", Payment{RequestID: "x", AssetID: btcID, Sender: senderID, Recipient: recipientID, Amount: "1"}, okSel("0.42"), ghosts, mixin.FieldTrace},
		{"to itself", Payment{RequestID: goldenTrace, AssetID: btcID, Sender: senderID, Recipient: senderID, Amount: "0.42"}, okSel("0.42"), ghosts, mixin.FieldRecipient},
		{"no outputs", good, &Selection{}, ghosts, FieldOutputs},
		{"change that does not add up", good, &Selection{Inputs: ins, Total: "0.55", Change: "0.1"}, ghosts, FieldOutputs},
		{"output twice", good, &Selection{Inputs: []Output{ins[0], ins[0]}, Change: "0.18"}, ghosts, FieldOutputs},
		{"one ghost for two outputs", good, okSel("0.42"), ghosts[:1], FieldGhostKeys},
		{"ghost mask not a point", good, okSel("0.42"), []GhostKeys{{Mask: notPoint, Keys: ghosts[0].Keys}, ghosts[1]}, FieldGhostKeys},
		{"ghost with two keys", good, okSel("0.42"), []GhostKeys{{Mask: ghosts[0].Mask, Keys: append(ghosts[0].Keys, ghosts[1].Keys...)}, ghosts[1]}, FieldGhostKeys},
		{"same ghost key twice", good, okSel("0.42"), []GhostKeys{ghosts[0], ghosts[0]}, FieldGhostKeys},
	}
	for _, c := range cases {
		u, err := Build(c.p, c.sel, c.ghosts)
		var fe *mixin.FieldError
		if u != nil || !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// 256 bytes exactly is accepted: 85 × "€" (3 bytes) + "a".
	memo := strings.Repeat("€", 85) + "a"
	if len(memo) != 256 {
		t.Fatal(len(memo))
	}
	if _, err := Build(pay("0.42", memo), okSel("0.42"), ghosts); err != nil {
		t.Fatal(err)
	}
	// Selection short of the amount.
	if _, err := Build(pay("0.42", ""), &Selection{Inputs: ins[:1], Change: "0"}, ghosts[:1]); !errors.As(err, new(*InsufficientError)) {
		t.Fatalf("short selection: %v", err)
	}
}

func TestSelectOutputs(t *testing.T) {
	s := sender(t)
	ins := manyInputs(s, 6, "1") // sequences 1..6
	ins[0].Sequence, ins[5].Sequence = 6, 1
	signed := s.output("signed", 0, "50", fixedKey(1), 0, btcID)
	signed.State = StateSigned
	insc := s.output("insc", 0, "50", fixedKey(2), 0, btcID)
	insc.InscriptionHash = "ab"
	eth := s.output("eth", 0, "50", fixedKey(3), 0, "43d61dcd-e413-450d-80b8-101d5e903357")
	theirs := recipient(t).output("theirs", 0, "50", fixedKey(4), 0, btcID)
	all := append(append([]Output{}, ins...), signed, insc, eth, theirs, ins[1]) // ins[1] twice

	sel, err := SelectOutputs(all, senderID, btcID, "2.5", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := refs(sel.Inputs); got != "5 1 2" || sel.Total != "3" || sel.Change != "0.5" {
		t.Fatalf("oldest first: %s total %s change %s", got, sel.Total, sel.Change)
	}
	held := map[string]bool{ins[1].Ref(): true}
	sel, err = SelectOutputs(all, senderID, btcID, "2.5", held, 0)
	if err != nil || refs(sel.Inputs) != "5 2 3" {
		t.Fatalf("held output chosen: %v %v", err, sel)
	}
	_, err = SelectOutputs(all, senderID, btcID, "5.5", held, 0)
	var ie *InsufficientError
	if !errors.As(err, &ie) || ie.Available != "5" || ie.Held != "1" || ie.Amount != "5.5" {
		t.Fatalf("insufficient: %v", err)
	}
	if !strings.Contains(err.Error(), "1 more held by payouts not yet settled") {
		t.Fatal(err)
	}
	if _, err := SelectOutputs(all, senderID, btcID, "1.5e0", nil, 0); !errors.As(err, new(*mixin.FieldError)) {
		t.Fatalf("bad amount: %v", err)
	}
}

func refs(outs []Output) string {
	var b []string
	for _, o := range outs {
		b = append(b, fmt.Sprint(o.OutputIndex))
	}
	return strings.Join(b, " ")
}

// TestSelectOutputsInputLimit: when the oldest outputs need more than the
// limit the largest are taken; when even they do, the payment is refused.
func TestSelectOutputsInputLimit(t *testing.T) {
	s := sender(t)
	ins := manyInputs(s, 300, "0.01")
	ins = append(ins, s.output("big", 0, "2", fixedKey(9), 1000, btcID))
	sel, err := SelectOutputs(ins, senderID, btcID, "2.5", nil, 0)
	if err != nil || len(sel.Inputs) != 250 || sel.Change != "0" {
		t.Fatalf("oldest 250: %v", err)
	}
	sel, err = SelectOutputs(ins, senderID, btcID, "2.9", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(sel.Inputs) != 91 || sel.Inputs[90].Amount != "2" || sel.Change != "0" {
		t.Fatalf("%d inputs, last %s, change %s", len(sel.Inputs), sel.Inputs[90].Amount, sel.Change)
	}
	_, err = SelectOutputs(ins, senderID, btcID, "4.6", nil, 0)
	var tm *TooManyInputsError
	if !errors.As(err, &tm) || tm.Needed != 261 || tm.Max != 256 {
		t.Fatalf("limit 256: %v", err)
	}
	if _, err = SelectOutputs(ins, senderID, btcID, "2.9", nil, 16); !errors.As(err, &tm) || tm.Max != 16 {
		t.Fatalf("limit 16: %v", err)
	}
	if MaxInputs != 256 {
		t.Fatal("kernel input limit changed")
	}
}
