package proxy_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/websocket"

	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/proxy"
)

// TestBackchannelLogoutClosesWebSocket: a WebSocket opened on replica b
// closes within 2 s when the issuer's back-channel logout for its user
// reaches replica a; nothing is checked per frame, the message travels
// over the Redis invalidation channel.
func TestBackchannelLogoutClosesWebSocket(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	app := httptest.NewServer(websocket.Handler(func(c *websocket.Conn) {
		_ = websocket.Message.Send(c, c.Request().Header.Get("X-Forwarded-User"))
		var msg string
		for websocket.Message.Receive(c, &msg) == nil {
			_ = websocket.Message.Send(c, msg)
		}
	}))
	t.Cleanup(app.Close)
	wsURL, _ := url.Parse(app.URL)
	rs := newReplicas(t, withCorp, func(c *gatewayConfig) {
		c.routes = func(upstream string) []proxy.Route {
			up, _ := url.Parse(upstream)
			return []proxy.Route{{Name: "app", Path: "/", URL: up}, {Name: "ws", Path: "/ws/", URL: wsURL}}
		}
	})
	fake := rs.a.fakes["corp"]
	user := providertest.DefaultUsers(providertest.OIDC)[0]
	b := newBrowser(t)
	rs.login(t, b, "corp", user.ID, "/app/")
	cfg, err := websocket.NewConfig(strings.Replace(rs.b.URL, "http", "ws", 1)+"/ws/chat", rs.b.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Header.Set("Cookie", sessionCookie(t, b, rs.a))
	conn, err := websocket.DialConfig(cfg)
	if err != nil {
		t.Fatalf("WebSocket through replica b: %v", err)
	}
	defer conn.Close()
	var got string
	if err := websocket.Message.Receive(conn, &got); err != nil || got != "corp:"+user.ID {
		t.Fatalf("handshake identity %q, %v", got, err)
	}

	tok, err := fake.LogoutToken(providertest.LogoutTokenOptions{Subject: user.ID})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := fake.SendBackchannelLogout(context.Background(), rs.a.URL+"/oauth2/backchannel_logout/corp", tok); err != nil || st != http.StatusOK {
		t.Fatalf("back-channel logout on replica a: %d, %v", st, err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	err = websocket.Message.Receive(conn, &got)
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("WebSocket still open 2 s after the back-channel logout (read: %q, %v)", got, err)
	}
}
