package journal

import "time"

// The journal's queries. They answer from the index kept in memory, never
// from the file, and go on answering after Close.

// Lookup returns the entry of a trace (canonical lowercase UUID).
func (j *Journal) Lookup(trace string) (Entry, bool) {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.idx.lookup(trace)
}

// Entries returns every entry in journal order (the order of the intents).
func (j *Journal) Entries() []Entry {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.idx.all()
}

// Len returns the number of entries (traces with an intent).
func (j *Journal) Len() int {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return len(j.idx.entries)
}

// InDoubt returns the intents without an outcome, in journal order. Each
// must be settled by a trace look-up before any new transfer is sent.
func (j *Journal) InDoubt() []Intent {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.idx.inDoubtIntents()
}

// InDoubtEntries returns the entries without outcome in journal order, with
// their post counts and times.
func (j *Journal) InDoubtEntries() []Entry {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.idx.inDoubtEntries()
}

// Since returns the entries whose intent was recorded at t or later, oldest
// first, whatever their state (for the "same amount to the same recipient
// lately" warning). Its cost grows with the number returned, not with the
// size of the journal.
func (j *Journal) Since(t time.Time) []Entry {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.idx.since(t)
}

// HasPaid reports whether the journal holds a done transfer to recipientID
// (for the "first payout to this recipient" warning). In-doubt intents do
// not count; see InDoubt.
func (j *Journal) HasPaid(recipientID string) bool {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.idx.paid[recipientID] > 0
}

// InDoubtTraces returns the trace of every entry in doubt, in no set
// order: a check made before every post reads the few entries it needs
// with Lookup instead of copying every entry in doubt (InDoubtEntries).
func (j *Journal) InDoubtTraces() []string {
	j.mu.RLock()
	defer j.mu.RUnlock()
	out := make([]string, 0, len(j.idx.inDoubt))
	for t := range j.idx.inDoubt {
		out = append(out, t)
	}
	return out
}
