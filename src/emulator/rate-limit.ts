/**
 * A create rate limit: at most `max` creates accepted in any `windowMs` (a sliding window, as an
 * API gateway counts them); over it the create is refused with 429 and Retry-After, and no job is made.
 * Runway publishes no per-second figure (docs/providers.md §3 "Limits"), so tests choose the numbers.
 */

export interface CreateRateLimit {
  max: number;
  windowMs: number;
}

export class CreateRateLimiter {
  private accepted: number[] = [];

  /** Seconds to wait (for Retry-After) when refused, or 0 when this create may go ahead (and is counted). */
  take(now: number, limit: CreateRateLimit | undefined): number {
    if (!limit || limit.max <= 0) return 0;
    this.accepted = this.accepted.filter((at) => at > now - limit.windowMs);
    if (this.accepted.length < limit.max) {
      this.accepted.push(now);
      return 0;
    }
    return Math.max(1, Math.ceil((this.accepted[0]! + limit.windowMs - now) / 1000));
  }

  clear(): void {
    this.accepted = [];
  }
}
