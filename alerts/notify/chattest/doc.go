// Package chattest runs local stand-ins for the chat services notifications
// go to (Slack, Discord, Teams, ntfy, Alertmanager and a generic webhook), so
// tests exercise the real HTTP path without the internet. Each server
// checks payloads the way its service does and answers as it does (Slack's
// "ok", Discord's 204 and its JSON errors, Teams' 202), records what it
// accepted, and can be told to fail: rate limits with Retry-After, 5xx, a
// request that hangs past the client's timeout, an outage, a deleted
// webhook. Servers listen on 127.0.0.1 and close with the test.
package chattest
