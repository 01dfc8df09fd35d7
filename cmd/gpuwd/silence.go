package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/alerts/route"
	"github.com/gpu-watchdog/gpu-watchdog/alerts/silence"
)

const silenceUsage = `Usage:
  gpuwd silence add [flags] MATCHER...   silence alerts (e.g. alertname=GPUOverheating instance=~"node-1.*")
  gpuwd silence query [flags] [MATCHER...]
  gpuwd silence expire [flags] ID...

The first matcher may be a bare alert name. Flags: --server (default
http://127.0.0.1:8080), --admin-token-file (adding and expiring need an
admin: the token from that file, or from $GPUWD_ADMIN_TOKEN; gpuwd serve
makes DATA_DIR/admin-token when no admin is configured); add: --duration
(1h), --comment, --author, --start.
amtool works too, with the token in an --http.config.file
(authorization: {credentials_file: ...}).
`

// silenceCmd is `gpuwd silence`: silences through a running gpuwd serve.
func silenceCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, silenceUsage)
		return 2
	}
	fs := flag.NewFlagSet("silence "+args[0], flag.ContinueOnError)
	server := fs.String("server", "http://127.0.0.1:8080", "URL of gpuwd serve")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	tokenFile := fs.String("admin-token-file", "", "file holding the admin token (default: $GPUWD_ADMIN_TOKEN)")
	var duration *time.Duration
	var comment, author, start, output *string
	var expired *bool
	switch args[0] {
	case "add":
		duration = fs.Duration("duration", time.Hour, "how long the silence lasts")
		comment = fs.String("comment", "", "why (required)")
		author = fs.String("author", silence.DefaultAuthor(), "who")
		start = fs.String("start", "", "when it starts (RFC 3339; default now)")
	case "query":
		output = fs.String("o", "text", "output: text or json")
		expired = fs.Bool("expired", false, "show expired silences instead of active and pending ones")
	case "expire":
	case "help", "-h", "--help":
		fmt.Fprint(stdout, silenceUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "gpuwd silence: unknown command %q\n\n%s", args[0], silenceUsage)
		return 2
	}
	if code, ok := parse(fs, args[1:], stderr); !ok {
		return code
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	fail := func(err error) int {
		fmt.Fprintf(stderr, "gpuwd silence %s: %v\n", args[0], err)
		return 1
	}
	token, err := adminToken(*tokenFile)
	if err != nil {
		return fail(err)
	}
	c := silence.NewClient(*server, &http.Client{Transport: bearer{token: token, next: http.DefaultTransport}})
	switch args[0] {
	case "add":
		ms, err := silence.ParseArgs(fs.Args())
		if err != nil {
			return fail(err)
		}
		if *comment == "" {
			return fail(fmt.Errorf("--comment is required: say why, for whoever finds the silence later"))
		}
		var from time.Time
		if *start != "" {
			if from, err = time.Parse(time.RFC3339, *start); err != nil {
				return fail(fmt.Errorf("--start: %w", err))
			}
		}
		sil, err := silence.New(ms, from, *duration, *author, *comment)
		if err != nil {
			return fail(err)
		}
		id, err := c.Add(ctx, sil)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, id)
	case "query":
		sils, err := c.Query(ctx, fs.Args()...)
		if err != nil {
			return fail(err)
		}
		now := time.Now()
		shown := sils[:0]
		for _, s := range sils {
			if (s.EndsAt.Before(now) || s.EndsAt.Equal(now)) == *expired {
				shown = append(shown, s)
			}
		}
		if *output == "json" {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(shown); err != nil {
				return fail(err)
			}
			return 0
		}
		if err := silence.WriteTable(stdout, shown); err != nil {
			return fail(err)
		}
	case "expire":
		if fs.NArg() == 0 {
			return fail(fmt.Errorf("give the IDs of the silences to expire"))
		}
		for _, id := range fs.Args() {
			if err := c.Expire(ctx, id); err != nil {
				return fail(fmt.Errorf("%s: %w", id, err))
			}
		}
	}
	return 0
}

// alertingCmd is `gpuwd alerting check FILE...`: Alertmanager
// configurations checked as amtool check-config does.
func alertingCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || args[0] != "check" {
		fmt.Fprintln(stderr, "Usage: gpuwd alerting check FILE...   validate Alertmanager configurations (route, receivers, inhibit_rules)")
		return 2
	}
	if err := route.Check(stdout, args[1:]...); err != nil {
		return 1
	}
	return 0
}

// adminToken reads the admin token from file, else $GPUWD_ADMIN_TOKEN.
func adminToken(file string) (string, error) {
	if file == "" {
		return strings.TrimSpace(os.Getenv("GPUWD_ADMIN_TOKEN")), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--admin-token-file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// bearer sends the admin token with every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if b.token == "" {
		return b.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}
