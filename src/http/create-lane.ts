/**
 * Creates to one provider origin go single file while it is refusing them for load (429 or
 * Runway's 502/503 with Retry-After): the one at the front waits as told and retries, the rest
 * (new creates, and refused ones once their own wait is over) queue behind it instead of all
 * hitting the limit at once. Outside such a spell creates run in
 * parallel. The spell lasts until a little after the last requested wait ends.
 */

/** How long after the last refusal creates stay single file: a rate limit refills in about a second. */
const QUIET_MS = 2_000;

export class CreateLane {
  private chain: Promise<void> = Promise.resolve();
  private limitedUntil = 0;

  /** The provider refused a create and asked to wait until `until` (ms on the client's clock). */
  limit(until: number): void {
    this.limitedUntil = Math.max(this.limitedUntil, until + QUIET_MS);
  }

  isLimited(now: number): boolean {
    return now < this.limitedUntil;
  }

  /** Waits for this create's turn; resolves with the function that hands the turn on. */
  async enter(): Promise<() => void> {
    let release!: () => void;
    const previous = this.chain;
    this.chain = new Promise<void>((resolve) => (release = resolve));
    await previous;
    return release;
  }
}
