// Package webtest runs the dashboard's browser tests in a real headless
// Chromium, so that what is checked is what a person's browser does with the
// server-rendered pages: layout, the no-JavaScript fallback, live refresh,
// forms, the dark theme and console errors. One browser starts lazily per test
// binary and is shared by its tests ([Shared], closed by [Main] in TestMain);
// each [Browser.Open] gets a fresh tab in its own browser context, whose
// helpers wait with a timeout and fail the test with a screenshot path and the
// page's console errors. The browser only ever loads the tests' 127.0.0.1
// servers: every background service that could reach the network is off, and
// names other than localhost do not resolve. Where Chromium is missing the
// tests skip, except under CI=true, where they fail (see internal/testenv).
package webtest
