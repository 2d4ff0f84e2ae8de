// Package journal is the write-ahead journal of one profile's payouts: an
// append-only file of JSON records, one per line, that says what was about
// to be paid before it was posted, and what came of it. Each line is chained
// to the one before by its hash, so that a record edited, inserted or
// deleted after the fact is found.
//
// The journal knows nothing of reviews, batches, payment rails or HTTP. Its
// callers append records and ask questions (Lookup, InDoubt, Since,
// HasPaid); what a record means for money, and what to do about a transfer
// in doubt, is theirs to decide.
//
// # Records
//
// An intent is appended, and is on disk, before a transfer is posted. It is
// followed by done (the id of the executed transfer) or failed (the payment
// system's refusal), or by nothing: the transfer is then in doubt and is
// settled by a look-up of its trace, after which done (Via "recovery") is
// appended. A post record says that a transfer in doubt is about to be
// posted again with its trace. A rail record keeps a payment rail's own
// state of a transfer in doubt (a stage name and opaque data, such as the
// transaction a rail built before it asks for it to be verified, or the
// signed transaction before it is submitted), made durable before the rail
// goes on (or, for a state whose loss in a crash is harmless, written
// without waiting for the disk: AppendRailDeferred); the journal hands the
// states of an entry in doubt back (Entry.Rail) and never reads them. The
// journal enforces the order: one intent per trace, an outcome, a post or a
// rail record only after an intent, never two contradicting outcomes, no
// post or rail record after an outcome.
//
// # Format
//
// One JSON object per line (UTF-8, "\n" line ends), fields in this order,
// optional ones left out when empty; times are RFC 3339 UTC with
// nanoseconds, money is a plain decimal string:
//
//	{"seq":1,"prev":"00…00","kind":"intent","time":"…","trace_id":"…",
//	 "asset_id":"…","recipient_id":"…","amount":"10.5","memo":"…",
//	 "hash":"…","operator":"…","host":"…","batch_id":"…","row_key":"…"}
//	{"seq":2,"prev":"…","kind":"post","time":"…","trace_id":"…"}
//	{"seq":3,"prev":"…","kind":"done","time":"…","trace_id":"…",
//	 "snapshot_id":"…","closing_balance":"89.5","via":"send"}
//	{"seq":4,"prev":"…","kind":"failed","time":"…","trace_id":"…",
//	 "code":20117,"description":"…"}
//	{"seq":5,"prev":"…","kind":"rail","time":"…","trace_id":"…",
//	 "stage":"signed","data":"<standard base64, padded>"}
//
// (each record is on one line; an intent's hash is ContentHash of what it
// moves; a rail record's stage is 1 to 32 bytes of a-z, 0-9 and '-', its
// data 1 to MaxRailData bytes). The reader is strict: known fields only, each at most once, of the
// right JSON type, so a line it accepts is one the journal could have
// written. The file is DATA/journal-PROFILE.jsonl (Path), mode 0600, in a
// directory of mode 0700.
//
// # Chain
//
// Each line carries seq (1, 2, 3, ...) and prev, the hex SHA-256 of the exact
// bytes of the previous line without its newline (64 zeros for the first
// line). Open re-hashes every line, so an edited, inserted, reordered or
// deleted record is found and reported with its line number (Report);
// nothing is repaired. A journal with a problem can still be read, but
// appends are refused (ErrBroken). The one repair made is cutting off a torn
// last line (see Report.TornTail), because such a line was never
// acknowledged. The chain cannot show records cut off the end of the file,
// nor an edit of the last line (beyond what an intent's content hash shows);
// Report.HeadSeq and Report.HeadHash allow a caller to check for that
// against a copy kept elsewhere. The chain detects accidents and careless
// edits, not a forger who rewrites every hash after his change. VerifyFile
// and CheckFile verify a journal read-only, without its lock.
//
// # Durability and locking
//
// Every append writes its whole line and fsyncs the file before it returns;
// an append that fails to reach the disk is taken back where possible and the
// journal refuses further appends (ErrWrite) until it is opened again and
// verified. While open, the file is held under an exclusive advisory lock
// (flock, or LockFileEx on Windows; Open refuses where neither exists), so a
// second Open of the same file, in this process or another, is refused
// (ErrInUse). The journal is never opened through a link.
//
// AppendIntents makes several intents durable with one write and one fsync.
// AppendDonesDeferred appends done outcomes without waiting for the disk;
// they become durable with the next fsync (the next durable append,
// SyncDeferred or Close). A done record lost in a crash leaves its intent in
// doubt, to be settled by a trace look-up like any other; intents, posts,
// failures and rail records are never deferred. Head may count deferred
// records until they are synced.
//
// # Concurrency
//
// A Journal is safe for concurrent use. Appends are serialised; queries read
// an in-memory index kept up to date on every append, never the file, and
// do not wait for an fsync in progress.
//
// # What it guarantees
//
//   - When an append of an intent returns without error, the intent is on
//     disk: a transfer posted after it can always be found again by its
//     trace.
//   - A trace has at most one intent and at most one outcome; a repeat of
//     the recorded outcome changes nothing, a contradicting one is refused.
//   - Every complete line is verified on Open; a journal that fails is
//     reported line by line, never changed, and takes no new record.
//   - The journal holds no secrets: no PIN, key or token is ever written.
package journal
