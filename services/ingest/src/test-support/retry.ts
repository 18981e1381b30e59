/**
 * Retries a Kafka admin step in tests: right after topics are created, the broker can briefly answer
 * "This server does not host this topic-partition" or "not the leader" while its metadata settles.
 */
export async function settled<T>(fn: () => Promise<T>, attempts = 10, delayMs = 300): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}
