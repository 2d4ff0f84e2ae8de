package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// hostedWorld is a sandbox server of either kind, as the host serves and
// keeps it.
type hostedWorld interface {
	http.Handler
	SaveFile(path string) error
}

// worldHost serves a sandbox on loopback and keeps its world in a file
// (mode 0600, never written through a link), saved after every call that
// may change it and on Close, so that balances and history survive a
// restart. The legacy and the Safe hosts share it.
type worldHost struct {
	world hostedWorld
	url   string
	path  string
	http  *http.Server

	saveMu sync.Mutex
}

// worldPath makes dir and names the world file in it.
func worldPath(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("sandbox: cannot create %s: %w", dir, err)
	}
	return filepath.Join(dir, "world.json"), nil
}

// openWorld loads the world kept in dir (load, then worldOf) or, when there
// is none, makes a fresh one (fresh) and saves it at once; then it serves
// the world on loopback. The legacy and the Safe hosts share it.
func openWorld[S hostedWorld, W any](h *worldHost, dir string, load func(path string) (S, error), worldOf func(S) (W, bool), fresh func() (S, W, error)) (S, W, error) {
	var srv S
	var w W
	path, err := worldPath(dir)
	if err != nil {
		return srv, w, err
	}
	h.path = path
	loaded, err := load(path)
	switch {
	case err == nil:
		var ok bool
		if w, ok = worldOf(loaded); !ok {
			return srv, w, fmt.Errorf("sandbox: %s holds no world; move it away to start a fresh world", path)
		}
		srv = loaded
	case errors.Is(err, os.ErrNotExist):
		if srv, w, err = fresh(); err != nil {
			return srv, w, fmt.Errorf("sandbox: building the world: %w", err)
		}
		h.world = srv
		if err := h.save(); err != nil {
			return srv, w, err
		}
	default:
		return srv, w, fmt.Errorf("sandbox: %s is damaged or cannot be read (%v); move it away to start a fresh world", path, err)
	}
	return srv, w, h.serve(srv)
}

// serve starts serving w on a loopback port.
func (h *worldHost) serve(w hostedWorld) error {
	h.world = w
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("sandbox: cannot listen on loopback: %w", err)
	}
	h.url = "http://" + ln.Addr().String()
	h.http = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go h.http.Serve(ln)
	return nil
}

// ServeHTTP serves the sandbox and saves its state after every call that
// may change it.
func (h *worldHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		defer func() {
			// Saved even when the handler aborts the connection on purpose.
			_ = h.save()
		}()
	}
	h.world.ServeHTTP(w, r)
}

// save writes the world through a fresh randomly named file renamed over
// the world file, which must not be a link.
func (h *worldHost) save() error {
	h.saveMu.Lock()
	defer h.saveMu.Unlock()
	return h.world.SaveFile(h.path)
}

// Close stops serving and saves the world.
func (h *worldHost) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if h.http != nil {
		_ = h.http.Shutdown(ctx)
	}
	return h.save()
}
