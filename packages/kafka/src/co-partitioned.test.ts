import { coPartitionedAssignment } from './co-partitioned';

const both = ['alerts', 'slack'];
const counts = { alerts: 6, slack: 6 };

describe('co-partitioned assignment: partition p of every topic goes to one member', () => {
  test.each([1, 2, 3, 4, 5, 7])('%i member(s): each partition number has exactly one owner, for every topic', (n) => {
    const members = Array.from({ length: n }, (_, i) => ({ memberId: `m-${String.fromCharCode(97 + ((i * 5) % 26))}`, topics: both }));
    const a = coPartitionedAssignment(members, counts);
    for (let p = 0; p < 6; p++) {
      const owners = Object.entries(a).filter(([, t]) => t.alerts?.includes(p)).map(([m]) => m);
      const slackOwners = Object.entries(a).filter(([, t]) => t.slack?.includes(p)).map(([m]) => m);
      expect(owners).toHaveLength(1);
      expect(slackOwners).toEqual(owners);
    }
  });

  test('round robin by partition number over the sorted member ids', () => {
    expect(coPartitionedAssignment([{ memberId: 'b', topics: both }, { memberId: 'a', topics: both }], counts)).toEqual({
      a: { alerts: [0, 2, 4], slack: [0, 2, 4] },
      b: { alerts: [1, 3, 5], slack: [1, 3, 5] },
    });
  });

  test('a topic with fewer partitions, and a member that did not subscribe to a topic', () => {
    expect(coPartitionedAssignment([{ memberId: 'a', topics: both }, { memberId: 'b', topics: ['alerts'] }], { alerts: 3, slack: 2 })).toEqual({
      a: { alerts: [0, 2], slack: [0, 1] },
      b: { alerts: [1] },
    });
  });

  test('no members: nothing to assign', () => {
    expect(coPartitionedAssignment([], counts)).toEqual({});
  });
});
