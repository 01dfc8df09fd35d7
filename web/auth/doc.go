// Package auth decides who may use the dashboard. Read-only pages may be
// public; everything that changes state needs a logged-in admin. Admins
// log in with a name and a bcrypt password hash from the configuration, or
// with an admin token. A login is a random session id in a cookie
// (HttpOnly, SameSite=Strict, Secure behind HTTPS) whose hash is kept in
// SQLite, so sessions survive restarts and logging out ends them for good.
// Failed logins are rate-limited per address and per name. The API's state-changing
// endpoints take the same credentials in an Authorization header instead
// of a cookie, so they need no CSRF token.
package auth
