package mixin

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/google/uuid"
)

// ClientWork is the client's own work for one Transfer without the network
// and the server, for the benchmarks of package mixin_test: validate,
// encrypt the PIN, marshal the body, make the request id and the token,
// decode, clean and check the answer. Without sign, the token's claims and
// request hash are made but not signed.
func ClientWork(s *Session, in TransferInput, pin string, answer []byte, sign bool) (*Snapshot, error) {
	now := time.Now()
	v, err := ValidateTransfer(in)
	if err != nil {
		return nil, err
	}
	enc, err := s.EncryptPIN(pin, now)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(transferBody{AssetID: v.AssetID, OpponentID: v.OpponentID, Amount: v.Amount, PIN: enc, TraceID: v.TraceID, Memo: v.Memo})
	if err != nil {
		return nil, err
	}
	reqID := uuid.NewString()
	if sign {
		if _, err := s.Token("POST", "/transfers", body, reqID, now); err != nil {
			return nil, err
		}
	} else {
		_, _, _ = s.tokenToSign("POST", "/transfers", body, reqID, now)
	}
	resp := &http.Response{StatusCode: 200, Header: http.Header{"X-Request-Id": {reqID}}}
	return decodeAnswer[Snapshot]("POST /transfers", reqID, resp, answer)
}
