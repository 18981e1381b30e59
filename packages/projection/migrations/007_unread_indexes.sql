-- Indexes no query reads, each written for every row: incident_timeline_recorded_idx (recorded_at, type) (the
-- timeline is read by incident, by alias and by input id; the stats read incidents and deliveries) and
-- deliveries_command_idx (command_id) (deliveries are read by incident and, for the stats, by recorded_at).
DROP INDEX IF EXISTS incident_timeline_recorded_idx;
DROP INDEX IF EXISTS deliveries_command_idx;
