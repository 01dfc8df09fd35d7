package webtest

import (
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/chromedp/chromedp"
)

// flags are Chromium's command-line switches: headless, deterministic, and
// cut off from everything but the tests' loopback servers.
func flags() []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		// Headless, as root in a container.
		chromedp.Flag("headless", "new"),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("enable-automation", true),

		// Deterministic rendering.
		chromedp.WindowSize(Width, Height),
		chromedp.Flag("force-device-scale-factor", "1"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.Flag("disable-font-subpixel-positioning", true),
		chromedp.Flag("disable-lcd-text", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-ipc-flooding-protection", true),
		chromedp.Flag("disable-hang-monitor", true),
		chromedp.Flag("disable-popup-blocking", true),
		chromedp.Flag("disable-prompt-on-repost", true),

		// No network beyond the tests' servers. Names other than localhost
		// do not resolve, and any connection that is not to a loopback
		// address (which Chromium never proxies) goes to a proxy that does
		// not exist.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
		chromedp.Flag("proxy-server", "http://127.0.0.1:9"),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-crash-reporter", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("safebrowsing-disable-auto-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-component-extensions-with-background-pages", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("disable-features", strings.Join([]string{
			"Translate", "OptimizationHints", "MediaRouter", "DialMediaRouteProvider",
			"InterestFeedContentSuggestions", "CertificateTransparencyComponentUpdater",
			"AutofillServerCommunication", "PrivacySandboxSettings4", "NetworkTimeServiceQuerying",
			"DnsOverHttps", "UseDnsHttpsSvcb", "HttpsUpgrades", "SafeBrowsingOnDevice",
		}, ",")),
	}
}

// realBinary returns the Chromium binary that path launches. Debian's
// /usr/bin/chromium is a shell script that adds its own switches and
// environment (remote extensions, GPU rasterisation, Google API keys), so the
// binary it runs is used directly when it is there.
func realBinary(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return path
	}
	head := make([]byte, 2)
	_, err = io.ReadFull(f, head)
	f.Close()
	if err != nil || string(head) != "#!" {
		return path
	}
	name := filepath.Base(path)
	for _, candidate := range []string{
		filepath.Join("/usr/lib", name, name),
		filepath.Join("/usr/lib", name+"-browser", name+"-browser"),
	} {
		if st, err := os.Stat(candidate); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return candidate
		}
	}
	return path
}
