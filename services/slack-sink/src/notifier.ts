import { DeliveryError, type Logger, type RetryPolicy } from '@alertbus/common';
import { throwWhileSettling, type DeliveryOutcome, type KeptRows, type Notifier, type SettleWindow } from '@alertbus/sink-runtime';
import { SLACK_COMMAND_TYPES, type AnyEnvelope, type SlackDelivery } from '@alertbus/schemas';
import { postToNamedChannel, type SlackClient } from './client';
import { DEFAULT_POST_SETTLE, lookUpOrThrow, reconcileWindow } from './reconcile';
import { NOTIFICATION_COMMAND_TYPES, type NotificationCommand, type NotificationPoster } from './notifications';
import type { ClientSource } from './team-clients';
import type { SlashAnswerCommand, SlashAnswers } from './slash-answers';
import { THREAD_COMMAND_TYPES, type ThreadCommands } from './thread-commands';
import type { ThreadStore } from './threads';
import type { UpdateHold } from './update-hold';
import {
  dryRunTs,
  postMessageBody,
  updateMessageBody,
  type PostCommand,
  type EphemeralCommand,
  type ThreadCommand,
  type UpdateCommand,
} from './wire';


/** How many incidents' root post failures are kept to explain their replies' failures (a few hundred bytes each). */
const ROOT_FAILURES_KEPT = 1_000;

const rootMessageKey = (command: PostCommand | UpdateCommand): string => `${command.data.teamId ?? ''}/${command.data.incidentId}`;
const isThreadCommand = (command: AnyEnvelope): command is ThreadCommand | EphemeralCommand => THREAD_COMMAND_TYPES.has(command.type);
const isNotification = (command: AnyEnvelope): command is NotificationCommand => NOTIFICATION_COMMAND_TYPES.has(command.type);
const isSlashAnswer = (command: AnyEnvelope): command is SlashAnswerCommand => command.type === 'AnswerSlashCommand';

type SlackFields = Pick<SlackDelivery, 'channel' | 'ts' | 'threadTs' | 'purpose' | 'request'>;

function posted(fields: SlackFields): DeliveryOutcome {
  return { type: 'SlackMessagePosted', data: { ...fields } };
}

export interface SlackNotifierDeps {
  /** The Web API client of the command's workspace; none in dry-run. */
  clients: ClientSource;
  threads: ThreadStore;
  log: Logger;
  /** Retries of the look-ups made while reconciling. */
  lookupRetry?: RetryPolicy;
  /** How long after an attempt a post not found may still be made (postSettleWindow); default DEFAULT_POST_SETTLE. */
  settle?: SettleWindow;
  /** Executes ReplyWithOnCall, ClearOnCallCache and PostSlackReply. */
  threadCommands: ThreadCommands;
  /** Executes PostNotification. */
  notifications: NotificationPoster;
  /** Executes AnswerSlashCommand (at the command's response_url). */
  slashAnswers: SlashAnswers;
  /** Spaces the updates of one message (SLACK_UPDATE_HOLD_MS); none: every update goes out when it comes. */
  updateHold?: UpdateHold;
}

/**
 * Executes PostSlackMessage (root / reply) and UpdateSlackMessage: a root opens the incident's thread, replies
 * go into it, updates replace the root in place; the thread commands (on-call answers, command replies) are
 * handed to ThreadCommands. Every posted message carries the command id in its metadata,
 * which is how a restarted sink finds out whether a command it was running had already reached Slack.
 */
export class SlackNotifier implements Notifier {
  readonly target = 'slack' as const;
  readonly handles = SLACK_COMMAND_TYPES;

  /**
   * Why the root post of an incident (by rootMessageKey) failed, the oldest forgotten past ROOT_FAILURES_KEPT: its
   * replies and updates then fail for want of a thread, and say why there is none.
   */
  private readonly rootFailures = new Map<string, string>();

  constructor(private readonly deps: SlackNotifierDeps) {}

