package config

import "slices"

// SelfJobName is the job of the aggregator scraping its own metrics.
const SelfJobName = "gpuwd"

// WithBuiltinJobs returns a copy of c whose scrape configs also hold the
// jobs gpuwd adds on its own: the job of self-registered agents (scraped
// with the registration token as bearer token, so agents that protect
// /metrics with the same shared token just work), unless the file
// configures a job of that name; and, when self is a host:port, job "gpuwd"
// scraping the aggregator itself.
func (c *Config) WithBuiltinJobs(self string, registrationToken Secret) *Config {
	out := *c
	out.ScrapeConfigs = slices.Clone(c.ScrapeConfigs)
	has := func(name string) bool {
		return slices.ContainsFunc(out.ScrapeConfigs, func(sc ScrapeConfig) bool { return sc.JobName == name })
	}
	if !has(c.Registration.JobName) {
		sc := ScrapeConfig{JobName: c.Registration.JobName}
		if registrationToken != "" {
			sc.Authorization = &Authorization{Credentials: registrationToken}
		}
		if err := sc.complete(&out.Global, ""); err != nil {
			panic(err) // built from valid parts
		}
		out.ScrapeConfigs = append(out.ScrapeConfigs, sc)
	}
	if self != "" && !has(SelfJobName) {
		sc := ScrapeConfig{JobName: SelfJobName, StaticConfigs: []StaticConfig{{Targets: []string{self}}}}
		if err := sc.complete(&out.Global, ""); err != nil {
			panic(err)
		}
		out.ScrapeConfigs = append(out.ScrapeConfigs, sc)
	}
	return &out
}
