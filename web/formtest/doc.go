// Package formtest is, for tests, a person using the dashboard's forms
// without a browser: an HTTP client that keeps its cookies, does not follow
// redirects (so a test sees the 303 a form answers with), and sends back the
// CSRF token of the last page it read. Tests of the real pages in a real
// browser use webtest; this is for the many steps around them.
package formtest
