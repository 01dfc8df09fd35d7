// Package secret holds credentials (tokens, webhook URLs) as a type that
// never prints its value, so a config dumped to a log, an error or a page
// cannot leak one.
package secret
