package sandbox

import (
	"sort"
	"strconv"
	"time"

	"mixdesk/mixin"
)

const (
	defaultSnapshotLimit = 100
	maxSnapshotLimit     = 500
)

// publicUser is u as GET /users and GET /search show it.
func (u *user) publicUser() mixin.User {
	return mixin.User{UserID: u.id, IdentityNumber: u.identity, FullName: u.fullName, CreatedAt: u.createdAt}
}

// handleMe is GET /me: the caller with its session and PIN token.
func (s *Server) handleMe(c *call) (any, *mixin.Error) {
	return s.meLocked(c), nil
}

func (s *Server) meLocked(c *call) mixin.User {
	me := c.user.publicUser()
	me.SessionID = c.sess.id
	me.PINTokenBase64 = c.sess.pinToken
	me.HasPIN = c.user.pin != ""
	return me
}

// assetLocked is asset a with userID's balance.
func (s *Server) assetLocked(userID string, a *mixin.Asset) mixin.Asset {
	out := *a
	out.Balance = s.balances[holding{userID, a.AssetID}].String()
	return out
}

// handleAssets is GET /assets: the caller's assets with a balance above zero.
func (s *Server) handleAssets(c *call) (any, *mixin.Error) {
	out := []mixin.Asset{}
	for _, id := range s.assetList {
		if s.balances[holding{c.user.id, id}].IsPositive() {
			out = append(out, s.assetLocked(c.user.id, s.assets[id]))
		}
	}
	return out, nil
}

// handleAsset is GET /assets/:id, also for a zero balance.
func (s *Server) handleAsset(c *call) (any, *mixin.Error) {
	id, _ := canonicalUUID(c.param)
	a := s.assets[id]
	if a == nil {
		return nil, errNotFound("no such asset")
	}
	return s.assetLocked(c.user.id, a), nil
}

// snapshotQuery is the parsed query of GET /snapshots.
type snapshotQuery struct {
	limit     int
	ascending bool
	offset    time.Time // zero: from the newest (DESC) or oldest (ASC)
	asset     string
	opponent  string
}

func parseSnapshotQuery(c *call) (snapshotQuery, *mixin.Error) {
	q := c.r.URL.Query()
	sq := snapshotQuery{limit: defaultSnapshotLimit}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxSnapshotLimit {
			return sq, errInvalidField("limit", "an integer from 1 to 500")
		}
		sq.limit = n
	}
	switch q.Get("order") {
	case "", "DESC":
	case "ASC":
		sq.ascending = true
	default:
		return sq, errInvalidField("order", "ASC or DESC")
	}
	if v := q.Get("offset"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return sq, errInvalidField("offset", "an RFC3339Nano time (escape + as %2B)")
		}
		sq.offset = t
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"asset", &sq.asset}, {"opponent", &sq.opponent}} {
		if v := q.Get(f.name); v != "" {
			id, ok := canonicalUUID(v)
			if !ok {
				return sq, errInvalidField(f.name, "not a UUID")
			}
			*f.dst = id
		}
	}
	return sq, nil
}

// handleSnapshots is GET /snapshots: the caller's snapshots, newest first
// (DESC, the default) from offset down, or oldest first (ASC) from offset
// up. offset is inclusive.
func (s *Server) handleSnapshots(c *call) (any, *mixin.Error) {
	sq, e := parseSnapshotQuery(c)
	if e != nil {
		return nil, e
	}
	mine := s.byUser[c.user.id]
	keep := func(t *transfer) bool {
		if sq.asset != "" && t.assetID != sq.asset {
			return false
		}
		return sq.opponent == "" || t.opponentOf(c.user.id) == sq.opponent
	}
	out := []mixin.Snapshot{}
	if sq.ascending {
		i := 0
		if !sq.offset.IsZero() {
			i = sort.Search(len(mine), func(i int) bool { return !mine[i].createdAt.Before(sq.offset) })
		}
		for ; i < len(mine) && len(out) < sq.limit; i++ {
			if keep(mine[i]) {
				out = append(out, mine[i].viewFor(c.user.id))
			}
		}
		return out, nil
	}
	i := len(mine) - 1
	if !sq.offset.IsZero() {
		i = sort.Search(len(mine), func(i int) bool { return mine[i].createdAt.After(sq.offset) }) - 1
	}
	for ; i >= 0 && len(out) < sq.limit; i-- {
		if keep(mine[i]) {
			out = append(out, mine[i].viewFor(c.user.id))
		}
	}
	return out, nil
}

// handleSnapshot is GET /snapshots/:id: 404 if there is none, 403 if it is
// not the caller's.
func (s *Server) handleSnapshot(c *call) (any, *mixin.Error) {
	id, _ := canonicalUUID(c.param)
	t := s.bySnapshot[id]
	if t == nil {
		return nil, errNotFound("no such snapshot")
	}
	if !t.isParty(c.user.id) {
		return nil, errForbidden("not the caller's snapshot")
	}
	return t.viewFor(c.user.id), nil
}

// handleTrace is GET /transfers/trace/:trace_id: the transfer as the caller,
// sender or recipient, sees it. 404 means not executed.
func (s *Server) handleTrace(c *call) (any, *mixin.Error) {
	id, _ := canonicalUUID(c.param)
	t := s.byTrace[id]
	if t == nil {
		return nil, errNotFound("no transfer with this trace")
	}
	if !t.isParty(c.user.id) {
		return nil, errForbidden("the caller is not a party of this transfer")
	}
	return t.viewFor(c.user.id), nil
}

// handleUser is GET /users/:id.
func (s *Server) handleUser(c *call) (any, *mixin.Error) {
	id, _ := canonicalUUID(c.param)
	u := s.users[id]
	if u == nil {
		return nil, errNotFound("no such user")
	}
	return u.publicUser(), nil
}

// handleSearch is GET /search/:q by identity number. Phone numbers are not
// known to the sandbox.
func (s *Server) handleSearch(c *call) (any, *mixin.Error) {
	u := s.identities[c.param]
	if u == nil {
		return nil, errNotFound("no such user")
	}
	return u.publicUser(), nil
}

// handlePINVerify is POST /pin/verify: checks the PIN (advancing the
// iterator) and answers the caller.
func (s *Server) handlePINVerify(c *call) (any, *mixin.Error) {
	var b struct {
		PIN string `json:"pin"`
	}
	if e := decodeBody(c.body, &b); e != nil {
		return nil, e
	}
	if e := s.checkPINLocked(c, b.PIN); e != nil {
		return nil, e
	}
	return s.meLocked(c), nil
}
