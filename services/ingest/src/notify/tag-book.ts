import { readFileSync, statSync } from 'node:fs';
import type { Logger } from '@alertbus/common';
import { compileRules, type CompiledTag } from '@alertbus/routing';

/**
 * The notification tags of the rules file (ROUTING_RULES), compiled by the rules compiler the router uses so ingest
 * accepts exactly the tags the router will find. The file is looked at again on each request (a stat), and
 * compiled again when it changed; an invalid file leaves the tags known before, as the router keeps its rules.
 */
export class TagBook {
  private stamp: string | null = null;
  private tags: Readonly<Record<string, CompiledTag>> = {};
  private groupRoles = 0;

  constructor(
    private readonly path: string | undefined,
    private readonly log: Logger,
  ) {}

  /** Whether the rules' `permissions:` give roles to user groups: only then is Slack asked who is in which group. */
  wantsUserGroups(): boolean {
    this.current();
    return this.groupRoles > 0;
  }

  /** The tags in force; {} without a rules file (every tag is then unknown). */
  current(): Readonly<Record<string, CompiledTag>> {
    if (!this.path) return this.tags;
    let stamp: string;
    try {
      const st = statSync(this.path);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch (err) {
      if (this.stamp !== 'missing') this.log.warn({ path: this.path, error: (err as Error).message }, 'cannot read the rules file for notification tags; keeping the tags known');
      this.stamp = 'missing';
      return this.tags;
    }
    if (stamp === this.stamp) return this.tags;
    this.stamp = stamp;
    try {
      const result = compileRules(readFileSync(this.path), this.path, { defaultChannel: '#alerts' });
      if (result.ok) {
        this.tags = result.rules.tags;
        this.groupRoles = Object.keys(result.rules.permissions?.groups ?? {}).length;
      }
      else this.log.warn({ path: this.path, problems: result.message }, 'the rules file is invalid; keeping the notification tags known');
    } catch (err) {
      this.log.warn({ path: this.path, error: (err as Error).message }, 'cannot read the rules file for notification tags; keeping the tags known');
    }
    return this.tags;
  }
}
