package sandbox

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/MixinNetwork/mixin/crypto"

	"mixdesk/mixin"
	"mixdesk/safe"
)

func (s *Server) handleMe(c *call) (any, *mixin.Error) {
	u := c.user
	me := safe.User{UserID: u.id, IdentityNumber: u.identity, FullName: u.name, SessionID: u.sessionID, HasSafe: u.registered()}
	if u.registered() {
		me.SpendPublicKey = u.spend.String()
	}
	return me, nil
}

// publicUser is what GET /users/:id shows of a user.
type publicUser struct {
	UserID         string `json:"user_id"`
	IdentityNumber string `json:"identity_number"`
	FullName       string `json:"full_name"`
	HasSafe        bool   `json:"has_safe"`
}

func (s *Server) handleUser(c *call) (any, *mixin.Error) {
	id, ok := canonicalUUID(c.param)
	if !ok {
		return nil, invalid("id", "not a UUID")
	}
	u := s.users[id]
	if u == nil {
		return nil, apiErr(mixin.CodeNotFound, "The endpoint is not found.", "")
	}
	return publicUser{UserID: u.id, IdentityNumber: u.identity, FullName: u.name, HasSafe: u.registered()}, nil
}

// handleSearch is GET /search/:q by identity number (docs/safe-api.md
// §3.4: the messenger call, unchanged): the user with that number (the one
// of lowest id when a test world gave several the same), or 404.
func (s *Server) handleSearch(c *call) (any, *mixin.Error) {
	var found *user
	for _, u := range s.users {
		if u.identity == c.param && (found == nil || u.id < found.id) {
			found = u
		}
	}
	if found == nil {
		return nil, apiErr(mixin.CodeNotFound, "The endpoint is not found.", "")
	}
	return publicUser{UserID: found.id, IdentityNumber: found.identity, FullName: found.name, HasSafe: found.registered()}, nil
}

// handleOutputs lists the caller's outputs (docs/safe-api.md §3.1): members
// must be the caller's own hash and threshold 1; asset a 64-hex kernel id;
// offset an inclusive sequence; limit 1..500.
func (s *Server) handleOutputs(c *call) (any, *mixin.Error) {
	q := c.r.URL.Query()
	if q.Get("members") != safe.MembersHash(c.user.id) {
		return nil, invalid("members", "not the members hash of this user")
	}
	if q.Get("threshold") != "1" {
		return nil, invalid("threshold", "only 1 is served")
	}
	var asset string
	if a := q.Get("asset"); a != "" {
		h, err := crypto.HashFromString(a)
		if err != nil || len(a) != 64 {
			return nil, invalid("asset", "not a kernel asset id")
		}
		asset = s.byKernel[h]
		if asset == "" {
			return []safe.Output{}, nil
		}
	}
	state := q.Get("state")
	switch state {
	case "", safe.StateUnspent, safe.StateSigned, safe.StateSpent:
	default:
		return nil, invalid("state", "unknown state")
	}
	offset, e := intParam(q.Get("offset"), 0, 0, 1<<62, "offset")
	if e != nil {
		return nil, e
	}
	limit, e := intParam(q.Get("limit"), safe.OutputsPageLimit, 1, safe.OutputsPageLimit, "limit")
	if e != nil {
		return nil, e
	}
	order := q.Get("order")
	if order != "" && order != "ASC" && order != "DESC" {
		return nil, invalid("order", "ASC or DESC")
	}
	all := s.sortedOutputsLocked()
	if order == "DESC" {
		slices.Reverse(all)
	}
	page := []safe.Output{}
	for _, o := range all {
		switch {
		case o.Receivers[0] != c.user.id, asset != "" && o.AssetID != asset, state != "" && o.State != state:
			continue
		case offset > 0 && order == "DESC" && o.Sequence > int64(offset):
			continue
		case offset > 0 && order != "DESC" && o.Sequence < int64(offset):
			continue
		}
		page = append(page, o.Output)
		if len(page) == limit {
			break
		}
	}
	return page, nil
}

func intParam(v string, def, lo, hi int, field string) (int, *mixin.Error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, invalid(field, "out of range")
	}
	return n, nil
}

func (s *Server) handleAsset(c *call) (any, *mixin.Error) {
	id, ok := canonicalUUID(c.param)
	if !ok {
		return nil, invalid("id", "not a UUID")
	}
	a := s.assets[id]
	if a == nil {
		return nil, apiErr(mixin.CodeNotFound, "The endpoint is not found.", "")
	}
	return a, nil
}

func (s *Server) handleFetchAssets(c *call) (any, *mixin.Error) {
	var ids []string
	if err := json.Unmarshal(c.body, &ids); err != nil {
		return nil, apiErr(mixin.CodeBadRequest, "The request body can't be parsed as valid data.", "")
	}
	out := []*safe.Asset{}
	for _, id := range ids {
		if a := s.assets[id]; a != nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// handleLookup answers any user's request id once it was submitted; one
// only verified is not found (docs/safe-api.md §6.2, Decision).
func (s *Server) handleLookup(c *call) (any, *mixin.Error) {
	id, ok := canonicalUUID(c.param)
	if !ok {
		return nil, invalid("id", "not a UUID")
	}
	r := s.requests[id]
	if r == nil || r.State == safe.StateUnspent {
		return nil, apiErr(mixin.CodeNotFound, "The endpoint is not found.", "")
	}
	return r.TransactionRequest, nil
}

// handleSnapshots pages the caller's snapshots (docs/safe-api.md §3.3):
// asset and opponent exclusive, offset an inclusive RFC3339Nano time,
// limit 1..500 (default 100), order DESC (default) or ASC.
func (s *Server) handleSnapshots(c *call) (any, *mixin.Error) {
	q := c.r.URL.Query()
	asset, opponent := q.Get("asset"), q.Get("opponent")
	if asset != "" && opponent != "" {
		return nil, invalid("asset", "asset and opponent are exclusive")
	}
	for _, p := range []*string{&asset, &opponent} {
		if *p != "" {
			id, ok := canonicalUUID(*p)
			if !ok {
				return nil, invalid("asset", "not a UUID")
			}
			*p = id
		}
	}
	var offset time.Time
	if v := q.Get("offset"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, invalid("offset", "not an RFC3339Nano time")
		}
		offset = t
	}
	limit, e := intParam(q.Get("limit"), 100, 1, 500, "limit")
	if e != nil {
		return nil, e
	}
	order := q.Get("order")
	if order != "" && order != "ASC" && order != "DESC" {
		return nil, invalid("order", "ASC or DESC")
	}
	list := slices.Clone(s.snapshots)
	if order != "ASC" {
		slices.Reverse(list)
	}
	out := []*safe.Snapshot{}
	for _, sn := range list {
		switch {
		case sn.UserID != c.user.id, asset != "" && sn.AssetID != asset, opponent != "" && sn.OpponentID != opponent:
			continue
		case !offset.IsZero() && order != "ASC" && sn.CreatedAt.After(offset):
			continue
		case !offset.IsZero() && order == "ASC" && sn.CreatedAt.Before(offset):
			continue
		}
		out = append(out, sn)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}
