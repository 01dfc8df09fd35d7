package ui

import "context"

// Page names a page of the dashboard, for the navigation.
type Page struct {
	Path  string
	Title string
	// Later is a page that is not there yet: listed, not linked.
	Later bool
	// Admin pages are listed to logged-in admins only.
	Admin bool
}

// Pages is the navigation, in order. Pages join it as they are built.
var Pages = []Page{
	{Path: "/", Title: "Overview"},
	{Path: "/nodes", Title: "Nodes"},
	{Path: "/slurm", Title: "Slurm"},
	{Path: "/alerts", Title: "Alerts"},
	{Path: "/targets", Title: "Targets"},
	{Path: "/provision", Title: "Provision"},
	{Path: "/audit", Title: "Audit", Admin: true},
}

// Head is what the layout needs from a page.
type Head struct {
	Title   string // the page's own title
	Path    string // the page's route, to mark it in the navigation
	Version string // gpuwd's version, in the footer
}

// visible are the pages the viewer may open.
func visible(ctx context.Context) []Page {
	admin := Admin(ctx)
	var out []Page
	for _, p := range Pages {
		if !p.Admin || admin {
			out = append(out, p)
		}
	}
	return out
}
