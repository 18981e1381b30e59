-- An incident row is inserted once and then updated by most of its later events (a repeat moves count and
-- last_event_at; links fill columns no index holds). Such an update changes no indexed column, so Postgres can
-- write the new version on the same page without touching the table's nine indexes (a HOT update), but only when
-- the page has room: packed full by the inserts (fillfactor 100), almost none did (104 of 31,260 in a 200k-event
-- projection), and each one wrote a new entry into every index. Pages filled to 70 % leave that room. Applies to
-- pages written from now on.
ALTER TABLE incidents SET (fillfactor = 70);
