export { backtestFromKafka, type BacktestProgress, type KafkaBacktestOptions } from './kafka-source';
export { topicRanges } from './ranges';
