/** Who acknowledged or resolved an incident, for `alertbus incidents`: their name when the history has one, else their id. */

interface People {
  acknowledged_by: string | null;
  acknowledged_by_name?: string | null;
  resolved_by: string | null;
  resolved_by_name?: string | null;
}

// A name is what someone called themselves in Slack: no terminal control characters of theirs reach the terminal.
// eslint-disable-next-line no-control-regex
const printable = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');

/** The name when there is one, else the id; '' when nobody (a source's resolve). */
function shown(name: string | null | undefined, id: string | null): string {
  return printable(name || id || '');
}

/** The list's "acked by" column. */
export const acknowledgedByShown = (i: People): string => shown(i.acknowledged_by_name, i.acknowledged_by);

/** `incidents show`: "Alice Martin (U0ALICE01)", or the id alone when the name is none or the id itself (a pager user). */
function both(name: string | null | undefined, id: string | null): string {
  return name && id && name !== id ? `${printable(name)} (${printable(id)})` : shown(name, id);
}

export const acknowledgedByFull = (i: People): string => both(i.acknowledged_by_name, i.acknowledged_by);
export const resolvedByFull = (i: People): string => both(i.resolved_by_name, i.resolved_by);
