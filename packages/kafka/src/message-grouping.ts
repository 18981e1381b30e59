/**
 * KafkaJS 2.2 groups a produce call's messages by partition with `[...current, message]` per message: each partition's
 * list is copied once per message added, so a call of n messages for one partition makes n lists of up to n entries.
 * The router's transactions send a few thousand records a call while it catches up (`chunkOutputs`), and those copies
 * were a fifth of everything its process allocated (bench/README.md, "Nineteenth run").
 *
 * `installMessageGrouping()` puts a grouping that appends in place where KafkaJS's producer will load its own: it only
 * takes effect when it runs before KafkaJS's producer module is first loaded (this package's index runs it first).
 */
import Module, { createRequire } from 'node:module';

const kafkajsRequire = createRequire(require.resolve('kafkajs'));

interface GroupArgs<M> {
  topic: string;
  partitionMetadata: unknown[];
  messages: M[];
  partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: M }) => number;
}

/** The same object KafkaJS's groupMessagesPerPartition returns (partition → its messages in call order), built in place. */
export function groupMessagesPerPartition<M>({ topic, partitionMetadata, messages, partitioner }: GroupArgs<M>): Record<number, M[]> {
  if (partitionMetadata.length === 0) return {};
  const result: Record<number, M[]> = {};
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const current = result[partition];
    if (current === undefined) result[partition] = [message];
    else current.push(message);
  }
  return result;
}

let installed: boolean | undefined;

/** True when KafkaJS's producer uses `groupMessagesPerPartition` above; false when its own was loaded already (nothing changed). */
export function installMessageGrouping(): boolean {
  if (installed !== undefined) return installed;
  try {
    const file = kafkajsRequire.resolve('./src/producer/groupMessagesPerPartition');
    const sendMessages = kafkajsRequire.resolve('./src/producer/sendMessages');
    const cache = kafkajsRequire.cache;
    if (cache[sendMessages] !== undefined || cache[file] !== undefined) return (installed = cache[file]?.exports === groupMessagesPerPartition);
    const m = new Module(file);
    m.filename = file;
    m.loaded = true;
    m.exports = groupMessagesPerPartition;
    cache[file] = m;
    installed = true;
  } catch {
    installed = false;
  }
  return installed;
}

// Loading this module installs it: imported first by the package's index, before anything loads KafkaJS.
installMessageGrouping();
