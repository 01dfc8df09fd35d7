package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// TokenUser is the name a login with the admin token gets.
const TokenUser = "token"

// Credentials are who may log in as admin.
type Credentials struct {
	// Admins maps a name to its bcrypt password hash.
	Admins map[string][]byte
	// Tokens are admin tokens: they log in as TokenUser and authorize API
	// calls (Authorization: Bearer).
	Tokens []string
}

// ErrBadLogin is a name, password or token that does not match.
var ErrBadLogin = errors.New("wrong name, password or token")

// HashPassword is the bcrypt hash to put in the configuration.
func HashPassword(password string) (string, error) {
	if len(password) < 8 {
		return "", fmt.Errorf("the password is shorter than 8 characters")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), 12)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// CheckHash tells whether s is a bcrypt hash, for the config's validation.
func CheckHash(s string) error {
	if _, err := bcrypt.Cost([]byte(s)); err != nil {
		return fmt.Errorf("not a bcrypt hash (make one with gpuwd hash-password): %w", err)
	}
	return nil
}

// dummyHash is compared against when the name is unknown, so a wrong name
// takes as long as a wrong password and names cannot be probed.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("gpuwd: no such admin"), bcrypt.MinCost)

// check returns the admin that user and password name: with an empty
// user, password is an admin token.
func (c Credentials) check(user, password string) (string, error) {
	if user == "" || user == TokenUser {
		if c.tokenMatches(password) {
			return TokenUser, nil
		}
		return "", ErrBadLogin
	}
	hash, ok := c.Admins[user]
	if !ok {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return "", ErrBadLogin
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil {
		return "", ErrBadLogin
	}
	return user, nil
}

// tokenMatches compares in constant time (over hashes, so the token's
// length does not show either).
func (c Credentials) tokenMatches(token string) bool {
	if token == "" {
		return false
	}
	got := sha256.Sum256([]byte(token))
	match := 0
	for _, t := range c.Tokens {
		want := sha256.Sum256([]byte(t))
		match |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	return match == 1
}

// has tells whether user may still log in (a session of an admin removed
// from the configuration ends).
func (c Credentials) has(user string) bool {
	if user == TokenUser {
		return len(c.Tokens) > 0
	}
	_, ok := c.Admins[user]
	return ok
}

// fromHeader checks an API request's Authorization: Bearer TOKEN, or Basic
// with an admin's name and password.
func (c Credentials) fromHeader(r *http.Request) (string, bool, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false, nil
	}
	if scheme, token, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		if c.tokenMatches(strings.TrimSpace(token)) {
			return TokenUser, true, nil
		}
		return "", true, ErrBadLogin
	}
	if user, pass, ok := r.BasicAuth(); ok {
		name, err := c.check(user, pass)
		return name, true, err
	}
	return "", true, errors.New("unsupported Authorization scheme: use Bearer with the admin token, or Basic")
}
