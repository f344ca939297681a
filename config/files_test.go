package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFile writes content to name under dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "cookie", secret32+"\n")
	writeFile(t, dir, "cookie-crlf", secret32+"\r\n")
	writeFile(t, dir, "two-newlines", secret32+"\n\n")
	writeFile(t, dir, "google", "gs\n")
	writeFile(t, dir, "redis", "p@ss$word")
	writeFile(t, dir, "previous", secret32+"\n\n"+strings.Repeat("b", 32)+"\n")
	head := "cookie:\n" +
		"  secret_file: cookie\n" + // relative to the configuration file
		"  previous_secrets_file: ${DIR}/previous\n" +
		"providers:\n" +
		"  google:\n" +
		"    client_id: g\n" +
		"    client_secret_file: google\n" +
		"session:\n" +
		"  store: redis\n" +
		"  redis:\n" +
		"    password_file: redis\n" +
		"    password: ''\n" // empty means unset, so this is not "both"
	file := filepath.Join(dir, "c.yaml")
	c, err := Parse(file, []byte(doc(head)), env(map[string]string{"DIR": dir}))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checks := []struct {
		name      string
		got, want string
	}{
		{"cookie secret", c.Cookie.Secret, secret32},
		{"client secret", c.Providers[0].ClientSecret, "gs"},
		{"redis password, no expansion of file contents", c.Session.Redis.Password, "p@ss$word"},
		{"previous secrets", strings.Join(c.Cookie.PreviousSecrets, ","), secret32 + "," + strings.Repeat("b", 32)},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %q, want %q", ch.name, ch.got, ch.want)
		}
	}

	newlines := []struct {
		file, want string
	}{
		{"cookie-crlf", secret32},
		{"two-newlines", secret32 + "\n"}, // only one newline is dropped
	}
	for _, tc := range newlines {
		c, err := Parse(file, []byte(doc("cookie:\n  secret_file: "+tc.file+"\n")), noEnv)
		if err != nil {
			t.Fatalf("Parse with %s: %v", tc.file, err)
		}
		if c.Cookie.Secret != tc.want {
			t.Errorf("secret from %s: got %q, want %q", tc.file, c.Cookie.Secret, tc.want)
		}
	}
}

func TestSecretFileProblems(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "secret", secret32)
	writeFile(t, dir, "empty", "\n")
	writeFile(t, dir, "short-previous", secret32+"\nshort\n")
	writeFile(t, dir, "not-pem", "hello")
	file := filepath.Join(dir, "c.yaml")
	tests := []struct {
		name string
		head string
		want string
	}{
		{"both forms", "cookie:\n  secret: " + secret32 + "\n  secret_file: secret\n",
			"c.yaml:3: cookie.secret_file: set either secret or secret_file, not both"},
		{"both client secrets", "providers:\n  naver:\n    client_id: n\n    client_secret_file: secret\n    client_secret: s\n",
			"c.yaml:4: providers.naver.client_secret_file: set either client_secret or client_secret_file, not both"},
		{"both previous", "cookie:\n  secret: " + secret32 + "\n  previous_secrets: [" + secret32 + "]\n  previous_secrets_file: secret\n",
			"c.yaml:4: cookie.previous_secrets_file: set either previous_secrets or previous_secrets_file, not both"},
		{"short previous in file", "cookie:\n  secret: " + secret32 + "\n  previous_secrets_file: short-previous\n",
			"c.yaml:3: cookie.previous_secrets_file: the secret on line 2 of the file must be at least 32 bytes"},
		{"missing file", "cookie:\n  secret_file: nope\n",
			"c.yaml:2: cookie.secret_file: cannot read file: stat " + filepath.Join(dir, "nope") + ": no such file or directory"},
		{"empty file", "cookie:\n  secret_file: empty\n",
			"c.yaml:2: cookie.secret_file: the file is empty"},
		{"not a regular file", "cookie:\n  secret_file: /dev/null\n",
			"c.yaml:2: cookie.secret_file: cannot read /dev/null: not a regular file"},
		{"a directory", "cookie:\n  secret_file: .\n",
			"c.yaml:2: cookie.secret_file: cannot read " + dir + ": not a regular file"},
		{"sentinel password file", "session:\n  store: redis\n  redis:\n    master_name: m\n    sentinel_password: x\n    sentinel_password_file: secret\n",
			"c.yaml:6: session.redis.sentinel_password_file: set either sentinel_password or sentinel_password_file, not both"},
		{"ca file without certificates", "session:\n  store: redis\n  redis:\n    tls:\n      enabled: true\n      ca_file: not-pem\n",
			"c.yaml:6: session.redis.tls.ca_file: holds no PEM certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(file, []byte(doc(tc.head)), noEnv)
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Parse: got %v, want Problems", err)
			}
			want := strings.Replace(tc.want, "c.yaml", file, 1)
			sameLines(t, strings.Split(ps.Error(), "\n"), []string{want})
		})
	}
}

// TestSecretsStayOutOfProblems feeds secrets to every kind of problem and
// checks that no problem line quotes them.
func TestSecretsStayOutOfProblems(t *testing.T) {
	const leak = "Sup3rS3cretValue"
	tests := []struct {
		name string
		data string
	}{
		{"short secret", doc("cookie:\n  secret: " + leak + "\n")},
		{"short previous secret", doc("cookie:\n  secret: " + secret32 + "\n  previous_secrets: [" + leak + "]\n")},
		{"broken variable", doc("cookie:\n  secret: '" + leak + "${" + leak + "'\n")},
		{"bad variable name", doc("cookie:\n  secret: '${" + leak + "!}'\n")},
		{"syntax error on the secret's line", "cookie:\n  secret: \"" + leak + "\n"},
		{"secret as a list", doc("providers:\n  naver:\n    client_id: n\n    client_secret: [" + leak + "]\n")},
		{"secret in a mapping", doc("session:\n  redis:\n    password: {" + leak + ": 1}\n")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(problemLines(t, tc.data, noEnv), "\n")
			if strings.Contains(got, leak) {
				t.Errorf("problems quote the secret:\n%s", got)
			}
		})
	}
}
