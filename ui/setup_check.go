package ui

import (
	"errors"
	"strings"

	"mixdesk/account"
	"mixdesk/keystore"
)

// The setup form's checks before anything is sent: every field at once.

// check validates the form locally and puts each error under its field:
// every field at once, so that one submit shows all that is wrong. The key
// and the PIN token are checked in the command (keyErrors).
func (s *setupScreen) check() bool {
	s.errs = [sfCount]string{}
	s.formErr = ""
	if err := keystore.ValidateName(strings.TrimSpace(s.value(sfName))); err != nil {
		s.errs[sfName] = errReason(err)
	}
	switch {
	case s.pasted.Safe:
		// The keystore's fields are checked in submit, as a key is.
	case s.safeByFields():
		for _, f := range []sField{sfClient, sfSession, sfKey, sfToken} {
			if strings.TrimSpace(s.value(f)) == "" {
				s.errs[f] = "empty (a Safe session needs it)"
			}
		}
		s.checkIDs()
	default:
		p := s.profile()
		if err := account.CheckPIN(p.PIN); err != nil {
			s.errs[sfPIN] = errReason(err)
		} else if s.value(sfPIN2) != p.PIN {
			s.errs[sfPIN2] = "the two PINs differ"
		}
		for f, v := range map[sField]string{sfClient: p.ClientID, sfSession: p.SessionID, sfKey: p.PrivateKey, sfToken: p.PINToken} {
			if strings.TrimSpace(v) == "" {
				s.errs[f] = "empty"
			}
		}
		s.checkIDs()
	}
	for _, e := range s.errs {
		if e != "" {
			return false
		}
	}
	return true
}

// checkIDs checks the form of the client and session ids typed.
func (s *setupScreen) checkIDs() {
	for f, name := range map[sField]string{sfClient: account.FieldClientID, sfSession: account.FieldSessionID} {
		if strings.TrimSpace(s.value(f)) == "" {
			continue
		}
		if _, err := account.ParseID(name, s.value(f)); err != nil {
			s.errs[f] = errReason(err)
		}
	}
}

// keyErrors checks a legacy session's private key and, when the key and
// the session id are good, its PIN token (which must open with them): it
// runs in a command (an RSA key takes milliseconds) and sends nothing. The
// client id given is a stand-in: its form is checked on its own.
func keyErrors(p keystore.Profile, sessionOK bool) map[sField]string {
	if strings.TrimSpace(p.PrivateKey) == "" {
		return nil
	}
	probe := keystore.Profile{Credentials: p.Credentials}
	probe.ClientID, probe.PIN = standInID, ""
	if !sessionOK {
		probe.SessionID = standInID
	}
	var fe *account.FieldError
	if err := probe.Validate(); errors.As(err, &fe) {
		switch {
		case fe.Field == account.FieldPrivateKey:
			return map[sField]string{sfKey: fe.Reason}
		case fe.Field == account.FieldPINToken && sessionOK:
			return map[sField]string{sfToken: fe.Reason}
		}
	}
	return nil
}
