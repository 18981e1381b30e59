/**
 * KafkaJS 2.2.4's `transaction.sendOffsets` writes the offsets it sends into a map of the group's committed offsets
 * (`cluster.markOffsetAsCommitted`) as soon as the TxnOffsetCommit is answered: before the transaction commits, and it
 * leaves them there when the transaction aborts. Every producer and consumer made from one `Kafka` shares that map. A
 * consumer of the group reads it for a partition it has not fetched since it (re)joined, such as one paused while a
 * batch commits: it then starts there, past records no committed transaction ever handled.
 *
 * The router's transactional processor met exactly this: a transaction of its old generation sent its offsets after
 * the group had joined again, then aborted, and the partition it kept was fetched from the aborted transaction's
 * offsets, so the records in between were never decided. `installSentOffsetsGuard()` makes the mark do nothing, for the
 * whole process: a consumer learns its group's committed offsets from the broker only (it reads them again on every join).
 */
import { createRequire } from 'node:module';

const kafkajsRequire = createRequire(require.resolve('kafkajs'));

let installed = false;

/**
 * Stops `transaction.sendOffsets` from marking offsets as committed in the client's shared map. Returns false, changing
 * nothing, when the cluster class is not where KafkaJS 2.2 keeps it.
 */
export function installSentOffsetsGuard(): boolean {
  if (installed) return true;
  let Cluster: { prototype: Record<string, unknown> };
  try {
    Cluster = kafkajsRequire('./src/cluster') as { prototype: Record<string, unknown> };
  } catch {
    return false;
  }
  if (typeof Cluster?.prototype?.markOffsetAsCommitted !== 'function') return false;
  Cluster.prototype.markOffsetAsCommitted = function markOffsetAsCommitted(): void {
    // An offset sent in a transaction is committed only if the transaction commits: the broker says which.
  };
  installed = true;
  return true;
}
