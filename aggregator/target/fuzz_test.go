package target

import "testing"

// FuzzFromURL: a URL that FromURL accepts (what an agent advertises, or a
// pod's metrics URL) gives a target whose URL is accepted again as the same
// target, so the address scraped is the one advertised, and a canonical
// URL stays canonical.
func FuzzFromURL(f *testing.F) {
	for _, s := range []string{
		"http://10.0.0.5:9400/metrics", "https://abc-9400.proxy.runpod.net/metrics", "http://[fe80::1]:9400",
		"http://node/custom/path", "http://node/gpu%20metrics", "http://node/a%2Fb", "http://[fe80::1%25eth0]/metrics",
		"ftp://x/metrics", "http:///metrics", "http://u:p@x/metrics", "http://x/metrics?token=1", "::", "http://x:/m#f",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tg, err := FromURL("j", raw)
		if err != nil {
			return
		}
		again, err := FromURL("j", tg.URL())
		if err != nil {
			t.Fatalf("FromURL(%q) = %+v, whose URL %q is refused: %v", raw, tg, tg.URL(), err)
		}
		if again.Scheme != tg.Scheme || again.Address != tg.Address || again.MetricsPath != tg.MetricsPath || again.URL() != tg.URL() {
			t.Fatalf("FromURL(%q) = %+v (URL %q), but its URL gives %+v", raw, tg, tg.URL(), again)
		}
	})
}
