package amapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/silence"
)

func do(t *testing.T, method, u, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusMethodNotAllowed && resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s %s: Cache-Control %q", method, u, resp.Header.Get("Cache-Control"))
	}
	return resp.StatusCode, string(b)
}

func TestStatus(t *testing.T) {
	f := serve(t)
	code, body := do(t, "GET", f.srv.URL+"/api/v2/status", "")
	var st struct {
		Cluster struct {
			Status string `json:"status"`
			Peers  []any  `json:"peers"`
		} `json:"cluster"`
		Config struct {
			Original string `json:"original"`
		} `json:"config"`
		Uptime      time.Time         `json:"uptime"`
		VersionInfo map[string]string `json:"versionInfo"`
	}
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil {
		t.Fatalf("%d %s: %v", code, body, err)
	}
	if st.Cluster.Status != "disabled" || st.Cluster.Peers == nil || st.VersionInfo["version"] != CompatibleVersion || st.Uptime.IsZero() {
		t.Errorf("status = %s", body)
	}
	if strings.Contains(st.Config.Original, "topsecret") || !strings.Contains(st.Config.Original, "receiver: pager") {
		t.Errorf("config.original:\n%s", st.Config.Original)
	}
	if code, body := do(t, "GET", f.srv.URL+"/api/v2/receivers", ""); code != 200 || body != `[{"name":"chat"},{"name":"pager"}]`+"\n" {
		t.Errorf("receivers: %d %s", code, body)
	}
}

type apiAlert struct {
	Fingerprint string            `json:"fingerprint"`
	Labels      map[string]string `json:"labels"`
	Receivers   []struct {
		Name string `json:"name"`
	} `json:"receivers"`
	Status struct {
		State       string   `json:"state"`
		SilencedBy  []string `json:"silencedBy"`
		InhibitedBy []string `json:"inhibitedBy"`
		MutedBy     []string `json:"mutedBy"`
	} `json:"status"`
	StartsAt     string `json:"startsAt"`
	GeneratorURL string `json:"generatorURL"`
}

func alertNames(t *testing.T, f *fixture, query string) []string {
	t.Helper()
	code, body := do(t, "GET", f.srv.URL+"/api/v2/alerts"+query, "")
	if code != 200 {
		t.Fatalf("alerts%s: %d %s", query, code, body)
	}
	var as []apiAlert
	if err := json.Unmarshal([]byte(body), &as); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range as {
		out = append(out, a.Labels["alertname"])
	}
	slices.Sort(out)
	return out
}

func TestAlerts(t *testing.T) {
	f := serve(t)
	code, body := do(t, "GET", f.srv.URL+"/api/v2/alerts", "")
	var as []apiAlert
	if err := json.Unmarshal([]byte(body), &as); code != 200 || err != nil || len(as) != 3 {
		t.Fatalf("%d %s %v", code, body, err)
	}
	for _, a := range as {
		if a.Status.SilencedBy == nil || a.Status.InhibitedBy == nil || a.Status.MutedBy == nil || len(a.Receivers) != 1 ||
			a.GeneratorURL != "http://gpuwd/graph" || !strings.HasSuffix(a.StartsAt, "Z") || len(a.StartsAt) != len("2006-01-02T15:04:05.000Z") {
			t.Errorf("alert = %+v", a)
		}
		if a.Labels["alertname"] == "GPUDown" && (a.Status.State != "suppressed" || len(a.Status.InhibitedBy) != 1 || a.Receivers[0].Name != "pager") {
			t.Errorf("GPUDown = %+v", a)
		}
	}
	if !slices.IsSortedFunc(as, func(a, b apiAlert) int { return strings.Compare(a.Fingerprint, b.Fingerprint) }) {
		t.Error("not sorted by fingerprint")
	}
	for q, want := range map[string][]string{
		"?inhibited=false": {"GPUOverheating", "NodeDown"},
		"?active=false":    {"GPUDown"},
		"?receiver=pag.*":  {"GPUDown", "NodeDown"},
		"?receiver=pag":    nil, // anchored
		"?filter=" + url.QueryEscape(`severity=page`):                                     {"GPUDown", "NodeDown"},
		"?filter=" + url.QueryEscape(`instance=~"n."`) + "&filter=alertname!=GPUDown":     {"GPUOverheating", "NodeDown"},
		"?filter=" + url.QueryEscape(`team=""`):                                           {"GPUDown", "GPUOverheating", "NodeDown"},
		"?filter=" + url.QueryEscape(`team!=""`):                                          nil,
		"?filter=" + url.QueryEscape(`severity!=""`) + "&silenced=false&unprocessed=true": {"GPUDown", "GPUOverheating", "NodeDown"},
	} {
		if got := alertNames(t, f, q); !slices.Equal(got, want) {
			t.Errorf("alerts%s = %v, want %v", q, got, want)
		}
	}
	for _, q := range []string{"?active=maybe", "?receiver=(", "?filter=" + url.QueryEscape(`a=~"("`), "?filter=nope"} {
		if code, body := do(t, "GET", f.srv.URL+"/api/v2/alerts"+q, ""); code != 400 || !strings.HasPrefix(body, `"`) {
			t.Errorf("alerts%s: %d %s, want 400 with a JSON string", q, code, body)
		}
	}
}

