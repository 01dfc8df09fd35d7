// Package ui is what every dashboard page shares: the layout and
// navigation, the Render helper that writes a templ component through
// echo, and the panel that shows a failed query as a plain message while
// the rest of the page renders.
package ui