  async execute(command: AnyEnvelope, attempt = 1): Promise<DeliveryOutcome> {
    if (isThreadCommand(command)) return this.deps.threadCommands.execute(command, attempt);
    if (isNotification(command)) return this.deps.notifications.execute(command);
    if (isSlashAnswer(command)) return this.deps.slashAnswers.execute(command, attempt);
    const client = await this.clientFor(command);
    if (!client) throw new DeliveryError('no Slack token configured', true);
    if (command.type === 'PostSlackMessage') {
      return command.data.purpose === 'root' ? this.postRoot(client, command) : this.postReply(client, command);
    }
    if (command.type === 'UpdateSlackMessage') return this.updateRoot(client, command);
    throw new DeliveryError(`slack-sink does not execute ${command.type}`, true);
  }

  private async postRoot(client: SlackClient, command: PostCommand): Promise<DeliveryOutcome> {
    const requested = command.data.channel;
    const key = rootMessageKey(command);
    let res;
    try {
      res = await postToNamedChannel(client, requested, (channel) => client.postMessage(postMessageBody(command, channel)));
    } catch (err) {
      this.rootFailures.delete(key);
      this.rootFailures.set(key, err instanceof Error ? err.message : String(err));
      if (this.rootFailures.size > ROOT_FAILURES_KEPT) this.rootFailures.delete(this.rootFailures.keys().next().value!);
      throw err;
    }
    this.rootFailures.delete(key);
    return posted({ channel: res.channel, ts: res.ts, purpose: 'root' });
  }

  private async thread(command: PostCommand | UpdateCommand) {
    const thread = await this.deps.threads.find(command.data.incidentId);
    if (!thread) {
      const where = command.type === 'PostSlackMessage' ? ` in ${command.data.channel}` : '';
      const cause = this.rootFailures.get(rootMessageKey(command));
      throw new DeliveryError(`no root message for incident ${command.data.incidentId}${where}${cause ? `: its root post failed: ${cause}` : ''}`, true);
    }
    return thread;
  }

  private async postReply(client: SlackClient, command: PostCommand): Promise<DeliveryOutcome> {
    const thread = await this.thread(command);
    const res = await client.postMessage(postMessageBody(command, thread.channelId, thread.rootTs));
    return posted({ channel: res.channel, ts: res.ts, threadTs: thread.rootTs, purpose: 'reply' });
  }

  private async updateRoot(client: SlackClient, command: UpdateCommand): Promise<DeliveryOutcome> {
    const thread = await this.thread(command);
    this.deps.updateHold?.sent(rootMessageKey(command));
    const res = await client.update(updateMessageBody(command, thread));
    return { type: 'SlackMessageUpdated', data: { channel: res.channel, ts: res.ts, purpose: 'root' } };
  }

  /**
   * Looks for the message an interrupted run may have posted (by the command id in its metadata); updates are simply
   * re-run (same content). Throws while Slack does not answer the look-up (see lookUpOrThrow), and while a message not
   * found may still be posted by the attempt (see postSettleWindow): posting then could post twice.
   */
  async reconcile(command: AnyEnvelope, startedAt: Date): Promise<DeliveryOutcome | undefined> {
    if (isThreadCommand(command)) return this.deps.threadCommands.reconcile(command, startedAt);
    if (isNotification(command)) return this.deps.notifications.reconcile(command, startedAt);
    // A response_url keeps no record to look in: an interrupted answer is sent again (at most 5 uses per URL).
    if (isSlashAnswer(command)) return undefined;
    if (command.type !== 'PostSlackMessage') return undefined;
    const client = await this.clientFor(command);
    if (!client) return undefined;
    const { purpose } = command.data;
    const window = reconcileWindow(startedAt);
    const ctx = { policy: this.deps.lookupRetry, log: this.deps.log, commandId: command.id, what: 'an earlier run of the command', startedAt };
    if (purpose === 'root') {
      const channel = await lookUpOrThrow(() => client.resolveChannel(command.data.channel), ctx);
      if (!channel?.value) return undefined; // a name Slack resolves itself cannot be searched; post again
      const found = await lookUpOrThrow(() => client.findCommandMessage({ channel: channel.value!, ...window, commandId: command.id }), ctx);
      if (found?.value) return posted({ channel: found.value.channel, ts: found.value.ts, purpose });
      if (found) throwWhileSettling(startedAt, this.settle, `no root message of command ${command.id} in ${channel.value}`);
      return undefined;
    }
    const thread = await this.deps.threads.find(command.data.incidentId);
    if (!thread) return undefined; // executing fails for good: no root message
    const threadTs = thread.rootTs;
    const found = await lookUpOrThrow(
      () => client.findCommandMessage({ channel: thread.channelId, threadTs, ...window, commandId: command.id }),
      ctx,
    );
    if (found?.value) return posted({ channel: found.value.channel, ts: found.value.ts, threadTs, purpose });
    if (found) throwWhileSettling(startedAt, this.settle, `no reply of command ${command.id} in thread ${threadTs}`);
    return undefined;
  }