func TestAlertGroups(t *testing.T) {
	f := serve(t)
	code, body := do(t, "GET", f.srv.URL+"/api/v2/alerts/groups?inhibited=false", "")
	var gs []struct {
		Labels   map[string]string     `json:"labels"`
		Receiver struct{ Name string } `json:"receiver"`
		Alerts   []apiAlert            `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(body), &gs); code != 200 || err != nil {
		t.Fatalf("%d %s %v", code, body, err)
	}
	var got []string
	for _, g := range gs {
		got = append(got, g.Labels["alertname"]+"/"+g.Receiver.Name)
	}
	if want := []string{"GPUOverheating/chat", "NodeDown/pager"}; !slices.Equal(got, want) {
		t.Errorf("groups = %v, want %v", got, want)
	}
}

func TestSilencesAPI(t *testing.T) {
	f := serve(t)
	u := f.srv.URL + "/api/v2/silences"
	future := silence.FormatTime(time.Now().Add(time.Hour))
	past := silence.FormatTime(time.Now().Add(-time.Hour))
	body := `{"matchers":[{"name":"alertname","value":"GPUOverheating","isRegex":false}],"startsAt":"` + past + `","endsAt":"` + future + `","createdBy":"ann","comment":"maintenance"}`
	code, resp := do(t, "POST", u, body)
	var created struct {
		SilenceID string `json:"silenceID"`
	}
	if err := json.Unmarshal([]byte(resp), &created); code != 200 || err != nil || !uuidRE.MatchString(created.SilenceID) {
		t.Fatalf("POST: %d %s", code, resp)
	}
	id := created.SilenceID

	code, resp = do(t, "GET", f.srv.URL+"/api/v2/silence/"+id, "")
	var g silence.Gettable
	if err := json.Unmarshal([]byte(resp), &g); code != 200 || err != nil || g.State != silence.StateActive || g.CreatedBy != "ann" ||
		len(g.Matchers) != 1 || !g.Matchers[0].IsEqual {
		t.Fatalf("GET: %d %s", code, resp)
	}
	for _, field := range []string{`"id":`, `"status":{"state":"active"}`, `"updatedAt":`, `"comment":"maintenance"`, `"matchers":[{"name":"alertname","value":"GPUOverheating","isRegex":false,"isEqual":true}]`} {
		if !strings.Contains(resp, field) {
			t.Errorf("GET silence lacks %s: %s", field, resp)
		}
	}
	// The alert is silenced.
	if got := alertNames(t, f, "?silenced=false"); slices.Contains(got, "GPUOverheating") {
		t.Errorf("silenced alert listed: %v", got)
	}

	code, resp = do(t, "GET", u+"?filter=alertname%3DGPUOverheating", "")
	if code != 200 || !strings.Contains(resp, id) {
		t.Errorf("filtered list: %d %s", code, resp)
	}
	if code, resp = do(t, "GET", u+"?filter=alertname%3DOther", ""); code != 200 || resp != "[]\n" {
		t.Errorf("filtered list: %d %s", code, resp)
	}

	for _, tc := range []struct {
		body string
		code int
		want string
	}{
		{`garbage`, 400, `"code":400`},
		{`{"startsAt":"` + past + `","endsAt":"` + future + `","createdBy":"a","comment":"c"}`, 422, "matchers in body is required"},
		{`{"matchers":[],"startsAt":"` + past + `","endsAt":"` + future + `","createdBy":"a","comment":"c"}`, 422, "at least 1 items"},
		{`{"matchers":[{"name":"a","value":"b"}],"startsAt":"` + past + `","endsAt":"` + future + `","createdBy":"a","comment":"c"}`, 422, "matchers.0.isRegex in body is required"},
		{`{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"` + past + `","endsAt":"` + future + `","createdBy":"a"}`, 422, "comment in body is required"},
		{`{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"` + future + `","endsAt":"` + future + `","createdBy":"a","comment":"c"}`, 400, "start time must be before end time"},
		{`{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2020-01-01T00:00:00Z","endsAt":"` + past + `","createdBy":"a","comment":"c"}`, 400, "end time can't be in the past"},
		{`{"matchers":[{"name":"a","value":".*","isRegex":true}],"startsAt":"` + past + `","endsAt":"` + future + `","createdBy":"a","comment":"c"}`, 400, "silence invalid: at least one matcher must not match the empty string"},
		{`{"id":"00000000-0000-4000-8000-000000000000","matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"` + past + `","endsAt":"` + future + `","createdBy":"a","comment":"c"}`, 404, "silence not found"},
	} {
		if code, resp := do(t, "POST", u, tc.body); code != tc.code || !strings.Contains(resp, tc.want) {
			t.Errorf("POST %s: %d %s, want %d with %q", tc.body, code, resp, tc.code, tc.want)
		}
	}

	if code, _ := do(t, "GET", f.srv.URL+"/api/v2/silence/00000000-0000-4000-8000-000000000000", ""); code != 404 {
		t.Errorf("GET unknown: %d", code)
	}
	if code, resp := do(t, "GET", f.srv.URL+"/api/v2/silence/nope", ""); code != 422 || !strings.Contains(resp, "must be of type uuid") {
		t.Errorf("GET nope: %d %s", code, resp)
	}
	if code, resp := do(t, "DELETE", f.srv.URL+"/api/v2/silence/"+id, ""); code != 200 || resp != "" {
		t.Errorf("DELETE: %d %q", code, resp)
	}
	if code, _ := do(t, "DELETE", f.srv.URL+"/api/v2/silence/"+id, ""); code != 200 {
		t.Errorf("DELETE again: %d", code)
	}
	if code, _ := do(t, "DELETE", f.srv.URL+"/api/v2/silence/00000000-0000-4000-8000-000000000000", ""); code != 404 {
		t.Errorf("DELETE unknown: %d", code)
	}
	_, resp = do(t, "GET", f.srv.URL+"/api/v2/silence/"+id, "")
	if !strings.Contains(resp, `"state":"expired"`) {
		t.Errorf("after DELETE: %s", resp)
	}
	if code, _ := do(t, "PUT", u, body); code != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d", code)
	}
}
