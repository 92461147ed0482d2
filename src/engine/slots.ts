/**
 * The executor's concurrency slots. A node holds one while it works; a node that only waits on something
 * outside (a remote job) gives it back through `releaseSlotWhile` so other nodes can work meanwhile
 * (docs/architecture.md, "Slots"). A node coming back from waiting is served before new nodes start, so work
 * already paid for finishes first.
 */
export class Slots {
  #free: number;
  readonly #returning: (() => void)[] = [];

  /** `onFree` runs whenever a slot becomes free for a new node. */
  constructor(limit: number, private readonly onFree: () => void) {
    this.#free = Math.max(1, limit);
  }

  /** Takes a slot for a new node if one is free. */
  tryTake(): boolean {
    if (this.#free === 0) return false;
    this.#free--;
    return true;
  }

  /** Takes a slot for a node coming back from waiting; resolves when it has one. */
  take(): Promise<void> {
    if (this.#free > 0 && this.#returning.length === 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#returning.push(resolve));
  }

  give(): void {
    const next = this.#returning.shift();
    if (next) return next();
    this.#free++;
    this.onFree();
  }
}
