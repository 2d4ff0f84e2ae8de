package safe

import (
	"errors"
	"slices"
	"testing"

	"github.com/MixinNetwork/mixin/common"

	"mixdesk/mixin"
)

// applyMerge stands for a merge made: the inputs of sel leave outs and one
// output of amount comes back, the newest.
func applyMerge(t *testing.T, outs []Output, sel *Selection, amount string, seq int64) []Output {
	t.Helper()
	var rest []Output
	for _, o := range outs {
		if !slices.ContainsFunc(sel.Inputs, func(in Output) bool { return in.Ref() == o.Ref() }) {
			rest = append(rest, o)
		}
	}
	return append(rest, sender(t).output("merged", uint(seq%1000), amount, fixedKey(byte(seq)), seq, btcID))
}

// TestPlanMerges: 600 outputs of 0.01 cannot pay 6 in one transaction (600
// inputs, 256 at most: kernel common/transaction.go SliceCountLimit); two
// merges of the 256 largest, the second spending the first, leave 90
// outputs, which can. The plan is what SelectMerge and SelectOutputs then
// do.
func TestPlanMerges(t *testing.T) {
	ins := manyInputs(sender(t), 600, "0.01")
	plan, err := PlanMerges(ins, senderID, btcID, []string{"6"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Outputs != 600 || plan.Merged != 511 || plan.First != 0 || !slices.Equal(plan.Merges, []string{"2.56", "5.11"}) {
		t.Fatalf("plan %+v", plan)
	}
	if _, err := SelectOutputs(ins, senderID, btcID, "6", nil, 0); !errors.As(err, new(*TooManyInputsError)) {
		t.Fatalf("6 before the merges: %v", err)
	}
	outs := ins
	for i, amount := range plan.Merges {
		sel, err := SelectMerge(outs, senderID, btcID, amount, nil)
		if err != nil || len(sel.Inputs) != MaxInputs || sel.Change != "0" {
			t.Fatalf("merge %d: %v %+v", i, err, sel)
		}
		outs = applyMerge(t, outs, sel, amount, int64(1000+i))
	}
	sel, err := SelectOutputs(outs, senderID, btcID, "6", nil, 0)
	if err != nil || len(sel.Inputs) != 90 || sel.Change != "0" {
		t.Fatalf("6 after the merges: %v", err)
	}
	if again, err := PlanMerges(outs, senderID, btcID, []string{"6"}, nil); err != nil || len(again.Merges) != 0 || again.First != -1 {
		t.Fatalf("plan after the merges: %+v %v", again, err)
	}

	for _, c := range []struct {
		name    string
		amounts []string
		held    int // the oldest outputs held
		merges  []string
		first   int
	}{
		{"payments the oldest outputs cover", []string{"1", "2.55", "1"}, 0, nil, -1},
		{"the second payment needs them", []string{"0.5", "5.5"}, 0, []string{"2.56", "5.11"}, 1},
		{"one merge is enough", []string{"3"}, 0, []string{"2.56"}, 0},
		{"held outputs are not merged", []string{"4"}, 100, []string{"2.56"}, 0},
		{"a payment not covered at all ends the plan", []string{"0.1", "7", "6"}, 0, nil, -1},
		{"no payment", nil, 0, nil, -1},
	} {
		held := map[string]bool{}
		for _, o := range ins[:c.held] {
			held[o.Ref()] = true
		}
		plan, err := PlanMerges(ins, senderID, btcID, c.amounts, held)
		if err != nil || !slices.Equal(plan.Merges, c.merges) || plan.First != c.first || plan.Outputs != 600-c.held {
			t.Errorf("%s: %+v %v", c.name, plan, err)
		}
	}
	if few, err := PlanMerges(ins[:256], senderID, btcID, []string{"2.56"}, nil); err != nil || len(few.Merges) != 0 {
		t.Fatalf("256 outputs: %+v %v", few, err)
	}
	if _, err := PlanMerges(ins, senderID, btcID, []string{"1", "-1"}, nil); !errors.As(err, new(*mixin.FieldError)) {
		t.Fatalf("a bad amount: %v", err)
	}
}

// TestSelectMerge: the largest outputs first, never a held one, at most
// MaxInputs; a merge pays the wallet itself and a payment never does.
func TestSelectMerge(t *testing.T) {
	s := sender(t)
	ins := append(manyInputs(s, 300, "0.01"), s.output("big", 0, "2", fixedKey(9), 1000, btcID))
	sel, err := SelectMerge(ins, senderID, btcID, "2.05", map[string]bool{ins[299].Ref(): true})
	if err != nil || len(sel.Inputs) != 6 || sel.Inputs[5].Amount != "2" || sel.Inputs[0].Ref() != ins[0].Ref() || sel.Change != "0" {
		t.Fatalf("largest first: %v %+v", err, sel)
	}
	if _, err := SelectMerge(ins, senderID, btcID, "4.6", nil); !errors.As(err, new(*TooManyInputsError)) {
		t.Fatalf("more than 256: %v", err)
	}
	if _, err := SelectMerge(ins, senderID, btcID, "5.1", nil); !errors.As(err, new(*InsufficientError)) {
		t.Fatalf("more than there is: %v", err)
	}

	m := Payment{RequestID: goldenTrace, AssetID: btcID, Sender: senderID, Recipient: senderID, Amount: "2.05", Memo: "merge"}
	if _, err := m.Check(); fieldName(err) != mixin.FieldRecipient {
		t.Fatalf("a payment to the wallet itself: %v", err)
	}
	if _, err := pay("1", "").CheckMerge(); fieldName(err) != mixin.FieldRecipient {
		t.Fatalf("a merge to someone else: %v", err)
	}
	sel, err = SelectMerge(ins, senderID, btcID, "2.055", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := BuildMerge(m, sel, ghostsFor(GhostRequests(m, sel), wallets(t))); err == nil {
		t.Fatal("a merge built with the wrong amount")
	}
	m.Amount = "2.055"
	u, err := BuildMerge(m, sel, ghostsFor(GhostRequests(m, sel), wallets(t)))
	if err != nil {
		t.Fatal(err)
	}
	signed, _, err := Sign(u.Raw, u.Inputs, s.views(u.Inputs), s.spend)
	if err != nil {
		t.Fatal(err)
	}
	ver, err := VerifySigned(signed, inputKeys(t, u.Inputs))
	if err != nil || len(ver.Inputs) != 7 || len(ver.Outputs) != 2 || ver.Outputs[0].Amount.Cmp(common.NewIntegerFromString("2.055")) != 0 || u.Change != "0.005" {
		t.Fatalf("merge: %v, %d inputs, %d outputs", err, len(ver.Inputs), len(ver.Outputs))
	}
}

func fieldName(err error) string {
	var fe *mixin.FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}
