package config

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/prometheus/common/model"
	"golang.org/x/crypto/bcrypt"
)

// Dashboard is who may use the dashboard. Without admins or a token,
// gpuwd serve makes an admin token in its data directory at first start.
type Dashboard struct {
	// Public serves the read-only pages without a login
	// (--public-dashboard sets it too); actions always need one.
	Public bool `yaml:"public"`
	// Admins log in with a name and password.
	Admins []Admin `yaml:"admins"`
	// AdminToken or AdminTokenFile: a token that logs in (with no name)
	// and authorizes API calls that change state, as
	// Authorization: Bearer TOKEN.
	AdminToken     Secret `yaml:"admin_token"`
	AdminTokenFile string `yaml:"admin_token_file"`
	// SessionTTL is how long a login lasts (default 12h).
	SessionTTL model.Duration `yaml:"session_ttl"`
}

// Admin is one admin: PasswordHash is a bcrypt hash, as
// `gpuwd hash-password` prints it.
type Admin struct {
	Username     string `yaml:"username"`
	PasswordHash Secret `yaml:"password_hash"`
}

// DefaultSessionTTL is how long a login lasts by default.
const DefaultSessionTTL = model.Duration(12 * time.Hour)

// MinAdminTokenLength keeps tokens out of guessing range.
const MinAdminTokenLength = 16

var usernameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

func (d *Dashboard) complete(dir string) error {
	if d.SessionTTL == 0 {
		d.SessionTTL = DefaultSessionTTL
	}
	if d.AdminToken != "" && d.AdminTokenFile != "" {
		return errors.New("admin_token and admin_token_file are both set; use one")
	}
	if d.AdminToken != "" && len(d.AdminToken) < MinAdminTokenLength {
		return fmt.Errorf("admin_token is shorter than %d characters", MinAdminTokenLength)
	}
	d.AdminTokenFile = resolve(dir, d.AdminTokenFile)
	seen := map[string]bool{}
	for i, a := range d.Admins {
		switch {
		case !usernameRE.MatchString(a.Username):
			return fmt.Errorf("admins[%d]: username %q: use letters, digits and . _ @ - (up to 64)", i, a.Username)
		case a.Username == "token":
			return fmt.Errorf("admins[%d]: username \"token\" is kept for admin-token logins", i)
		case seen[a.Username]:
			return fmt.Errorf("admins[%d]: username %q is listed twice", i, a.Username)
		}
		seen[a.Username] = true
		if _, err := bcrypt.Cost([]byte(a.PasswordHash)); err != nil {
			return fmt.Errorf("admins[%d] (%s): password_hash is not a bcrypt hash; make one with gpuwd hash-password", i, a.Username)
		}
	}
	return nil
}

// LoadAdminToken returns the admin token, read from its file at each call.
func (d *Dashboard) LoadAdminToken() (Secret, error) {
	t, err := readSecret(d.AdminToken, d.AdminTokenFile)
	if err == nil && d.AdminTokenFile != "" && len(t) < MinAdminTokenLength {
		return "", fmt.Errorf("admin_token_file %s: the token is shorter than %d characters", d.AdminTokenFile, MinAdminTokenLength)
	}
	return t, err
}