  private get settle(): SettleWindow {
    return this.deps.settle ?? DEFAULT_POST_SETTLE;
  }

  private async clientFor(command: AnyEnvelope): Promise<SlackClient | undefined> {
    return (await this.deps.clients.forTeam((command.data as { teamId?: string }).teamId))?.client;
  }

  dryRun(command: AnyEnvelope): DeliveryOutcome {
    if (isThreadCommand(command)) return this.deps.threadCommands.dryRun(command);
    if (isNotification(command)) return this.deps.notifications.dryRun(command);
    if (isSlashAnswer(command)) return this.deps.slashAnswers.dryRun(command);
    const ts = dryRunTs(command.id);
    if (command.type === 'PostSlackMessage') {
      const { channel, purpose } = command.data;
      const body = postMessageBody(command, channel);
      return posted({ channel, ts, purpose, request: { method: 'chat.postMessage', body } });
    }
    if (command.type === 'UpdateSlackMessage') {
      // The root message's channel and ts live in Postgres; dry-run shows the content it would have set.
      const body = updateMessageBody(command, { channelId: '<root channel>', rootTs: '<root ts>' });
      return {
        type: 'SlackMessageUpdated',
        data: { channel: '', ts, purpose: 'root', request: { method: 'chat.update', body } },
      };
    }
    throw new DeliveryError(`slack-sink does not execute ${command.type}`, true);
  }

  /**
   * An incident's root message is named by its workspace and incident id. An update with blocks replaces it whole
   * (chat.update sets text and blocks; without blocks Slack keeps the earlier ones), so it supersedes the updates
   * before it; a root post starts a new message. Replies and thread commands are never skipped.
   */
  writes(command: AnyEnvelope): { message: string; effect: 'post' | 'update' | 'replace' } | undefined {
    if (command.type === 'UpdateSlackMessage') {
      return { message: rootMessageKey(command), effect: command.data.blocks ? 'replace' : 'update' };
    }
    if (command.type === 'PostSlackMessage' && command.data.purpose === 'root') return { message: rootMessageKey(command), effect: 'post' };
    return undefined;
  }

  /**
   * An update of a message updated less than the hold ago waits out the rest (its partition pauses there, see
   * SinkRunner): the updates that come meanwhile are read with it, and the last whole one supersedes it. So a storm
   * summary changing many times a second costs about one chat.update a second, and ends on its latest content.
   */
  holdMs(command: AnyEnvelope): number {
    if (command.type !== 'UpdateSlackMessage' || !this.deps.updateHold) return 0;
    return this.deps.updateHold.remaining(rootMessageKey(command));
  }

  /** Keeps the incident's thread with the ledger's completion, in the same statement; nothing for other commands. */
  persist(command: AnyEnvelope, outcome: DeliveryOutcome): KeptRows | undefined {
    if (command.type !== 'PostSlackMessage' || command.data.purpose !== 'root') return undefined;
    const data = outcome.data as Partial<SlackDelivery>;
    if (data.request || !data.channel || !data.ts) return undefined; // dry-run: there is no thread to remember
    return this.deps.threads.saveStatement({ incidentId: command.data.incidentId, alias: command.alias, commandId: command.id, channelId: data.channel, rootTs: data.ts });
  }
}
