-- An incident opened again on its alias after a person resolved the previous one (its alert still firing) carried the
-- alert's first startsAt: a started_at before the previous incident ended, so its durations counted from the first
-- incident's start. The projection now raises started_at to the previous incident's end (its ended_at, else its
-- resolved_at; at most opened_at) and ended_at to that start (src/sender-times.ts startedAfterPrevious). The rows
-- projected before are given the same, as a replay gives them, so the live tables stay equal to a rebuild. A chain of
-- occurrences is raised until none is left before its previous one's end (each round can only raise a start).
DO $$
BEGIN
  LOOP
    UPDATE incidents AS i
       SET started_at = LEAST(COALESCE(p.ended_at, p.resolved_at), i.opened_at),
           ended_at   = CASE WHEN i.ended_at IS NULL THEN NULL
                             ELSE GREATEST(i.ended_at, LEAST(COALESCE(p.ended_at, p.resolved_at), i.opened_at)) END
      FROM incidents AS p
     WHERE p.incident_id = i.previous_incident_id
       AND i.started_at < LEAST(COALESCE(p.ended_at, p.resolved_at), i.opened_at);
    EXIT WHEN NOT FOUND;
  END LOOP;
END $$;
