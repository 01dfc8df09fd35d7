// Package config is the aggregator's YAML configuration: scrape jobs with
// static and file_sd targets in Prometheus' own shape (a user can paste a
// scrape_configs block from prometheus.yml), agent registration, storage and
// remote_write. Load checks everything up front and names the field that is
// wrong, so a bad file never starts a half-configured aggregator.
package config
