import { z } from 'zod';
import type { FaultAction, FaultPlan, FaultRule, LogProvider, RequestKind } from './types.js';

/**
 * Fault injection. Each rule counts the requests that match its provider/kind (1-based) and
 * fires on the nth ones, at most `times` times, with `probability` drawn from a seeded PRNG so
 * a run with the same seed injects the same faults. The first rule that fires wins.
 */

const ProviderSchema = z.enum(['runcomfy', 'cometapi', 'runway', 'emulator']);
const KindSchema = z.enum(['create', 'poll', 'result', 'cancel', 'download', 'other']);

const FaultActionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('status'), status: z.number().int().min(100).max(599), retryAfterS: z.number().min(0).optional(), body: z.unknown().optional(), afterCommit: z.boolean().optional(), shouldRetry: z.boolean().optional() }),
  z.object({ type: z.literal('drop-before-response') }),
  z.object({ type: z.literal('delay'), ms: z.number().min(0).max(600_000) }),
  z.object({ type: z.literal('truncate'), atFraction: z.number().min(0).max(1) }),
  z.object({ type: z.literal('expire-url') }),
]);

const FaultRuleSchema = z.object({
  provider: ProviderSchema.optional(),
  kind: KindSchema.optional(),
  nth: z.union([z.number().int().min(1), z.array(z.number().int().min(1))]).optional(),
  times: z.number().int().min(0).optional(),
  probability: z.number().min(0).max(1).optional(),
  action: FaultActionSchema,
});

/** Validates a plan that arrived over the control API. */
export const FaultPlanSchema = z.object({ rules: z.array(FaultRuleSchema), seed: z.number().int().optional() });

/** mulberry32: a tiny seeded PRNG, good enough to make injected faults repeatable. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RuleState {
  rule: FaultRule;
  matched: number;
  applied: number;
}

export class FaultInjector {
  private rules: RuleState[] = [];
  private random: () => number = seededRandom(1);

  set(plan: FaultPlan): void {
    this.rules = plan.rules.map((rule) => ({ rule, matched: 0, applied: 0 }));
    this.random = seededRandom(plan.seed ?? 1);
  }

  clear(): void {
    this.set({ rules: [] });
  }

  /** The fault to apply to this request, if any. Every matching rule counts the request. */
  pick(provider: LogProvider, kind: RequestKind): FaultAction | undefined {
    let chosen: FaultAction | undefined;
    for (const state of this.rules) {
      const { rule } = state;
      if ((rule.provider && rule.provider !== provider) || (rule.kind && rule.kind !== kind)) continue;
      state.matched++;
      if (chosen || !this.fires(state)) continue;
      state.applied++;
      chosen = rule.action;
    }
    return chosen;
  }

  private fires(state: RuleState): boolean {
    const { rule, matched, applied } = state;
    if (rule.times !== undefined && applied >= rule.times) return false;
    if (rule.nth !== undefined) {
      const wanted = Array.isArray(rule.nth) ? rule.nth : [rule.nth];
      if (!wanted.includes(matched)) return false;
    }
    return rule.probability === undefined || this.random() < rule.probability;
  }
}
