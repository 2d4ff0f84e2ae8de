package safe

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/MixinNetwork/mixin/crypto"
)

// The fixed world of ../shared/safe-vectors: synthetic keys, none holds money.
const (
	senderID    = "00000000-0000-4000-8000-000000000001"
	recipientID = "00000000-0000-4000-8000-000000000002"
	sessionID   = "00000000-0000-4000-8000-0000000000a1"
	btcID       = "c6d0c728-2624-429b-8e0d-d9d19b6592fa"
	xinID       = "c94ac88f-4671-3976-b60a-09064f1811e8"
	vectorTrace = "5f2f0c3e-6a1b-4c9d-8e7f-0123456789ab"

	senderSpendHex    = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	recipientSpendHex = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	sessionSeedHex    = "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
)

// fixedKey is a kernel scalar from 64 copies of one byte, as the vectors
// stand in for the Sequencer's view keys and the random r of ghost keys.
func fixedKey(b byte) crypto.Key { return crypto.NewKeyFromSeed(bytes.Repeat([]byte{b}, 64)) }

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wallet is a Safe user as the Sequencer knows it: spend key (the user's)
// and view key (the Sequencer's).
type wallet struct {
	id    string
	spend *SpendKey
	view  crypto.Key
}

func newWallet(t testing.TB, id, spendHex string, viewByte byte) wallet {
	return wallet{id: id, spend: NewSpendKey(mustHex(t, spendHex)), view: fixedKey(viewByte)}
}

func sender(t testing.TB) wallet    { return newWallet(t, senderID, senderSpendHex, 0x0a) }
func recipient(t testing.TB) wallet { return newWallet(t, recipientID, recipientSpendHex, 0x0b) }

// ghost is what POST /safe/keys answers for this wallet at output index,
// with the one-time secret r.
func (w wallet) ghost(r crypto.Key, index uint64) GhostKeys {
	A, B := w.view.Public(), w.spend.Public()
	k := crypto.DeriveGhostPublicKey(&r, &A, &B, index)
	return GhostKeys{Type: "ghost_key", Mask: r.Public().String(), Keys: []string{k.String()}}
}

// output is an unspent output of the wallet created at index of the
// transaction whose hash is Blake3(label), with secret r.
func (w wallet) output(label string, index uint, amount string, r crypto.Key, seq int64, asset string) Output {
	g := w.ghost(r, uint64(index))
	return Output{
		OutputID:           UniqueObjectID(label, fmt.Sprint(index)),
		TransactionHash:    crypto.Blake3Hash([]byte(label)).String(),
		OutputIndex:        index,
		AssetID:            asset,
		KernelAssetID:      KernelAssetID(asset).String(),
		Amount:             amount,
		Mask:               g.Mask,
		Keys:               g.Keys,
		Receivers:          []string{w.id},
		ReceiversHash:      MembersHash(w.id),
		ReceiversThreshold: 1,
		State:              StateUnspent,
		Sequence:           seq,
	}
}

// views is what POST /safe/transaction/requests answers the wallet for
// these inputs: Hs(mask·a, index) per input.
func (w wallet) views(ins []Output) []string {
	out := make([]string, len(ins))
	for i, o := range ins {
		mask, err := crypto.KeyFromString(o.Mask)
		if err != nil {
			panic(err)
		}
		out[i] = hex.EncodeToString(crypto.HashScalar(crypto.KeyMultPubPriv(&mask, &w.view), uint64(o.OutputIndex)).Bytes())
	}
	return out
}

// ghostsFor answers the ghost-key requests of a payment with fixed r
// (0x0d for output 0, 0x0e for output 1, as the vectors do).
func ghostsFor(reqs []GhostKeyRequest, wallets map[string]wallet) []GhostKeys {
	out := make([]GhostKeys, len(reqs))
	for i, r := range reqs {
		out[i] = wallets[r.Receivers[0]].ghost(fixedKey(0x0d+byte(r.Index)), uint64(r.Index))
	}
	return out
}

// vectorInputs are the two inputs of the vectors: 0.3 at index 0 and 0.25
// at index 2.
func vectorInputs(w wallet) []Output {
	return []Output{
		w.output("mixdesk-vector-input-a", 0, "0.3", fixedKey(0x0c), 1, btcID),
		w.output("mixdesk-vector-input-b", 2, "0.25", fixedKey(0x0f), 2, btcID),
	}
}

// scalarOf is the spend key's scalar y (tests only: the package never
// hands it out).
func scalarOf(k *SpendKey) crypto.Key {
	var out crypto.Key
	copy(out[:], k.y.Bytes())
	return out
}
