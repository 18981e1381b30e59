export * from './processor';
export { isConcurrentTransactionsError, isFencedError, retryConcurrentTransactions } from './policy';
export { DEFAULT_MARKER_KEY } from './read-to-end';
export { chunkOutputs, recordSize, type ChunkLimits } from './chunks';
