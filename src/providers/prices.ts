import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { ModelId, ProviderId } from './provider.js';
import { RuntimeError } from '../engine/errors.js';

/**
 * The default price table for dry-run estimates. Only Runway's numbers are published
 * list prices; the others are assumptions (see docs/prices.md). Users override any
 * entry with a JSON file (`--prices FILE` or `REELGRAPH_PRICES`).
 */

export interface ModelPrice {
  /** What one second of output video costs in US dollars. */
  usdPerSecond: number;
  /** What one second costs in the provider's own credits, where it bills in credits. */
  creditsPerSecond?: number;
}

export interface ProviderPrices {
  /** Where the numbers come from, shown with every estimate. */
  source: string;
  /** False only for published list prices. */
  assumed: boolean;
  models: Partial<Record<ModelId, ModelPrice>>;
}

export type PriceTable = Record<ProviderId, ProviderPrices>;

/** Runway bills credits at $0.01 each; gen4_turbo and gen3a_turbo cost 5 credits per second. */
const RUNWAY_USD_PER_CREDIT = 0.01;
const RUNWAY_CREDITS_PER_SECOND = 5;
const runwayList: ModelPrice = { usdPerSecond: RUNWAY_CREDITS_PER_SECOND * RUNWAY_USD_PER_CREDIT, creditsPerSecond: RUNWAY_CREDITS_PER_SECOND };

export const DEFAULT_PRICES: PriceTable = {
  runway: {
    source: 'Runway API pricing (docs.dev.runwayml.com): 5 credits/s, 1 credit = $0.01; the create response confirms estimatedCost = 5 × duration',
    assumed: false,
    models: { gen4_turbo: runwayList, gen3a_turbo: runwayList },
  },
  runcomfy: {
    // RunComfy's Model API page for Runway Gen-4 Turbo gives no per-second figure we could confirm; assume Runway's list price passed through.
    source: "assumed equal to Runway's list price ($0.05/s); RunComfy bills in US dollars from your balance",
    assumed: true,
    models: { gen4_turbo: { usdPerSecond: 0.05 }, gen3a_turbo: { usdPerSecond: 0.05 } },
  },
  cometapi: {
    // CometAPI advertises prices below the official ones (about 20% off); its Runway page was not confirmable, so this is an assumption.
    source: "assumed 20% below Runway's list price ($0.04/s), as CometAPI advertises discounts on official prices",
    assumed: true,
    models: { gen4_turbo: { usdPerSecond: 0.04 }, gen3a_turbo: { usdPerSecond: 0.04 } },
  },
};

const ModelPriceOverride = z.strictObject({ usdPerSecond: z.number().nonnegative().optional(), creditsPerSecond: z.number().nonnegative().optional() });
const ProviderOverride = z.strictObject({
  source: z.string().optional(),
  models: z.partialRecord(z.enum(['gen4_turbo', 'gen3a_turbo']), ModelPriceOverride).optional(),
});
/** A user's price file: any subset of providers and models. */
export const PriceOverrideSchema = z.partialRecord(z.enum(['runcomfy', 'cometapi', 'runway']), ProviderOverride);

/** The price file could not be read or has the wrong shape. Exit 2. */
export class PriceFileError extends RuntimeError {
  override name = 'PriceFileError';
  override exitCode = 2;
}

/** The defaults with the user's file (explicit path, else $REELGRAPH_PRICES) merged over them. @throws PriceFileError */
export async function loadPrices(file?: string, env: NodeJS.ProcessEnv = process.env): Promise<PriceTable> {
  const path = file ?? env.REELGRAPH_PRICES;
  if (!path) return DEFAULT_PRICES;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new PriceFileError(`Price file "${path}" cannot be read as JSON (${(error as Error).message}).`, { cause: error });
  }
  const parsed = PriceOverrideSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PriceFileError(`Price file "${path}" is invalid at ${issue.path.join('.') || 'the top level'}: ${issue.message}.`);
  }
  return mergePrices(DEFAULT_PRICES, parsed.data, path);
}

function mergePrices(base: PriceTable, override: z.infer<typeof PriceOverrideSchema>, path: string): PriceTable {
  const merged = structuredClone(base);
  for (const [provider, entry] of Object.entries(override) as [ProviderId, z.infer<typeof ProviderOverride>][]) {
    const target = merged[provider];
    target.source = entry.source ?? `${path} (user price file)`;
    target.assumed = false;
    for (const [model, price] of Object.entries(entry.models ?? {}) as [ModelId, z.infer<typeof ModelPriceOverride>][]) {
      const current: ModelPrice = target.models[model] ?? { usdPerSecond: 0 };
      target.models[model] = { ...current, ...price };
    }
  }
  return merged;
}

/** One job's cost, or undefined when the table has no price for that model. */
export function priceJob(table: PriceTable, provider: ProviderId, model: ModelId, durationSeconds: number): { usd: number; credits?: number } | undefined {
  const price = table[provider].models[model];
  if (!price) return undefined;
  const usd = Math.round(price.usdPerSecond * durationSeconds * 10000) / 10000;
  return price.creditsPerSecond === undefined ? { usd } : { usd, credits: price.creditsPerSecond * durationSeconds };
}
