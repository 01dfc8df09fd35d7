package rules

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/template"
)

// The definitions Prometheus puts before every alert template, so rule
// files written for Prometheus expand the same here.
const templateDefs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

// expander expands one alert's label and annotation templates.
type expander struct {
	ctx         context.Context
	name        string
	data        any
	ts          time.Time
	query       QueryFunc
	externalURL *url.URL
}

func newExpander(ctx context.Context, rule string, smpl promql.Sample, ext externals, ts time.Time, query QueryFunc, externalURL *url.URL) expander {
	return expander{
		ctx:         ctx,
		name:        "__alert_" + rule,
		data:        template.AlertTemplateData(smpl.Metric.Map(), ext.labels, ext.url, smpl),
		ts:          ts,
		query:       query,
		externalURL: externalURL,
	}
}

// expand returns the expanded text, or the error in its place as
// Prometheus does: an annotation that says why it is wrong beats a lost
// alert.
func (e expander) expand(text string) string {
	if !strings.Contains(text, "{{") {
		return text
	}
	tmpl := template.NewTemplateExpander(e.ctx, templateDefs+text, e.name, e.data,
		model.TimeFromUnixNano(e.ts.UnixNano()), template.QueryFunc(e.query), e.externalURL, nil)
	out, err := tmpl.Expand()
	if err != nil {
		return fmt.Sprintf("<error expanding template: %s>", err)
	}
	return out
}
