// Package remotewrite forwards every sample the aggregator scrapes to a
// Prometheus remote-write receiver (Prometheus, Mimir, Thanos, Cortex,
// VictoriaMetrics), for the users who outgrow one SQLite file and want their
// GPU history in the long-term store they already run.
//
// Delivery must not cost a scrape and must survive outages of the receiver
// and restarts of gpuwd, so a Queue works in three stages. Append only copies
// samples into memory. A flusher, every FlushInterval or as soon as
// MaxSamplesPerSend samples are waiting, groups them by series, encodes them
// into ready-to-send request bodies (snappy-compressed remote-write 1.0
// WriteRequests) and writes each as a row of a small SQLite file of its own,
// one per endpoint. A sender posts the rows strictly in order and deletes a
// row only once the receiver answered 2xx, so what the aggregator scraped is
// delivered at least once, in order, across restarts.
//
// Failures are sorted the way Prometheus' own remote write sorts them:
// network errors, 5xx and 429 are retried with exponential backoff and
// jitter, honouring Retry-After; any other answer means the batch can never
// succeed, and it is dropped and counted rather than blocking the queue. The
// queue file is bounded (MaxQueueBytes, oldest batches dropped beyond), and
// so is what waits in memory while the disk is full. The state of each queue
// is in Status and in gpuwd_remote_write_* metrics labelled by remote name;
// URLs and credentials reach neither logs nor errors.
package remotewrite
