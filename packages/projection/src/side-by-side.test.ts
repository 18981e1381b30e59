/** Which batches may be applied at the same time as others: those that only add timeline rows. */
import { topicOf, type AnyEnvelope } from '@alertbus/schemas';
import { onlyTimelineRows } from './batch-apply';
import { project } from './project';
import { createPage, deliveryFailed, opened, postRoot, received, silenceCreated, slackPosted, suppressed } from './testdata/events';

const prepared = (...events: AnyEnvelope[]) =>
  events.map((event, i) => ({ decoded: { ok: true as const, event }, projection: project(event, { topic: topicOf(event.type), partition: 0, offset: String(i) }) }));
const invalid = { decoded: { ok: false as const, error: 'envelope invalid' } };

describe('a batch that only adds timeline rows', () => {
  it('is one of inputs and commands (invalid records, set aside, change nothing either)', () => {
    expect(onlyTimelineRows(prepared(received('a', 0), received('b', 1)))).toBe(true);
    expect(onlyTimelineRows(prepared(postRoot(0), createPage(0)))).toBe(true);
    expect(onlyTimelineRows([...prepared(received('a', 0)), invalid])).toBe(true);
    expect(onlyTimelineRows([])).toBe(true);
  });

  it('is not one holding a decision that changes an incident, a delivery, or a silence event', () => {
    expect(onlyTimelineRows(prepared(received('a', 0), opened()))).toBe(false);
    expect(onlyTimelineRows(prepared(postRoot(0), slackPosted('root', 0)))).toBe(false);
    expect(onlyTimelineRows(prepared(deliveryFailed(3)))).toBe(false);
    expect(onlyTimelineRows(prepared(silenceCreated(0)))).toBe(false);
  });

  it('is not one whose records were not projected ahead of their transaction', () => {
    expect(onlyTimelineRows([{ decoded: { ok: true, event: received('a', 0) } }])).toBe(false);
  });

  it('may hold a suppressed event: it is kept in the timeline and changes no incident', () => {
    expect(onlyTimelineRows(prepared(suppressed(7)))).toBe(true);
  });
});
