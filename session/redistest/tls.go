package redistest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TLSServer is a redis-server that also listens with TLS.
type TLSServer struct {
	*Server
	// TLSAddr is "127.0.0.1:PORT" of the TLS listener; Addr stays plain
	// TCP for the helpers (PING, Client).
	TLSAddr string
	// CAFile is the PEM of the self-signed certificate the server presents
	// (valid for 127.0.0.1), to put in a client's trusted roots.
	CAFile string
}

// StartTLS runs redis-server with a TLS port and a fresh self-signed
// certificate for 127.0.0.1; clients need no certificate of their own.
func StartTLS(t testing.TB) *TLSServer {
	t.Helper()
	bin := lookPath(t, "redis-server")
	ts := &TLSServer{}
	ts.Server = launch(t, bin, func(port, dir string) ([]string, error) {
		certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		if err := writeSelfSigned(certFile, keyFile); err != nil {
			return nil, err
		}
		tlsPort, err := freePort()
		if err != nil {
			return nil, err
		}
		ts.TLSAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(tlsPort))
		ts.CAFile = certFile
		return append(serverArgs(port, dir),
			"--tls-port", strconv.Itoa(tlsPort),
			"--tls-cert-file", certFile,
			"--tls-key-file", keyFile,
			"--tls-ca-cert-file", certFile,
			"--tls-auth-clients", "no",
		), nil
	})
	return ts
}

// writeSelfSigned writes a P-256 certificate for 127.0.0.1 and its key.
func writeSelfSigned(certFile, keyFile string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "redistest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("self-signed certificate: %w", err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
}
