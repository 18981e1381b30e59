import { AssignerProtocol, type GroupMember, type PartitionAssigner } from 'kafkajs';

export const CO_PARTITIONED_ASSIGNER_NAME = 'AlertbusCoPartitioned';

/** Whose turn it is for each partition number, and which topics a member subscribed to. */
export interface CoPartitionedMember {
  memberId: string;
  topics: readonly string[];
}

/**
 * Partition number p of every topic goes to the same member (sorted member ids, round robin over p), so
 * a consumer of several keyed topics sees every record of a key, whatever topic it came on. Pure, for tests.
 * A member only gets topics it subscribed to; a topic nobody else wants goes to the next member that does.
 */
export function coPartitionedAssignment(
  members: readonly CoPartitionedMember[],
  partitionCounts: Readonly<Record<string, number>>,
): Record<string, Record<string, number[]>> {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const out: Record<string, Record<string, number[]>> = Object.fromEntries(sorted.map((m) => [m.memberId, {}]));
  if (sorted.length === 0) return out;
  const max = Math.max(0, ...Object.values(partitionCounts));
  for (let p = 0; p < max; p++) {
    for (const [topic, count] of Object.entries(partitionCounts)) {
      if (p >= count) continue;
      for (let k = 0; k < sorted.length; k++) {
        const m = sorted[(p + k) % sorted.length]!;
        if (!m.topics.includes(topic)) continue;
        (out[m.memberId]![topic] ??= []).push(p);
        break;
      }
    }
  }
  return out;
}

/** KafkaJS partition assigner over coPartitionedAssignment. List it first, with round robin after it for rolling upgrades. */
export const CoPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: CO_PARTITIONED_ASSIGNER_NAME,
  version: 1,
  async assign({ members, topics }: { members: GroupMember[]; topics: string[] }) {
    const counts: Record<string, number> = {};
    for (const topic of [...topics].sort()) counts[topic] = cluster.findTopicPartitionMetadata(topic).length;
    const subscribed = members.map((m) => ({
      memberId: m.memberId,
      topics: AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.topics ?? topics,
    }));
    const assignment = coPartitionedAssignment(subscribed, counts);
    return Object.entries(assignment).map(([memberId, a]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: a, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }: { topics: string[] }) {
    return {
      name: CO_PARTITIONED_ASSIGNER_NAME,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
    };
  },
});
