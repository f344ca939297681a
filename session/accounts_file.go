package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// fileAccounts keeps the accounts of a memory store in a JSON file, so a
// restart of the single gateway process keeps the links (sessions are
// lost, as they always are with the memory store; people sign in again and
// find their user). Every change rewrites the file through a temporary
// file and a rename, so a crash leaves the old or the new file, never half
// of one. E-mails are kept as SHA-256 hashes: the file needs to match them,
// not to show them. Mode 0600.
type fileAccounts struct {
	path string

	mu   sync.Mutex
	data fileAccountsData
}

type fileAccountsData struct {
	Version  int                     `json:"version"`
	Accounts map[string]*fileAccount `json:"accounts"` // by sg_ ID
	Owners   map[string]string       `json:"owners"`   // identity → sg_ ID
	Emails   map[string]string       `json:"emails"`   // e-mail hash → sg_ ID
}

type fileAccount struct {
	Created    time.Time `json:"created"`
	Identities []string  `json:"identities"`
	Email      string    `json:"email,omitempty"` // hash
}

// openFileAccounts reads path, or starts empty when it does not exist.
func openFileAccounts(path string) (*fileAccounts, error) {
	if path == "" {
		return nil, errors.New("accounts with the memory store need a file")
	}
	a := &fileAccounts{path: path, data: fileAccountsData{Version: 1,
		Accounts: map[string]*fileAccount{}, Owners: map[string]string{}, Emails: map[string]string{}}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return a, nil
	}
	if err != nil {
		return nil, fmt.Errorf("accounts file: %w", err)
	}
	if err := json.Unmarshal(b, &a.data); err != nil {
		return nil, fmt.Errorf("accounts file %s: %w", path, err)
	}
	for _, m := range []*map[string]string{&a.data.Owners, &a.data.Emails} {
		if *m == nil {
			*m = map[string]string{}
		}
	}
	if a.data.Accounts == nil {
		a.data.Accounts = map[string]*fileAccount{}
	}
	return a, nil
}

// saveLocked writes the whole file atomically.
func (a *fileAccounts) saveLocked() error {
	b, err := json.MarshalIndent(&a.data, "", " ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(a.path), ".accounts-*")
	if err != nil {
		return fmt.Errorf("accounts file: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	// One err through every step: a failed write or sync must never be
	// renamed over the good file (the links are the only copy).
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(b)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), a.path)
	}
	if err != nil {
		return fmt.Errorf("accounts file: %w", err)
	}
	return nil
}

// change applies f and saves; when saving fails the change is undone, so
// memory never holds a link the file lost.
func (a *fileAccounts) change(f func(d *fileAccountsData) error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	before, err := json.Marshal(&a.data)
	if err != nil {
		return err
	}
	if err := f(&a.data); err != nil {
		return err
	}
	if err := a.saveLocked(); err != nil {
		var old fileAccountsData
		if json.Unmarshal(before, &old) == nil {
			a.data = old
		}
		return err
	}
	return nil
}

func emailHash(email string) string {
	sum := sha256.Sum256([]byte(email))
	return hex.EncodeToString(sum[:])
}

func (a *fileAccounts) owner(_ context.Context, ident string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.data.Owners[ident], nil
}

func (a *fileAccounts) account(_ context.Context, id string) (*Account, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fa, ok := a.data.Accounts[id]
	if !ok {
		return nil, ErrNoAccount
	}
	return &Account{ID: id, Created: fa.Created, Identities: slices.Clone(fa.Identities)}, nil
}

func (a *fileAccounts) create(_ context.Context, id, ident string, now time.Time) (bool, error) {
	created := false
	err := a.change(func(d *fileAccountsData) error {
		if _, taken := d.Owners[ident]; taken {
			return nil
		}
		d.Owners[ident] = id
		d.Accounts[id] = &fileAccount{Created: now.UTC(), Identities: []string{ident}}
		created = true
		return nil
	})
	return created, err
}

func (a *fileAccounts) link(_ context.Context, id, ident string, _ time.Time) error {
	return a.change(func(d *fileAccountsData) error {
		fa, ok := d.Accounts[id]
		if !ok {
			return ErrNoAccount
		}
		if cur, taken := d.Owners[ident]; taken && cur != id {
			return ErrIdentityTaken
		}
		d.Owners[ident] = id
		if !slices.Contains(fa.Identities, ident) {
			fa.Identities = append(fa.Identities, ident)
		}
		return nil
	})
}

func (a *fileAccounts) unlink(_ context.Context, id, ident string, allowLast bool) error {
	return a.change(func(d *fileAccountsData) error {
		fa, ok := d.Accounts[id]
		if !ok || !slices.Contains(fa.Identities, ident) {
			return ErrNoAccount
		}
		if len(fa.Identities) == 1 && !allowLast {
			return ErrLastIdentity
		}
		fa.Identities = slices.DeleteFunc(fa.Identities, func(s string) bool { return s == ident })
		if d.Owners[ident] == id {
			delete(d.Owners, ident)
		}
		if len(fa.Identities) == 0 {
			if fa.Email != "" && d.Emails[fa.Email] == id {
				delete(d.Emails, fa.Email)
			}
			delete(d.Accounts, id)
		}
		return nil
	})
}

func (a *fileAccounts) release(_ context.Context, id, ident string) error {
	return a.change(func(d *fileAccountsData) error {
		if d.Owners[ident] == id {
			delete(d.Owners, ident)
		}
		return nil
	})
}

func (a *fileAccounts) byEmail(_ context.Context, email string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.data.Emails[emailHash(email)], nil
}

func (a *fileAccounts) setEmail(_ context.Context, id, email string) error {
	h := emailHash(email)
	return a.change(func(d *fileAccountsData) error {
		fa, ok := d.Accounts[id]
		if _, taken := d.Emails[h]; taken || !ok {
			return nil
		}
		d.Emails[h] = id
		fa.Email = h
		return nil
	})
}
