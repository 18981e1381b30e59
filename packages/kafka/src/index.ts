// First: KafkaJS's producer takes its message grouping when it is loaded (see message-grouping.ts).
import './message-grouping';
export * from './client';
export * from './admin';
export * from './records';
export * from './producer';
export { installProduceEncoder } from './produce-encoding';
export * from './consume-loop';
export { chooseNextFetchWait, installFetchWaitChoice, type FetchChoice } from './fetch-wait';
export * from './each-record';
export * from './dead-letter';
export { TOPICS, TOPIC_SPECS, HEADERS } from '@alertbus/schemas';
export { startLocalBroker, ensureKafkaJars, type LocalBroker } from './local/broker';
export * from './transactional';
export * from './reader';
export * from './co-partitioned';
export * from './broker-health';
export * from './topic-ends';
export { installMessageGrouping } from './message-grouping';
