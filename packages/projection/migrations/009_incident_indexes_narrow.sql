-- incident_timeline_incident_idx (incident_id, recorded_at, topic, "partition", "offset") and deliveries_incident_idx
-- (incident_id, topic, "partition", "offset") are read by incident_id equality only: the timeline's and the
-- deliveries' orders start with recorded_at, the stage's rank or topic COLLATE "C", which neither index can give, so
-- the rows are sorted after the look-up whatever the index holds. And about a fifth of the timeline's rows (received
-- inputs, failures tied to no incident) have no incident_id at all: each paid for an entry no query can find. Both
-- become an index on incident_id alone, of the rows that have one: fewer and smaller entries for every row written.
CREATE INDEX incident_timeline_by_incident_idx ON incident_timeline (incident_id) WHERE incident_id IS NOT NULL;
DROP INDEX IF EXISTS incident_timeline_incident_idx;
CREATE INDEX deliveries_by_incident_idx ON deliveries (incident_id) WHERE incident_id IS NOT NULL;
DROP INDEX IF EXISTS deliveries_incident_idx;
