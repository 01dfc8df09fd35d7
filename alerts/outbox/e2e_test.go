package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/chattest"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/discord"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/notify/slack"
	"github.com/gpu-watchdog/gpu-watchdog/internal/secret"
)

// groupsIn lists, per payload, which of groups its JSON mentions.
func groupsIn[T any](payloads []T, groups []string) []string {
	var out []string
	for _, p := range payloads {
		b, _ := json.Marshal(p)
		for _, g := range groups {
			if strings.Contains(string(b), g) {
				out = append(out, g)
			}
		}
	}
	return out
}

// The real Slack and Discord notifiers against the fake services: Slack is
// down and Discord's webhook deleted while notifications arrive; the
// aggregator restarts; Slack comes back and Discord gets a new webhook.
// Each service then has every notification once, in order.
func TestEndToEndSlackOutageDiscordDeletedRestart(t *testing.T) {
	slackSrv, oldDiscord, newDiscord := chattest.NewSlack(t), chattest.NewDiscord(t), chattest.NewDiscord(t)
	slackSrv.SetDown(true)
	oldDiscord.Delete()
	var slackNotifier *pausable
	receivers := func(discordURL, hash string) map[string][]notify.Integration {
		s, err := slack.New(slack.Config{APIURL: secret.Secret(slackSrv.URL())}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		slackNotifier = &pausable{Notifier: s}
		d, err := discord.New(discord.Config{WebhookURL: secret.Secret(discordURL)}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return team(integration("slack/0", slackNotifier, false, "s1"), integration("discord/0", d, true, hash))
	}
	var groups []string
	for i := range 5 {
		groups = append(groups, fmt.Sprintf("gpu-node-%c", 'a'+i))
	}

	dir := t.TempDir()
	db := openDB(t, dir)
	o := newOutbox(t, db, fastOptions(t))
	o.SetReceivers(receivers(oldDiscord.URL(), "d1"))
	stop := start(t, o)
	for i, g := range groups {
		enqueue(t, o, firing("team", g, i))
	}
	enqueue(t, o, notification("team", groups[0], 5, nil, []string{"GPUHot"})) // resolved: not for Slack
	eventually(t, "Discord disabled and Slack retrying", func() bool {
		hs, err := o.Integrations(context.Background())
		return err == nil && hs[0].Name == "discord/0" && hs[0].Disabled && slackSrv.Attempts() >= 3
	})
	// No request may be left for the service to answer after it is back:
	// that one would arrive although the outbox saw it fail (the
	// at-least-once window of a stop mid-attempt).
	slackNotifier.pause()
	stop()
	db.Close()

	slackSrv.SetDown(false)
	o = newOutbox(t, openDB(t, dir), fastOptions(t))
	o.SetReceivers(receivers(newDiscord.URL(), "d2"))
	start(t, o)
	eventually(t, "all finished", func() bool { return allFinished(t, o) })

	if got := groupsIn(slackSrv.Received(), groups); !slices.Equal(got, groups) {
		t.Errorf("Slack received %v, want %v", got, groups)
	}
	if got, want := groupsIn(newDiscord.Received(), groups), append(slices.Clone(groups), groups[0]); !slices.Equal(got, want) {
		t.Errorf("Discord received %v, want %v", got, want)
	}
	if n := oldDiscord.Count(); n != 0 || oldDiscord.Attempts() != 1 {
		t.Errorf("deleted webhook: %d accepted, %d attempts; want 0 and 1", n, oldDiscord.Attempts())
	}
	st := statuses(t, o, Filter{})
	if st[groups[0]+"#5 slack/0"] != StatusSkipped {
		t.Errorf("resolved-only message for Slack: %s", st[groups[0]+"#5 slack/0"])
	}
}

// pausable passes Notify on until paused; pause returns once no call is in
// flight, so the service has answered every request it got.
type pausable struct {
	notify.Notifier
	mu       sync.Mutex
	paused   bool
	inflight sync.WaitGroup
}

func (p *pausable) Notify(ctx context.Context, m *notify.Message) error {
	p.mu.Lock()
	if p.paused {
		p.mu.Unlock()
		return notify.Retryable("paused by the test")
	}
	p.inflight.Add(1)
	p.mu.Unlock()
	defer p.inflight.Done()
	return p.Notifier.Notify(ctx, m)
}

func (p *pausable) pause() {
	p.mu.Lock()
	p.paused = true
	p.mu.Unlock()
	p.inflight.Wait()
}
