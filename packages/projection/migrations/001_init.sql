-- history: projections of incidents.v1 and deliveries.v1. Every row can be rebuilt by replaying the topics,
-- so no column holds wall-clock time of the projector: times come from the events.

CREATE TABLE incidents (
  incident_id          text PRIMARY KEY,
  alias                text NOT NULL,
  occurrence           integer NOT NULL CHECK (occurrence >= 1),
  previous_incident_id text,
  title                text NOT NULL,
  severity             text NOT NULL,
  source               text NOT NULL,
  status               text NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
  labels               jsonb NOT NULL DEFAULT '{}'::jsonb,
  description          text,
  links                jsonb NOT NULL DEFAULT '[]'::jsonb,
  count                integer NOT NULL DEFAULT 1,
  opened_at            timestamptz NOT NULL,
  acknowledged_at      timestamptz,
  acknowledged_by      text,
  resolved_at          timestamptz,
  resolved_by          text,
  slack_channel        text,
  slack_root_ts        text,
  pager_alert_id       text,
  pager_priority       text,
  rule                 jsonb NOT NULL,               -- RuleRef of the opening decision: path, name, rulesVersion
  last_event_at        timestamptz NOT NULL,         -- occurredAt of the latest incident event
  updated_at           timestamptz NOT NULL          -- recordedAt of the latest event that changed this row
);
CREATE INDEX incidents_status_idx ON incidents (status, opened_at DESC, incident_id);
CREATE INDEX incidents_source_idx ON incidents (source, opened_at DESC, incident_id);
CREATE INDEX incidents_alias_idx ON incidents (alias, occurrence);
CREATE INDEX incidents_opened_at_idx ON incidents (opened_at DESC, incident_id);

-- Every applied event, incident or delivery, with where it was read from.
CREATE TABLE incident_timeline (
  event_id       text NOT NULL UNIQUE,
  incident_id    text,                               -- null for suppressed events / failures tied to no incident
  alias          text NOT NULL,
  type           text NOT NULL,
  topic          text NOT NULL,
  "partition"    integer NOT NULL,
  "offset"       bigint NOT NULL,
  occurred_at    timestamptz NOT NULL,
  recorded_at    timestamptz NOT NULL,
  source         text NOT NULL,
  causation_id   text,
  correlation_id text NOT NULL,
  reason         text,
  rule           jsonb,
  data           jsonb NOT NULL
);
CREATE INDEX incident_timeline_incident_idx
  ON incident_timeline (incident_id, recorded_at, topic, "partition", "offset");
CREATE INDEX incident_timeline_alias_idx ON incident_timeline (alias, recorded_at);
CREATE INDEX incident_timeline_recorded_idx ON incident_timeline (recorded_at, type);

-- What the sinks did (or would have done, in dry-run), one row per delivery event.
CREATE TABLE deliveries (
  event_id        text NOT NULL UNIQUE,
  command_id      text NOT NULL,
  command_type    text NOT NULL,
  incident_id     text,
  type            text NOT NULL,
  target          text NOT NULL CHECK (target IN ('slack', 'pager')),
  dry_run         boolean NOT NULL DEFAULT false,
  ok              boolean NOT NULL,
  error           text,
  http_status     integer,
  permanent       boolean,
  attempts        integer NOT NULL,
  slack_channel   text,
  slack_ts        text,
  slack_thread_ts text,
  slack_purpose   text,
  pager_provider  text,
  pager_alert_id  text,
  pager_request_id text,
  request         jsonb,
  topic           text NOT NULL,
  "partition"     integer NOT NULL,
  "offset"        bigint NOT NULL,
  recorded_at     timestamptz NOT NULL
);
CREATE INDEX deliveries_incident_idx ON deliveries (incident_id, topic, "partition", "offset");
CREATE INDEX deliveries_command_idx ON deliveries (command_id);
CREATE INDEX deliveries_failed_idx ON deliveries (recorded_at) WHERE NOT ok;

-- Where each projection consumer is in each partition; written in the transaction of the rows it covers.
CREATE TABLE projection_offsets (
  consumer    text NOT NULL,
  topic       text NOT NULL,
  "partition" integer NOT NULL,
  next_offset bigint NOT NULL,
  PRIMARY KEY (consumer, topic, "partition")
);
