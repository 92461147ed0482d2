/**
 * A per-provider create rate limit: a token bucket that holds one second's worth of creates and
 * refills continuously. A create that finds no token is refused with 429, and told when the next
 * token arrives: `Retry-After` in whole seconds (RFC 9110) and `retry-after-ms` exactly (the
 * header Runway's SDK reads first; providers.md §4).
 */

export class CreateRateLimit {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** undefined when the create may go ahead (and takes a token), else the ms until one is free. */
  take(key: string, perSecond: number, now: number): number | undefined {
    const bucket = this.buckets.get(key) ?? { tokens: perSecond, at: now };
    bucket.tokens = Math.min(perSecond, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.ceil(((1 - bucket.tokens) / perSecond) * 1000);
  }

  clear(): void {
    this.buckets.clear();
  }
}
