package proxy

import (
	"context"
	"net/http"
)

// HTTPServerForTest exposes the http.Server that Serve would run, so that
// the attack suite can check its limits field by field.
func (s *Server) HTTPServerForTest() *http.Server { return s.httpServer(context.Background()) }
