package session

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

// TestReplayCodec: a kept form survives the login codec byte for byte.
func TestReplayCodec(t *testing.T) {
	body := append([]byte("제목=%EB%B3%B4&f=\x00\xff"), bytes.Repeat([]byte{0xEC}, 3000)...)
	st := &LoginState{Provider: "kakao", Redirect: "/w", CreatedAt: time.Unix(1767225600, 0),
		Replay: &Replay{URL: "https://app.example/w?p=1", ContentType: "multipart/form-data; boundary=x", Body: body, SessionID: "s"}}
	got, err := decodeLoginState(st.encode())
	if err != nil || got.Replay == nil {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if r := got.Replay; r.URL != st.Replay.URL || r.ContentType != st.Replay.ContentType ||
		!bytes.Equal(r.Body, body) || r.SessionID != "s" {
		t.Errorf("replay round trip: got %+v", r)
	}
}

// TestReplayOnce: a parked form is taken once, only for its URL and only by
// its browser; an armed one only by its session.
func TestReplayOnce(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	mem := NewMemory(MemoryOptions{Now: clk.Now})
	t.Cleanup(func() { mem.Close() })
	m := newLoginManager(t, mem, clk, 0, 0)
	client := netip.MustParseAddr("203.0.113.7")
	rp := &Replay{URL: "https://gate.example/form", ContentType: "application/x-www-form-urlencoded", Body: []byte("a=%ED%95%9C")}

	w := httptest.NewRecorder()
	if err := m.ParkReplay(ctx, m.cookies.Bind(w, requestWith()), client, rp); err != nil {
		t.Fatal(err)
	}
	jar := w.Result().Cookies()
	bind := func(jar []*http.Cookie) (LoginBinding, *httptest.ResponseRecorder) {
		w := httptest.NewRecorder()
		return m.cookies.Bind(w, requestWith(jar...)), w
	}
	b, _ := bind(jar)
	if !m.HasReplay(b, rp.URL, false) || m.HasReplay(b, rp.URL, true) || m.HasReplay(b, rp.URL+"x", false) {
		t.Fatal("HasReplay: want a parked form for its URL only")
	}
	if _, err := m.TakeReplay(ctx, b, rp.URL+"x", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("another URL: %v, want ErrNotFound", err)
	}
	if _, err := m.TakeReplay(ctx, m.cookies.Bind(httptest.NewRecorder(), requestWith()), rp.URL, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("another browser: %v, want ErrNotFound", err)
	}
	got, err := m.TakeReplay(ctx, b, rp.URL, "")
	if err != nil || !bytes.Equal(got.Body, rp.Body) || got.ContentType != rp.ContentType {
		t.Fatalf("take: %+v, %v", got, err)
	}
	if _, err := m.TakeReplay(ctx, b, rp.URL, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("second take: %v, want ErrNotFound", err)
	}

	sid := newToken()
	w = httptest.NewRecorder()
	if err := m.ArmReplay(ctx, m.cookies.Bind(w, requestWith()), client, rp, sid); err != nil {
		t.Fatal(err)
	}
	jar = w.Result().Cookies()
	b, _ = bind(jar)
	if _, err := m.TakeReplay(ctx, b, rp.URL, newToken()); !errors.Is(err, ErrNotFound) {
		t.Errorf("armed, another session: %v, want ErrNotFound", err)
	}
	// That attempt spent it: even its own session finds nothing now.
	b, _ = bind(jar)
	if _, err := m.TakeReplay(ctx, b, rp.URL, sid); !errors.Is(err, ErrNotFound) {
		t.Errorf("armed, after a wrong take: %v, want ErrNotFound", err)
	}
	w = httptest.NewRecorder()
	_ = m.ArmReplay(ctx, m.cookies.Bind(w, requestWith()), client, rp, sid)
	b, _ = bind(w.Result().Cookies())
	if got, err := m.TakeReplay(ctx, b, rp.URL, sid); err != nil || got.SessionID != sid {
		t.Errorf("armed, its session: %+v, %v", got, err)
	}
}

// TestReplayBinding: several steps of one response see each other's login
// cookie (the callback finishes a login, then arms its form).
func TestReplayBinding(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	mem := NewMemory(MemoryOptions{Now: clk.Now})
	t.Cleanup(func() { mem.Close() })
	m := newLoginManager(t, mem, clk, 0, 0)
	client := netip.MustParseAddr("203.0.113.7")
	jar, err := begin(t, m, nil, "state1", client, &LoginState{Provider: "kakao", Redirect: "/f"})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	b := m.cookies.Bind(w, requestWith(jar...))
	if _, err := m.FinishLogin(ctx, b, "kakao", "state1"); err != nil {
		t.Fatal(err)
	}
	if err := m.ArmReplay(ctx, b, client, &Replay{URL: "/f", Body: []byte("a=1")}, newToken()); err != nil {
		t.Fatal(err)
	}
	if n := len(w.Header()["Set-Cookie"]); n != 1 {
		t.Fatalf("%d Set-Cookie lines, want one login cookie", n)
	}
	left := m.cookies.readLogin(requestWith(w.Result().Cookies()...))
	if len(left) != 1 || left[0][:2] != replayArmed {
		t.Errorf("login cookie lists %q, want only the armed form (the finished state gone)", left)
	}
}
