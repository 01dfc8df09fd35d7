// Package web is the aggregator's dashboard: server-rendered templ pages
// served by echo, with charts drawn on the server. Its parts arrive with their
// issue; see DESIGN.md.
package web
