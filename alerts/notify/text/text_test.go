package text

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/chattest"
)

func TestNewAlert(t *testing.T) {
	m := chattest.SampleMessage(1, 0)
	v := NewAlert(m, m.Alerts[0])
	if got := v.Heading(); got != "GPUOverheating on gpu-node-00, GPU 0" {
		t.Errorf("heading %q", got)
	}
	var names []string
	for _, f := range v.Facts() {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ","); got != "Severity,Node,GPU,Value,Slurm job,User,Since" {
		t.Errorf("facts %s", got)
	}

	// Job and user from annotations when the labels lack them; the node
	// from the agent's hostname label.
	a := notify.Alert{
		Status:      notify.StatusResolved,
		Labels:      map[string]string{"alertname": "XidError", "hostname": "n1", "UUID": "GPU-1"},
		Annotations: map[string]string{"slurm_job_id": "77", "slurm_user": "dora", "summary": "Xid 79", "description": "Xid 79"},
	}
	v = NewAlert(notify.NewMessage("r", "k", nil, "http://d/", []notify.Alert{a}), a)
	if v.Job != "77" || v.User != "dora" || v.Node != "n1" || v.GPUText() != "GPU-1" {
		t.Errorf("alert %+v", v)
	}
	if v.Heading() != "XidError on n1 (resolved)" || v.Link != "http://d/nodes/n1" {
		t.Errorf("heading %q link %q", v.Heading(), v.Link)
	}
	if ps := v.Paragraphs(); len(ps) != 1 {
		t.Errorf("a description equal to the summary was repeated: %q", ps)
	}
}

func TestMarkup(t *testing.T) {
	for _, tc := range []struct {
		mk                 Markup
		escape, bold, link string
	}{
		{Plain, "a_b <c> & *d*", "x_y", "dash: http://h/a(b)"},
		{SlackMrkdwn, "a_b &lt;c&gt; &amp; *d*", "*x_y*", "<http://h/a(b)|dash>"},
		{DiscordMarkdown, `a\_b <c\> & \*d\*`, `**x\_y**`, "[dash](http://h/a%28b%29)"},
		{CommonMark, "a_b <c> & *d*", "**x_y**", "[dash](http://h/a%28b%29)"},
	} {
		if got := tc.mk.Escape("a_b <c> & *d*"); got != tc.escape {
			t.Errorf("%d: Escape %q, want %q", tc.mk, got, tc.escape)
		}
		if got := tc.mk.Bold("x_y"); got != tc.bold {
			t.Errorf("%d: Bold %q, want %q", tc.mk, got, tc.bold)
		}
		if got := tc.mk.Link("dash", "http://h/a(b)"); got != tc.link {
			t.Errorf("%d: Link %q, want %q", tc.mk, got, tc.link)
		}
	}
}

func TestBody(t *testing.T) {
	for name, mk := range map[string]Markup{"plain": Plain, "slack": SlackMrkdwn, "discord": DiscordMarkdown, "commonmark": CommonMark} {
		chattest.Golden(t, "body-"+name+".txt", []byte(Body(chattest.SampleMessage(1, 1), Options{Markup: mk})))
	}
}

func TestBodyLimits(t *testing.T) {
	m := chattest.SampleMessage(30, 0)
	m.TruncatedAlerts = 4
	if got := Body(m, Options{MaxAlerts: 3}); strings.Count(got, "Open in gpu-watchdog") != 3 || !strings.HasSuffix(got, "…and 31 more alerts (see all: https://gpuwd.example.com/alerts)") {
		t.Errorf("MaxAlerts 3:\n%s", got)
	}
	for _, max := range []int{50, 600, 1500} {
		got := Body(m, Options{MaxLen: max})
		if Len(got) > max {
			t.Errorf("MaxLen %d: %d runes", max, Len(got))
		}
		if !strings.Contains(got, "more alerts") {
			t.Errorf("MaxLen %d: the alerts left out are not counted:\n%s", max, got)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"hello", 5, "hello"},
		{"hello", 4, "hel…"},
		{"héllo", 2, "h…"},
		{"abc", 0, ""},
	} {
		if got := Truncate(tc.s, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
	s := strings.Repeat("°C", 100)
	for n := range 20 {
		got := TruncateBytes(s, n)
		if len(got) > n || !utf8.ValidString(got) {
			t.Errorf("TruncateBytes(%d) = %q", n, got)
		}
	}
}

func TestGroupLink(t *testing.T) {
	one := chattest.SampleMessage(2, 0) // both on gpu-node-00
	if got := GroupLink(one); got != "https://gpuwd.example.com/nodes/gpu-node-00" {
		t.Errorf("one node: %q", got)
	}
	if got := GroupLink(chattest.SampleMessage(9, 0)); got != "https://gpuwd.example.com/alerts" {
		t.Errorf("two nodes: %q", got)
	}
	one.ExternalURL = ""
	if got := GroupLink(one); got != "" {
		t.Errorf("no external URL: %q", got)
	}
}
