package apicore

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// BaseURL checks the API address a client is made for and returns it
// without a trailing "/": http or https with a host (plain http only on
// this machine), optionally a path prefix, no query or fragment. The
// error's text is the reason, for the client's field error; example is an
// address to show.
func BaseURL(raw, example string) (string, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(raw), "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", errors.New("need http(s)://host, e.g. " + example)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return "", errors.New("plain http is allowed only for a sandbox on this machine (localhost, 127.0.0.1, ::1); use https")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("must not carry a query or fragment")
	}
	return u.String(), nil
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NoRedirects is a copy of h (of a new client when h is nil) that stops at
// the first redirect: the answer with the redirect is handed back as it
// is, and Decode turns it into an error. No request is ever sent to the
// address it names, so neither the token nor a PIN block goes there. h
// itself is not changed.
func NoRedirects(h *http.Client) *http.Client {
	if h == nil {
		h = &http.Client{}
	}
	own := *h
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &own
}
