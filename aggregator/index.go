package aggregator

import (
	"html/template"
	"net/http"
)

// The /api page lists what the aggregator answers.
var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gpu-watchdog</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}code{background:#8882;padding:0 .2em}</style>
</head><body>
<h1>gpu-watchdog aggregator</h1>
<p>The dashboard is at <a href="/">/</a>; this page lists the APIs.</p>
<p>{{.Targets}} targets, {{.Up}} up. Version {{.Version}}.</p>
<h2>Prometheus API</h2>
<ul>
<li><a href="/api/v1/query?query=up"><code>/api/v1/query?query=up</code></a> — instant query</li>
<li><a href="/api/v1/query?query=avg%20by%20(hostname)%20(DCGM_FI_DEV_GPU_UTIL)"><code>avg by (hostname) (DCGM_FI_DEV_GPU_UTIL)</code></a></li>
<li><code>/api/v1/query_range</code>, <a href="/api/v1/series?match[]=up"><code>/api/v1/series</code></a>, <a href="/api/v1/labels"><code>/api/v1/labels</code></a>, <a href="/api/v1/label/__name__/values"><code>/api/v1/label/__name__/values</code></a>, <a href="/api/v1/metadata"><code>/api/v1/metadata</code></a></li>
<li><a href="/api/v1/targets"><code>/api/v1/targets</code></a> — scrape health of every agent</li>
<li><a href="/api/v1/sd"><code>/api/v1/sd</code></a> — the targets for a Prometheus <code>http_sd_configs</code></li>
<li><a href="/metrics"><code>/metrics</code></a> — the aggregator's own metrics</li>
</ul>
<p>Grafana: add a Prometheus data source with this server's URL. Command line: <code>gpuwd query 'up'</code>.</p>
</body></html>
`))

func (s *Server) serveIndex(w http.ResponseWriter, _ *http.Request) {
	targets := s.scrape.Targets()
	up := 0
	for _, t := range targets {
		if t.Health == "up" {
			up++
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = indexPage.Execute(w, map[string]any{"Targets": len(targets), "Up": up, "Version": s.opts.Version})
}
