// Package audit serves /audit: who changed what, when, from where, and
// how it ended. Only admins see it.
package audit
