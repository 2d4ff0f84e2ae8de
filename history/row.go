package history

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"mixdesk/payout/rail"
)

// State is what a history row stands for.
type State string

// The states of a history row.
const (
	StateDone     State = "done"       // sent by this desk and executed (journal done, or snapshot whose trace is a journal intent)
	StateInDoubt  State = "in-doubt"   // journal intent without outcome
	StateFailed   State = "failed"     // refused by the server (journal failed)
	StateReceived State = "received"   // incoming snapshot (amount > 0)
	StateDeposit  State = "deposit"    // incoming from the asset's chain (rail.Movement.Deposit): no user sent it
	StateOther    State = "other-tool" // outgoing snapshot with no journal entry: sent by another tool
)

// Row is one line of the history: a snapshot of the account, joined with
// the journal entry of its trace when there is one, or a journal entry that
// has no snapshot (a payout in doubt, or one the server refused).
type Row struct {
	SnapshotID string // "" for journal-only rows (in doubt, failed)
	TraceID    string
	AssetID    string
	Amount     decimal.Decimal // signed: negative = out, positive = in
	OpponentID string
	Memo       string
	Time       time.Time // snapshot created_at, or the journal intent time (UTC)
	State      State
	Closing    string // closing balance when known
	Code       int    // failed rows: the Mixin error code
	Reason     string // failed rows: the description; in-doubt rows: ""
	Operator   string // journal rows: who confirmed (login@host)

	// TxHash is the network transaction's hash in lower case, when the
	// rail tells it (the Safe rail does); "" otherwise.
	TxHash string
	// Deposit is set on a deposit (StateDeposit): its chain transaction
	// and the address it came from.
	Deposit *Deposit
}

// Outgoing reports whether the row moved money out of the account.
func (r Row) Outgoing() bool { return r.Amount.IsNegative() }

// JournalOnly reports whether the row is a journal entry without a snapshot
// (in doubt or failed).
func (r Row) JournalOnly() bool { return r.SnapshotID == "" }

// Deposit is what a deposit row says of the deposit, as the rail told it
// (rail.Deposit).
type Deposit struct {
	Hash   string // the chain's transaction
	Sender string // the chain address it came from; "" when not told

	lower string // Hash in lower case, for the search
}

// newDeposit is a row's copy of a rail's deposit.
func newDeposit(d *rail.Deposit) *Deposit {
	return &Deposit{Hash: d.Hash, Sender: d.Sender, lower: strings.ToLower(d.Hash)}
}
