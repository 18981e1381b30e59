/**
 * Calls of one kind made while the previous one is still running, run together: the first call of an idle
 * coalescer runs after the current turn of the event loop (with the calls made in that same turn), and the calls
 * that come while a run is in flight wait for it and then run as one. Each caller gets its own item's answer.
 *
 * A batch never holds two items of the same key (the second waits for the next run), and at most `maxBatch` items.
 * When a run of several items fails, each item is run again on its own, so one bad item fails only its caller.
 */
export class Coalescer<I, O> {
  private queue: Array<{ item: I; resolve: (o: O) => void; reject: (err: unknown) => void }> = [];
  private running = false;
  private scheduled = false;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly key: (item: I) => string,
    private readonly maxBatch = 100,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.running) return;
    const batch: typeof this.queue = [];
    const keys = new Set<string>();
    const rest: typeof this.queue = [];
    for (const entry of this.queue) {
      const k = this.key(entry.item);
      if (batch.length < this.maxBatch && !keys.has(k)) {
        keys.add(k);
        batch.push(entry);
      } else {
        rest.push(entry);
      }
    }
    this.queue = rest;
    if (batch.length === 0) return;
    this.running = true;
    try {
      await this.runBatch(batch);
    } finally {
      this.running = false;
      if (this.queue.length > 0) void this.flush();
    }
  }

  private async runBatch(batch: typeof this.queue): Promise<void> {
    let outs: O[];
    try {
      outs = await this.run(batch.map((e) => e.item));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // One statement for all failed as a whole (nothing of it took effect): each on its own says whose it was.
      await Promise.all(
        batch.map(async (e) => {
          try {
            e.resolve((await this.run([e.item]))[0]!);
          } catch (one) {
            e.reject(one);
          }
        }),
      );
      return;
    }
    batch.forEach((e, i) => e.resolve(outs[i]!));
  }
}
