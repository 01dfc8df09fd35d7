// Package target is the one value every part of the aggregator passes around:
// an endpoint to scrape, whichever way it was found (static config, file_sd,
// agent registration, provider discovery). Discovery produces them, the
// scraper consumes them, the API and HTTP SD show them.
package target
