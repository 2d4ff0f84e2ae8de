package payout

import (
	"path/filepath"
	"testing"
)

// TestBatchReportOfUnsendableBatch: the report of a batch that cannot be
// sent has every row: an invalid row with its whole problem, a row that is
// fine with why it was not sent (its asset's total over the balance or
// the cap, or the invalid rows), so that the file alone says everything
// that stops the batch.
func TestBatchReportOfUnsendableBatch(t *testing.T) {
	r := newRig(t, 61, withConfig(Config{Limits: map[string]AssetLimit{usdtID: {Daily: "100"}}}))
	u := r.users
	dir := t.TempDir()

	// An invalid row, and a BTC total over the balance.
	b := r.mustPrepare(csvOf("recipient,asset,amount",
		u[0].UserID+",USDT,1", "nobody,USDT,1", u[1].UserID+",BTC,3"))
	path, err := WriteBatchReport(filepath.Join(dir, "mixed.csv"), b)
	if err != nil {
		t.Fatal(err)
	}
	rep := readReport(t, path)
	want := [][2]string{
		{"new", "not sent: the batch cannot be sent until the rows marked invalid are fixed"},
		{"invalid", items(b)[1].Problem()},
		{"new", "not sent: the batch cannot be sent: BTC: 3 to pay, but the balance is 2.5"},
	}
	if len(rep) != 4 {
		t.Fatalf("report %q", rep)
	}
	for k, w := range want {
		if rep[k+1][11] != w[0] || rep[k+1][13] != w[1] {
			t.Errorf("report line %d: state %q, error %q; want %q, %q", k+2, rep[k+1][11], rep[k+1][13], w[0], w[1])
		}
	}

	// Only totals stop it: each row says which.
	b = r.mustPrepare(csvOf("recipient,asset,amount",
		u[0].UserID+",USDT,60", u[1].UserID+",USDT,50", u[2].UserID+",BTC,3"))
	path, err = WriteBatchReport(filepath.Join(dir, "totals.csv"), b)
	if err != nil {
		t.Fatal(err)
	}
	rep = readReport(t, path)
	overCap := "not sent: the batch cannot be sent: USDT: 110 to pay, but only 100 is left of the daily cap of 100 (used 0 in the last 24 h, payouts in doubt included)"
	for k, w := range []string{overCap, overCap, "not sent: the batch cannot be sent: BTC: 3 to pay, but the balance is 2.5"} {
		if rep[k+1][11] != "new" || rep[k+1][13] != w {
			t.Errorf("report line %d: %q; want the error %q", k+2, rep[k+1], w)
		}
	}

	// A batch that can be sent reports no reason on its new rows.
	b = r.mustPrepare(csvOf("recipient,asset,amount", u[0].UserID+",USDT,1"))
	path, err = WriteBatchReport(filepath.Join(dir, "fine.csv"), b)
	if err != nil {
		t.Fatal(err)
	}
	if rep = readReport(t, path); rep[1][11] != "new" || rep[1][13] != "" {
		t.Errorf("report of a batch that can be sent: %q", rep[1])
	}
}
