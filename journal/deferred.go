package journal

import "bytes"

// AppendRailDeferred records a rail's state as AppendRail does, with one
// write and without waiting for the disk: it is in the index at once, and
// becomes durable with the next append by any other method, SyncDeferred or
// Close. Only a state whose loss in a crash is harmless may be appended so:
// one on which nothing that can execute the transfer depends until a later
// state is appended durably (which makes this one durable too, being
// earlier in the file).
func (j *Journal) AppendRailDeferred(s RailState) (Entry, error) {
	if err := validateRail(&s); err != nil {
		return Entry{}, err
	}
	s.Data = bytes.Clone(s.Data)
	es, err := j.appendRecords([]Record{{Kind: KindRail, Rail: &s}}, false)
	if err != nil {
		return Entry{}, err
	}
	return es[0], nil
}
