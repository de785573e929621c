import type { Change, WatchHub } from "./watch-hub.ts";

/** Change-log rows read per query while catching up. */
export const FEED_CHUNK = 256;

/**
 * One server's view of the shared change log: it reads the rows after the last one it has seen,
 * in revision order, and publishes each to the server's watch hub. Several API servers write the
 * same database, so "a change happened" arrives as a NOTIFY (or, as a safety net, a timer): both
 * just `poke` the feed. Revisions are gap-free and committed in order (every write increments one
 * counter row under its row lock), so "rows after `last`" is always a prefix of what will come.
 */
export class ChangeFeed {
  #last: number;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(
    private readonly hub: WatchHub,
    private readonly read: (after: number, limit: number) => Promise<Change[]>,
    last: number,
    private readonly onGap: (expected: number, got: number) => void,
  ) {
    this.#last = last;
  }

  /** The newest revision published to the hub. */
  get last(): number {
    return this.#last;
  }

  /**
   * Reads and publishes everything committed so far. Pokes while a read runs coalesce into one
   * more round, and the promise resolves only after a round that started after this call.
   */
  poke(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#rounds().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #rounds(): Promise<void> {
    do {
      this.#again = false;
      await this.#drain();
    } while (this.#again);
  }

  async #drain(): Promise<void> {
    for (;;) {
      const rows = await this.read(this.#last, FEED_CHUNK);
      for (const c of rows) {
        // Only compaction of rows this server never read makes a hole; its watchers would miss
        // them, so say so loudly (the change log keeps thousands of revisions: a server lagging
        // that far was cut off from the database for long).
        if (c.revision !== this.#last + 1) this.onGap(this.#last + 1, c.revision);
        this.#last = c.revision;
        this.hub.publish(c);
      }
      if (rows.length < FEED_CHUNK) return;
    }
  }
}
