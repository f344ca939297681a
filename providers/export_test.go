package providers

// Names only the tests need, kept out of the package's API.

// SupportsPKCE lets the external tests (package providers_test) check
// which kinds send a PKCE challenge; the gateway itself only needs
// NewAuthRequest, which decides it.
func (p *Provider) SupportsPKCE() bool { return p.supportsPKCE() }
