/**
 * A rich_text section that notifies a whole channel and a user group, and the same section as alertbus lets it
 * reach Slack (each element written as the text it stands for), for the tests of what a direct post may notify.
 */
export const BROADCAST_SECTION = {
  type: 'rich_text_section',
  elements: [
    { type: 'broadcast', range: 'channel' },
    { type: 'broadcast', range: 'everyone' },
    { type: 'usergroup', usergroup_id: 'S0SRE' },
  ],
};

export const BROADCAST_SECTION_AS_TEXT = {
  type: 'rich_text_section',
  elements: [
    { type: 'text', text: '@channel' },
    { type: 'text', text: '@everyone' },
    { type: 'text', text: '@S0SRE' },
  ],
};
