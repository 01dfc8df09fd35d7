-- Series: one row per label set. labels is the canonical binary encoding
-- (see series.go). first_t/last_t bound the series' samples in milliseconds;
-- last_t is brought up to date when a window is compacted.
CREATE TABLE series (
	id      INTEGER PRIMARY KEY,
	labels  BLOB    NOT NULL,
	first_t INTEGER NOT NULL,
	last_t  INTEGER NOT NULL
);

-- Write-ahead rows: every acknowledged Append, until its window is compacted
-- into chunk tables. data holds (series, t, value) triples (see wal.go).
CREATE TABLE wal (
	id   INTEGER PRIMARY KEY,
	mint INTEGER NOT NULL,
	maxt INTEGER NOT NULL,
	data BLOB    NOT NULL
);

-- Chunks live in one table per UTC day (chunks_<day>, ds_<day>), created on
-- demand, so retention and downsampling drop whole tables.

CREATE TABLE metadata (
	metric TEXT PRIMARY KEY,
	type   TEXT NOT NULL,
	help   TEXT NOT NULL,
	unit   TEXT NOT NULL
) WITHOUT ROWID;

-- Small durable state of other parts (registered agents, alert state...).
CREATE TABLE kv (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
) WITHOUT ROWID;

-- The store's own progress marks (compacted_through, downsampled_through).
CREATE TABLE state (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;
