import { ownActionProblem } from './own-actions';

const resolveButton = { type: 'button', action_id: 'alertbus_resolve', text: { type: 'plain_text', text: 'Resolve' }, value: '{"alias":"db-down","incidentId":"inc-1"}' };

test('a button with one of alertbus\'s own action_ids, anywhere in blocks or attachments, is refused naming where it is', () => {
  expect(ownActionProblem('blocks', [{ type: 'divider' }, { type: 'actions', elements: [{ type: 'button', action_id: 'deploy_ok' }, resolveButton] }])).toBe(
    'blocks[1].elements[1].action_id "alertbus_resolve" is reserved: action_ids starting with "alertbus_" are alertbus\'s own buttons ' +
      '(Acknowledge, Resolve), and a click on this one would act on an incident in the name of whoever clicked; give it another action_id',
  );
  expect(ownActionProblem('blocks', [{ type: 'section', text: { type: 'mrkdwn', text: 'x' }, accessory: { ...resolveButton, action_id: 'alertbus_ack' } }])).toMatch(
    /^blocks\[0\]\.accessory\.action_id "alertbus_ack" is reserved/,
  );
  expect(ownActionProblem('attachments', [{ color: '#f00', blocks: [{ type: 'actions', elements: [resolveButton] }] }])).toMatch(
    /^attachments\[0\]\.blocks\[0\]\.elements\[0\]\.action_id "alertbus_resolve" is reserved/,
  );
  // The whole prefix is alertbus's, for the buttons it has and any it adds.
  expect(ownActionProblem('blocks', [{ type: 'actions', elements: [{ type: 'button', action_id: 'alertbus_view' }] }])).toMatch(/"alertbus_view" is reserved/);
});

test('buttons of the sender\'s own, and a value that names an incident under another action_id, pass', () => {
  expect(ownActionProblem('blocks', undefined)).toBeNull();
  expect(ownActionProblem('blocks', [{ type: 'actions', elements: [{ ...resolveButton, action_id: 'deploy_resolve' }] }])).toBeNull();
  expect(ownActionProblem('blocks', [{ type: 'section', text: { type: 'mrkdwn', text: 'action_id alertbus_resolve' } }])).toBeNull();
  expect(ownActionProblem('attachments', [{ text: 'x', fields: [{ title: 'action_id', value: 'alertbus_ack' }] }])).toBeNull();
});
