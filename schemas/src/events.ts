import { type Static, type TSchema } from '@sinclair/typebox';
import { AlertReceived } from './events/alerts';
import { PagerActionForwarded, PagerActionReceived, PagerAliasLinked, PagerAliasResolved } from './events/pager-received';
import { SlackMessageReceived, SlackActionReceived, SlackThreadLinked, SlackTextCommandReceived, SlackSlashCommandReceived } from './events/slack-received';
import {
  IncidentOpened,
  IncidentReopened,
  IncidentRepeated,
  IncidentUpdated,
  IncidentAcknowledged,
  IncidentUnacknowledged,
  IncidentResolved,
  EventSuppressed,
} from './events/incidents';
import {
  PostSlackMessage,
  UpdateSlackMessage,
  ReplyWithOnCall,
  ClearOnCallCache,
  PostSlackReply,
  PostNotification,
  PostSlackEphemeral,
  CallCommandWebhook,
  AnswerSlashCommand,
} from './events/slack-commands';
import { CustomCommandRequested } from './events/custom-commands';
import { CreatePagerAlert, ClosePagerAlert, AcknowledgePagerAlert, AddPagerNote, UpdatePagerPriority } from './events/pager-commands';
import {
  SlackMessagePosted,
  SlackMessageUpdated,
  PagerAlertCreated,
  PagerAlertClosed,
  PagerAlertAcknowledged,
  PagerNoteAdded,
  PagerPriorityUpdated,
  DeliveryFailed,
  DeliveryDelayed,
  SlackReplyDelivery,
  OnCallReplyDelivery,
  OnCallCacheDelivery,
  SlackUserGroupUpdated,
  NotificationPosted,
  SlackEphemeralDelivery,
  CommandWebhookDelivery,
  SlashCommandAnswered,
} from './events/deliveries';
import { DeadLetter } from './events/dead-letters';
import { SilenceCreated, SilenceExpired } from './events/silences';
import { NotificationRequested, NotificationRouted } from './events/notifications';
import { InhibitionEndedTick, SilenceEndedTick, StormSummaryTick } from './events/ticks';
import { TOPICS } from './topics';

/** The events, one file per topic (events/<topic>.ts). */
export * from './events/alerts';
export * from './events/pager-received';
export * from './events/slack-received';
export * from './events/incidents';
export * from './events/slack-commands';
export * from './events/pager-commands';
export * from './events/deliveries';
export * from './events/dead-letters';
export * from './events/silences';
export * from './events/notifications';
export * from './events/custom-commands';
export * from './events/ticks';

