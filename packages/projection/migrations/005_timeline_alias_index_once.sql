-- incident_timeline had the same index twice, (alias, recorded_at) under two names (001 and 002): every row
-- written paid for both, and no query can use more than one of them.
DROP INDEX IF EXISTS incident_timeline_alias_order_idx;
