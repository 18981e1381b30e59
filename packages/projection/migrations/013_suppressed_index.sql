-- GET /api/suppressed and `alertbus suppressed` read the timeline's EventSuppressed rows by recorded_at over a window;
-- without an index each read scanned the whole timeline (about 80 ms a query at 1M rows, and growing with it). Partial:
-- only the suppressions are indexed, so the rows the projection writes most (an incident's own events) cost nothing more.
CREATE INDEX incident_timeline_suppressed_idx ON incident_timeline (recorded_at) WHERE type = 'EventSuppressed';
