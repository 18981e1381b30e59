/** Which Kafka cluster a projection was built from, so its offsets are never applied to another one. */
import type { Kafka } from 'kafkajs';
import type { Pool, PoolClient } from 'pg';

export async function currentClusterId(kafka: Kafka): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.describeCluster()).clusterId;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function storedClusterId(db: Pool | PoolClient, consumer: string): Promise<string | null> {
  const { rows } = await db.query<{ cluster_id: string }>('SELECT cluster_id FROM projection_cluster WHERE consumer = $1', [consumer]);
  return rows[0]?.cluster_id ?? null;
}

/** Binds the projection to the cluster if it is bound to none yet; returns the cluster it is bound to. */
export async function bindCluster(pool: Pool, consumer: string, clusterId: string): Promise<string> {
  await pool.query('INSERT INTO projection_cluster (consumer, cluster_id) VALUES ($1, $2) ON CONFLICT (consumer) DO NOTHING', [consumer, clusterId]);
  return (await storedClusterId(pool, consumer))!;
}

/** The rebuild's projection belongs to the cluster it was read from (written in the swap's transaction). */
export async function rebindCluster(client: PoolClient, consumer: string, clusterId: string): Promise<void> {
  await client.query(
    `INSERT INTO projection_cluster (consumer, cluster_id) VALUES ($1, $2)
     ON CONFLICT (consumer) DO UPDATE SET cluster_id = EXCLUDED.cluster_id`,
    [consumer, clusterId],
  );
}

export function clusterMismatch(stored: string, current: string, brokers: string): string {
  return (
    `this projection was built from Kafka cluster ${stored}, but ${brokers} is cluster ${current}: history refuses ` +
    `to apply that cluster's offsets to it. Run \`alertbus history rebuild\` to rebuild the projection from this ` +
    `cluster (or point KAFKA_BROKERS back at cluster ${stored})`
  );
}
