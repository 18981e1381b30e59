-- The Kafka cluster a projection's offsets belong to: offsets mean nothing on another cluster (a new one, or
-- a restore), so history refuses to project on a mismatch until `alertbus history rebuild` rebuilds from it.
-- Not a projection table (not rebuilt, not in the checksum): the rebuild writes it when it swaps.
CREATE TABLE projection_cluster (
  consumer   text PRIMARY KEY,
  cluster_id text NOT NULL
);
