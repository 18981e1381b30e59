/**
 * A Kafka broker in a container, for machines that have a Docker (or Podman) engine.
 *
 * `startContainerBroker()` resolves to null within a fraction of a second when no engine answers, so
 * callers can fall back to `startLocalBroker()` from ./broker. The `testcontainers` modules are loaded
 * only when this function runs.
 *
 * Pinned to the testcontainers 11 line: 12.x needs Node >= 22 and fails on import under Node 20.
 */
import type { LocalBroker } from './broker';

/** Confluent Platform 7.9 = Apache Kafka 3.9, the line the local broker runs. */
export const CONTAINER_IMAGE = 'confluentinc/cp-kafka:7.9.1';
/** The listener @testcontainers/kafka exposes to the host. */
const HOST_LISTENER_PORT = 9093;

/** True when a container engine answers (testcontainers' own detection: it throws when none does). */
export async function containerRuntimeAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `confluentinc/cp-kafka:7.9.1` in KRaft mode and returns its bootstrap address, or null when no
 * container engine is available. `pid` is -1 and `dataDir` names the container (its data lives inside it);
 * the testcontainers reaper removes the container if this process dies without calling stop().
 */
export async function startContainerBroker(): Promise<LocalBroker | null> {
  if (!(await containerRuntimeAvailable())) return null;
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const container = await new KafkaContainer(CONTAINER_IMAGE).withKraft().start();
  const brokers = [`${container.getHost()}:${container.getMappedPort(HOST_LISTENER_PORT)}`];
  let stopping: Promise<void> | undefined;
  return {
    brokers,
    pid: -1,
    dataDir: `container:${container.getId()}`,
    stop: () =>
      (stopping ??= container.stop().then(
        () => undefined,
        () => undefined,
      )),
  };
}
