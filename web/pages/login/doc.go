// Package login serves /login and /logout: the form an admin logs in
// with (a name and password, or the admin token), and the end of a
// session. Every attempt lands in the audit log.
package login
