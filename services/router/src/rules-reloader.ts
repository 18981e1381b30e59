import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { compileRules, sha256Hex, type CompiledRules } from '@alertbus/routing';

export type ReloadTrigger = 'file' | 'signal' | 'api';

export interface ReloadResult {
  result: 'applied' | 'rejected' | 'unchanged';
  /** The version in force after the reload (the old one when rejected). */
  rulesVersion: string;
  /** Every problem, one per line with file:line:col, when rejected. */
  message?: string;
}

export interface RulesReloaderOptions {
  /** ROUTING_RULES; undefined: the built-in defaults, nothing to reload. */
  path?: string;
  defaultChannel: string;
  /** ONCALL_SCHEDULE: the Slack requests' on-call schedule when the file names none. */
  oncallSchedule?: string;
  /** HISTORY_PUBLIC_URL, handed to every compile. */
  historyPublicUrl?: string;
  /** SLACK_COMMAND, handed to every compile. */
  slashCommand?: string;
  initial: CompiledRules;
  /**
   * Set when the file was refused at start and `initial` are the last good rules instead: the key of the refused
   * bytes (as reject() keeps it), so a file event for the same bytes is not reported again.
   */
  initialRejected?: string;
  /**
   * Called with the text of a version before it is applied (router.rules.v1); the reload waits for it, so a
   * decision never names a version whose text was not kept.
   */
  publish?: (text: Buffer, rules: CompiledRules) => Promise<unknown>;
  log: Logger;
  /** Called for every reload that was looked at, with its outcome. */
  onResult?: (r: ReloadResult, rules: CompiledRules) => void;
  debounceMs?: number;
}

/**
 * Keeps the rules in force and replaces them when the file changes (fs.watch on its folder, debounced,
 * so editors' write-then-rename and Kubernetes' symlink swaps are seen) or on SIGHUP. A file that does not
 * compile is rejected with every problem and its line, and the rules in force stay. A valid new version is
 * handed to `publish` (router.rules.v1) before it applies.
 */
export class RulesReloader {
  private rules: CompiledRules;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<ReloadResult> | null = null;
  private again = false;
  /** Hash of the last rejected bytes: file events for the same bad file are not reported twice. */
  private lastRejected: string | null = null;

  constructor(private readonly opts: RulesReloaderOptions) {
    this.rules = opts.initial;
    this.lastRejected = opts.initialRejected ?? null;
  }

  get current(): CompiledRules {
    return this.rules;
  }

  /** Starts watching the file's folder; nothing to watch for the built-in defaults. */
  watch(): void {
    if (!this.opts.path || this.watcher) return;
    const dir = path.dirname(path.resolve(this.opts.path));
    try {
      this.watcher = watch(dir, { persistent: false }, () => this.schedule());
      this.watcher.on('error', (err) => this.opts.log.warn({ err, dir }, 'watching the rules folder failed; SIGHUP still reloads'));
    } catch (err) {
      this.opts.log.warn({ err, dir }, 'cannot watch the rules folder; SIGHUP still reloads');
    }
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.reload('file');
    }, this.opts.debounceMs ?? 200);
  }

  /** Reads and compiles the file now; one reload at a time, and a change during one triggers another. */
  reload(trigger: ReloadTrigger): Promise<ReloadResult> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.doReload(trigger).finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        void this.reload(trigger);
      }
    });
    return this.running;
  }

  private async doReload(trigger: ReloadTrigger): Promise<ReloadResult> {
    const { log } = this.opts;
    const file = this.opts.path;
    if (!file) {
      log.info({ trigger }, 'no ROUTING_RULES file: the built-in defaults stay in force');
      return this.report({ result: 'unchanged', rulesVersion: this.rules.version }, false);
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      const message = `cannot read routing rules ${file}: ${(err as Error).message}`;
      return this.reject(message, `unreadable:${message}`, trigger);
    }
    const hash = sha256Hex(bytes);
    if (hash === this.rules.version) {
      // After a rejection the file is valid again (it holds the rules in force): said, even for a file event.
      const wasRejected = this.lastRejected !== null;
      this.lastRejected = null;
      if (trigger !== 'file' || wasRejected) log.info({ trigger, rulesVersion: hash }, 'routing rules unchanged');
      return this.report({ result: 'unchanged', rulesVersion: hash }, trigger !== 'file' || wasRejected);
    }
    const compiled = compileRules(bytes, file, {
      defaultChannel: this.opts.defaultChannel,
      ...(this.opts.oncallSchedule ? { oncallSchedule: this.opts.oncallSchedule } : {}),
      ...(this.opts.historyPublicUrl ? { historyPublicUrl: this.opts.historyPublicUrl } : {}),
      ...(this.opts.slashCommand ? { slashCommand: this.opts.slashCommand } : {}),
    });
    if (!compiled.ok) return this.reject(compiled.message, hash, trigger);
    await this.opts.publish?.(bytes, compiled.rules);
    const previous = this.rules.version;
    this.rules = compiled.rules;
    this.lastRejected = null;
    log.info({ trigger, rulesVersion: this.rules.version, previous, count: this.rules.rules.length }, 'routing rules reloaded: in force from the next batch');
    return this.report({ result: 'applied', rulesVersion: this.rules.version }, true);
  }

  private reject(message: string, key: string, trigger: ReloadTrigger): ReloadResult {
    const result: ReloadResult = { result: 'rejected', rulesVersion: this.rules.version, message };
    const repeated = trigger === 'file' && key === this.lastRejected;
    this.lastRejected = key;
    if (!repeated) {
      this.opts.log.error({ trigger, rulesVersion: this.rules.version, problems: message.split('\n') }, `routing rules rejected; the rules in force stay:\n${message}`);
    }
    return this.report(result, !repeated);
  }

  private report(r: ReloadResult, notify: boolean): ReloadResult {
    if (notify) this.opts.onResult?.(r, this.rules);
    return r;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.watcher?.close();
    this.watcher = null;
  }
}
