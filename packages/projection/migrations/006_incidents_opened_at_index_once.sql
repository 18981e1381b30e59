-- incidents_opened_at_idx (opened_at DESC, incident_id) and incidents_list_idx (opened_at DESC, incident_id COLLATE "C")
-- lead with the same column: the list (ordered by incident_id COLLATE "C") and the stats' opened_at window are
-- planned on incidents_list_idx, so every incident written paid for an index no query chooses.
DROP INDEX IF EXISTS incidents_opened_at_idx;
