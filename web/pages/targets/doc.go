// Package targets is the dashboard's Targets page: every scraped agent with
// its health, last scrape, how long it took and the last error, worst
// first, so a broken agent is the first thing on the page.
package targets
