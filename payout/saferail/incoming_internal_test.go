package saferail

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/MixinNetwork/mixin/common"
	"github.com/MixinNetwork/mixin/crypto"

	"mixdesk/payout/rail"
	"mixdesk/safe"
)

// TestReceivedNeedsThresholdOneInTheRawOutput: what reached this wallet is
// read from the hash-checked raw transaction, not from the answer's word
// alone: an output with a threshold of 0 (anyone may spend it) or of 2
// pays this wallet nothing, even when the answer lists this wallet as its
// only receiver with threshold 1.
func TestReceivedNeedsThresholdOneInTheRawOutput(t *testing.T) {
	const self = "0e3b0233-b29c-4d45-b73b-393d6bf323cc"
	const asset = "4d8c508b-91c5-375b-92b0-ee702ed2dac5"
	r := &Rail{self: self}
	request := func(threshold uint8) *safe.TransactionRequest {
		seed := make([]byte, 64)
		key := crypto.NewKeyFromSeed(seed).Public()
		tx := common.NewTransactionV5(safe.KernelAssetID(asset))
		tx.AddInput(crypto.Blake3Hash([]byte("an earlier transaction")), 0)
		tx.Outputs = []*common.Output{{Type: common.OutputTypeScript, Amount: common.NewIntegerFromString("12.5"),
			Keys: []*crypto.Key{&key}, Script: common.NewThresholdScript(threshold)}}
		tx.Extra = []byte("invoice 7")
		ver := tx.AsVersioned()
		return &safe.TransactionRequest{RequestID: "d3d0e29e-efa6-44af-845b-7ff1f740ea7b", State: safe.StateSpent,
			TransactionHash: ver.PayloadHash().String(), AssetID: asset, RawTransaction: hex.EncodeToString(ver.Marshal()),
			UserID: "3a01b1fc-865b-41ed-91c4-c338133d9755", Receivers: []safe.Receiver{{Members: []string{self}, Threshold: 1}}}
	}
	m, err := r.received(request(1))
	if err != nil || m.Amount != "12.5" {
		t.Fatalf("threshold 1: %+v, %v; want 12.5 received", m, err)
	}
	for _, th := range []uint8{0, 2} {
		if m, err := r.received(request(th)); !errors.Is(err, rail.ErrNotOurs) {
			t.Errorf("threshold %d in the raw output: %+v, %v; want nothing received (not ours)", th, m, err)
		}
	}
}
