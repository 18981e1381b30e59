import { COMMANDS, helpText, parseCommand, stripLeadingMentions, type SlackCommand } from './commands';

describe('Slack commands: an ordered table of patterns with a default', () => {
  test.each<[text: string, command: SlackCommand]>([
    ['<@U0ALERTBUS> help', { name: 'help' }],
    ['<@U0ALERTBUS>   HELP  ', { name: 'help' }],
    ['<@U0ALERTBUS> ?', { name: 'help' }],
    ['help', { name: 'help' }], // a DM has no mention
    ['<@U0ALERTBUS> oncall', { name: 'oncall' }],
    ['<@U0ALERTBUS> on-call', { name: 'oncall' }],
    ['<@U0ALERTBUS> oncall db_team_schedule', { name: 'oncall', schedule: 'db_team_schedule' }],
    ['<@U0ALERTBUS> oncall "Platform Ops"', { name: 'oncall', schedule: 'Platform Ops' }],
    ['<@U0ALERTBUS> oncall “Platform Ops”', { name: 'oncall', schedule: 'Platform Ops' }], // smart quotes from a Mac
    ['<@U0ALERTBUS> cache clear', { name: 'cache-clear' }],
    ['<@U0ALERTBUS> cache   clear ops', { name: 'cache-clear', schedule: 'ops' }],
    ['<@U0ALERTBUS> ack', { name: 'ack' }],
    ['<@U0ALERTBUS> Acknowledge', { name: 'ack' }],
    ['<@U0ALERTBUS> resolve', { name: 'resolve' }],
    ['<@U0ALERTBUS|alertbus>: resolve', { name: 'resolve' }],
    ['<@U0ALERTBUS> <@U0OTHER> ack', { name: 'ack' }],
    // Anything else is a request: the rule's default behaviour, never an error.
    ['<@U0ALERTBUS> the checkout page is down', { name: 'request' }],
    ['<@U0ALERTBUS> help, the database is down', { name: 'request' }],
    ['<@U0ALERTBUS> oncall for the db is who?', { name: 'request' }],
    ['<@U0ALERTBUS> please ack this', { name: 'request' }],
    ['<@U0ALERTBUS> resolved?', { name: 'request' }],
    ['<@U0ALERTBUS>', { name: 'request' }],
    ['', { name: 'request' }],
  ])('%j → %j', (text, command) => {
    expect(parseCommand(text)).toEqual(command);
  });

  test('the table is ordered, frozen, and every command has a usage for help', () => {
    expect(COMMANDS.map((c) => c.name)).toEqual(['help', 'oncall', 'cache-clear', 'ack', 'resolve']);
    expect(Object.isFrozen(COMMANDS)).toBe(true);
    expect(COMMANDS.every((c) => Object.isFrozen(c))).toBe(true);
    const help = helpText('ops');
    for (const c of COMMANDS) expect(help).toContain(`\`${c.usage}\``);
    expect(help).toContain('on-call of *ops*');
  });

  test.each([
    ['<@U0ALERTBUS> help', 'help'],
    ['  <@U0ALERTBUS>\n\ncan someone   look at <@U0BOB>?', 'can someone look at <@U0BOB>?'],
    ['no mention first <@U0ALERTBUS>', 'no mention first <@U0ALERTBUS>'],
    ['<!here> hello', '<!here> hello'],
  ])('stripLeadingMentions(%j) = %j: only the mentions it starts with go', (text, want) => {
    expect(stripLeadingMentions(text)).toBe(want);
  });
});
