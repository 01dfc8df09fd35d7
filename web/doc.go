// Package web is gpuwd's dashboard: server-rendered pages (templ
// components, echo handlers) over the same store and PromQL engine the API
// answers from, so a page and a query never disagree. Pages live in
// pages/<name>, each with its handler, the interface it needs and its
// view; ui holds the layout and the one Render helper; assets are
// embedded, so the binary is the whole dashboard.
package web