/** Every event type, its data schema and the topic it lives on. */
export const EVENT_TYPES = {
  AlertReceived: { topic: TOPICS.alertsReceived, data: AlertReceived },
  /** Alert inputs from the pager's side share the alerts topic: keyed by alias, they meet the incident's partition. */
  PagerActionReceived: { topic: TOPICS.alertsReceived, data: PagerActionReceived },
  /** The router's own inputs for templated pager aliases, next to the actions they carry back (keyed by pager alias, by incident alias). */
  PagerAliasLinked: { topic: TOPICS.alertsReceived, data: PagerAliasLinked },
  PagerActionForwarded: { topic: TOPICS.alertsReceived, data: PagerActionForwarded },
  PagerAliasResolved: { topic: TOPICS.alertsReceived, data: PagerAliasResolved },
  IncidentOpened: { topic: TOPICS.incidents, data: IncidentOpened },
  IncidentReopened: { topic: TOPICS.incidents, data: IncidentReopened },
  IncidentRepeated: { topic: TOPICS.incidents, data: IncidentRepeated },
  IncidentUpdated: { topic: TOPICS.incidents, data: IncidentUpdated },
  IncidentAcknowledged: { topic: TOPICS.incidents, data: IncidentAcknowledged },
  IncidentUnacknowledged: { topic: TOPICS.incidents, data: IncidentUnacknowledged },
  IncidentResolved: { topic: TOPICS.incidents, data: IncidentResolved },
  EventSuppressed: { topic: TOPICS.incidents, data: EventSuppressed },
  PostSlackMessage: { topic: TOPICS.slackCommands, data: PostSlackMessage },
  UpdateSlackMessage: { topic: TOPICS.slackCommands, data: UpdateSlackMessage },
  CreatePagerAlert: { topic: TOPICS.pagerCommands, data: CreatePagerAlert },
  ClosePagerAlert: { topic: TOPICS.pagerCommands, data: ClosePagerAlert },
  AcknowledgePagerAlert: { topic: TOPICS.pagerCommands, data: AcknowledgePagerAlert },
  AddPagerNote: { topic: TOPICS.pagerCommands, data: AddPagerNote },
  UpdatePagerPriority: { topic: TOPICS.pagerCommands, data: UpdatePagerPriority },
  SlackMessagePosted: { topic: TOPICS.deliveries, data: SlackMessagePosted },
  SlackMessageUpdated: { topic: TOPICS.deliveries, data: SlackMessageUpdated },
  PagerAlertCreated: { topic: TOPICS.deliveries, data: PagerAlertCreated },
  PagerAlertClosed: { topic: TOPICS.deliveries, data: PagerAlertClosed },
  PagerAlertAcknowledged: { topic: TOPICS.deliveries, data: PagerAlertAcknowledged },
  PagerNoteAdded: { topic: TOPICS.deliveries, data: PagerNoteAdded },
  PagerPriorityUpdated: { topic: TOPICS.deliveries, data: PagerPriorityUpdated },
  DeliveryFailed: { topic: TOPICS.deliveries, data: DeliveryFailed },
  DeliveryDelayed: { topic: TOPICS.deliveries, data: DeliveryDelayed },
  DeadLettered: { topic: TOPICS.deadLetter, data: DeadLetter },
  SilenceCreated: { topic: TOPICS.silences, data: SilenceCreated },
  SilenceExpired: { topic: TOPICS.silences, data: SilenceExpired },
  SlackMessageReceived: { topic: TOPICS.slackReceived, data: SlackMessageReceived },
  SlackActionReceived: { topic: TOPICS.slackReceived, data: SlackActionReceived },
  ReplyWithOnCall: { topic: TOPICS.slackCommands, data: ReplyWithOnCall },
  ClearOnCallCache: { topic: TOPICS.slackCommands, data: ClearOnCallCache },
  PostSlackReply: { topic: TOPICS.slackCommands, data: PostSlackReply },
  SlackReplyPosted: { topic: TOPICS.deliveries, data: SlackReplyDelivery },
  OnCallReplyPosted: { topic: TOPICS.deliveries, data: OnCallReplyDelivery },
  OnCallCacheCleared: { topic: TOPICS.deliveries, data: OnCallCacheDelivery },
  SlackUserGroupUpdated: { topic: TOPICS.deliveries, data: SlackUserGroupUpdated },
  SlackThreadLinked: { topic: TOPICS.slackReceived, data: SlackThreadLinked },
  SlackTextCommandReceived: { topic: TOPICS.slackReceived, data: SlackTextCommandReceived },
  NotificationRequested: { topic: TOPICS.notifications, data: NotificationRequested },
  NotificationRouted: { topic: TOPICS.notifications, data: NotificationRouted },
  PostNotification: { topic: TOPICS.slackCommands, data: PostNotification },
  NotificationPosted: { topic: TOPICS.deliveries, data: NotificationPosted },
  PostSlackEphemeral: { topic: TOPICS.slackCommands, data: PostSlackEphemeral },
  SlackEphemeralPosted: { topic: TOPICS.deliveries, data: SlackEphemeralDelivery },
  CallCommandWebhook: { topic: TOPICS.slackCommands, data: CallCommandWebhook },
  CommandWebhookAnswered: { topic: TOPICS.deliveries, data: CommandWebhookDelivery },
  CustomCommandRequested: { topic: TOPICS.customCommands, data: CustomCommandRequested },
  SlackSlashCommandReceived: { topic: TOPICS.slackReceived, data: SlackSlashCommandReceived },
  AnswerSlashCommand: { topic: TOPICS.slackCommands, data: AnswerSlashCommand },
  SlashCommandAnswered: { topic: TOPICS.deliveries, data: SlashCommandAnswered },
  StormSummaryTick: { topic: TOPICS.routerTicks, data: StormSummaryTick },
  SilenceEndedTick: { topic: TOPICS.routerTicks, data: SilenceEndedTick },
  InhibitionEndedTick: { topic: TOPICS.routerTicks, data: InhibitionEndedTick },
} as const satisfies Record<string, { topic: string; data: TSchema }>;

export type EventType = keyof typeof EVENT_TYPES;
export type EventData<T extends EventType> = Static<(typeof EVENT_TYPES)[T]['data']>;

/** The router's decision events: every type that lives on the incidents topic. */
export const INCIDENT_EVENT_TYPES: ReadonlySet<string> = new Set(
  (Object.keys(EVENT_TYPES) as EventType[]).filter((t) => EVENT_TYPES[t].topic === TOPICS.incidents),
);
