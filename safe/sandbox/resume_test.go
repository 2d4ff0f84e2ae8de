package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"mixdesk/mixin"
	"mixdesk/safe"
	"mixdesk/safe/sandbox"
)

// kept rebuilds an unsigned transaction the way recovery does, from what
// the journal holds.
func kept(t *testing.T, u *safe.Unsigned) *safe.Unsigned {
	t.Helper()
	k, err := safe.ParseUnsigned(u.RequestID, u.Raw, u.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestParseUnsigned: the journal's form gives back the same transaction;
// inputs that are not the raw's, and a signed raw, are refused.
func TestParseUnsigned(t *testing.T) {
	w := newWorld(t)
	w.deposit(t, "0.3", "0.4")
	ctx := context.Background()
	u, err := w.desk.Prepare(ctx, pay(trace1, "0.5", "x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if k := kept(t, u); !reflect.DeepEqual(k, u) {
		t.Fatalf("rebuilt %+v\nwant %+v", k, u)
	}
	swapped := []safe.Output{u.Inputs[1], u.Inputs[0]}
	if _, err := safe.ParseUnsigned(u.RequestID, u.Raw, swapped); err == nil {
		t.Fatal("inputs out of order accepted")
	}
	if _, err := safe.ParseUnsigned(u.RequestID, u.Raw, u.Inputs[:1]); err == nil {
		t.Fatal("too few inputs accepted")
	}
	if _, err := safe.ParseUnsigned("nope", u.Raw, u.Inputs); err == nil {
		t.Fatal("bad request id accepted")
	}
	signed, err := w.desk.VerifyAndSign(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := safe.ParseUnsigned(u.RequestID, signed, u.Inputs); err == nil {
		t.Fatal("a signed raw accepted as unsigned")
	}
}

// TestResume walks every branch of Resume against the sandbox.
func TestResume(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*world, *safe.Unsigned) {
		w := newWorld(t)
		w.deposit(t, "1", "1")
		u, err := w.desk.Prepare(ctx, pay(uuid.NewString(), "1.5", "resume"), nil)
		if err != nil {
			t.Fatal(err)
		}
		return w, kept(t, u)
	}
	keeper := func(into *[]byte, err error) func([]byte) error {
		return func(b []byte) error {
			*into = bytes.Clone(b)
			return err
		}
	}

	t.Run("never verified: verified, kept, submitted", func(t *testing.T) {
		w, u := setup(t)
		var journal []byte
		out, r, err := w.desk.Resume(ctx, safe.Stored{Unsigned: u}, keeper(&journal, nil))
		if err != nil || out != safe.Final || r.TransactionHash != u.Hash.String() || journal == nil {
			t.Fatalf("%v %v %+v kept %d bytes", out, err, r, len(journal))
		}
		if balance(t, w.desk) != "0.5" {
			t.Fatal("not paid once")
		}
		// Again: already final, nothing kept or sent.
		journal = nil
		if out, _, err := w.desk.Resume(ctx, safe.Stored{Unsigned: u}, keeper(&journal, nil)); err != nil || out != safe.Final || journal != nil {
			t.Fatalf("second resume: %v %v", out, err)
		}
		if balance(t, w.desk) != "0.5" {
			t.Fatal("paid twice")
		}
	})
	t.Run("verified, crash before the signed bytes were kept", func(t *testing.T) {
		w, u := setup(t)
		first, err := w.desk.VerifyAndSign(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		var journal []byte
		if out, _, err := w.desk.Resume(ctx, safe.Stored{Unsigned: u}, keeper(&journal, nil)); err != nil || out != safe.Final {
			t.Fatalf("%v %v", out, err)
		}
		if !bytes.Equal(journal, first) {
			t.Fatal("signing again gave other bytes")
		}
	})
	t.Run("signed and kept: the same bytes sent again", func(t *testing.T) {
		w, u := setup(t)
		signed, err := w.desk.VerifyAndSign(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		out, r, err := w.desk.Resume(ctx, safe.Stored{Unsigned: u, Signed: signed}, func([]byte) error {
			t.Fatal("keep called with signed bytes stored")
			return nil
		})
		if err != nil || out != safe.Final || r.RawTransaction == "" {
			t.Fatalf("%v %v", out, err)
		}
	})
	t.Run("keep fails: nothing submitted", func(t *testing.T) {
		w, u := setup(t)
		var journal []byte
		disk := errors.New("disk full")
		if out, _, err := w.desk.Resume(ctx, safe.Stored{Unsigned: u}, keeper(&journal, disk)); !errors.Is(err, disk) || out != safe.NotSubmitted {
			t.Fatalf("%v %v", out, err)
		}
		if out, _, _ := w.desk.Settle(ctx, u.RequestID, u.Hash); out != safe.NotSubmitted || balance(t, w.desk) != "2" {
			t.Fatal("submitted although the signed bytes were not kept")
		}
	})
	t.Run("signed bytes of another transaction", func(t *testing.T) {
		w, u := setup(t)
		other, err := w.desk.Prepare(ctx, pay(uuid.NewString(), "0.1", ""), nil)
		if err != nil {
			t.Fatal(err)
		}
		otherSigned, err := w.desk.VerifyAndSign(ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.desk.Resume(ctx, safe.Stored{Unsigned: u, Signed: otherSigned}, nil); !errors.Is(err, safe.ErrSignedMismatch) {
			t.Fatalf("mismatch: %v", err)
		}
		if balance(t, w.desk) != "2" {
			t.Fatal("sent")
		}
	})
	t.Run("the id holds another transaction", func(t *testing.T) {
		w, u := setup(t)
		p := pay(u.RequestID, "0.7", "")
		send(t, w.desk, p)
		if out, r, err := w.desk.Resume(ctx, safe.Stored{Unsigned: u}, nil); err != nil || out != safe.Taken || r == nil {
			t.Fatalf("%v %v", out, err)
		}
	})
	t.Run("look-up fails: unknown, nothing sent", func(t *testing.T) {
		w, u := setup(t)
		for range 3 {
			w.srv.InjectFault("GET", "/safe/transactions/", faultServerError())
		}
		if out, _, err := w.desk.Resume(ctx, safe.Stored{Unsigned: u}, nil); out != 0 || !mixin.IsServerOrTransport(err) {
			t.Fatalf("%v %v", out, err)
		}
		if len(w.srv.Requests()) != 0 {
			t.Fatal("verified although the look-up failed")
		}
	})
}

func faultServerError() sandbox.Fault { return sandbox.Fault{Kind: sandbox.FaultServerError} }
