package config

import (
	"strings"
	"testing"
)

func TestDashboardSectionIsChecked(t *testing.T) {
	const hash = "$2a$04$0123456789012345678901uLEwdmj8p5mVH2d3KQ1nCHcSL8T2bqi"
	for _, tc := range []struct{ yaml, err string }{
		{"dashboard: {public: true, admins: [{username: ana, password_hash: '" + hash + "'}]}", ""},
		{"dashboard: {admins: [{username: ana, password_hash: hunter2}]}", "password_hash is not a bcrypt hash"},
		{"dashboard: {admins: [{username: ana, password_hash: '" + hash + "'}, {username: ana, password_hash: '" + hash + "'}]}", `username "ana" is listed twice`},
		{"dashboard: {admins: [{username: 'a b', password_hash: '" + hash + "'}]}", `username "a b"`},
		{"dashboard: {admins: [{username: token, password_hash: '" + hash + "'}]}", "kept for admin-token logins"},
		{"dashboard: {admin_token: short}", "shorter than 16"},
		{"dashboard: {admin_token: 0123456789abcdef, admin_token_file: x}", "both set"},
		{"dashboard: {session_ttl: -1h}", "not a valid duration"},
		{"dashboard: {admins: [{user: ana}]}", "field user not found"},
	} {
		c, err := Parse([]byte(tc.yaml), "/etc/gpuwd")
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.yaml, err)
		case tc.err == "" && (!c.Dashboard.Public || c.Dashboard.SessionTTL != DefaultSessionTTL):
			t.Errorf("%s: %+v", tc.yaml, c.Dashboard)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one containing %q", tc.yaml, err, tc.err)
		}
	}
	c, err := Parse([]byte("dashboard: {admin_token_file: token}"), "/etc/gpuwd")
	if err != nil || c.Dashboard.AdminTokenFile != "/etc/gpuwd/token" {
		t.Errorf("admin_token_file is not resolved against the config's directory: %q %v", c.Dashboard.AdminTokenFile, err)
	}
}
