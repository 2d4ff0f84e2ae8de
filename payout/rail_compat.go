package payout

import (
	"context"

	"mixdesk/payout/legacyrail"
)

// TraceLooker is the legacy client's trace look-up, as Requests.Check takes
// it; *mixin.Client is one. Kept for the console until it checks requests
// with the desk's rail (CheckOn).
type TraceLooker = legacyrail.TraceClient

// Check is CheckOn with the legacy client's look-up. Kept for the console
// until it checks requests with the desk's rail.
func (b *Requests) Check(ctx context.Context, api TraceLooker, trace string) (Request, error) {
	if api == nil {
		return b.CheckOn(ctx, nil, trace)
	}
	return b.CheckOn(ctx, legacyrail.NewLooker(api), trace)
}
