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
  /** Why the file's tags could not be read at the last look (missing, unreadable, invalid); undefined when they were. */
  private trouble: string | undefined;

  constructor(
    private readonly path: string | undefined,
    private readonly log: Logger,
  ) {}

  /** Whether the rules' `permissions:` give roles to user groups: only then is Slack asked who is in which group. */
  wantsUserGroups(): boolean {
    this.current();
    return this.groupRoles > 0;
  }

  /** Why no tag is known, for the answer to an unknown one (call after current()). */
  whyNone(): string {
    if (!this.path) return 'ROUTING_RULES is not set, so there are no tags';
    if (this.trouble) return `the rules file (ROUTING_RULES) gives none: ${this.trouble}`;
    return 'the rules file has no tags:';
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
      this.trouble = `cannot read ${this.path}: ${(err as Error).message}`;
      return this.tags;
    }
    if (stamp === this.stamp) return this.tags;
    this.stamp = stamp;
    try {
      const result = compileRules(readFileSync(this.path), this.path, { defaultChannel: '#alerts' });
      if (result.ok) {
        this.tags = result.rules.tags;
        this.groupRoles = Object.keys(result.rules.permissions?.groups ?? {}).length;
        this.trouble = undefined;
      } else {
        this.trouble = `it is invalid: ${result.message.split('\n')[0]}`;
        this.log.warn({ path: this.path, problems: result.message }, 'the rules file is invalid; keeping the notification tags known');
      }
    } catch (err) {
      this.trouble = `cannot read ${this.path}: ${(err as Error).message}`;
      this.log.warn({ path: this.path, error: (err as Error).message }, 'cannot read the rules file for notification tags; keeping the tags known');
    }
    return this.tags;
  }
}
