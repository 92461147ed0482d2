import type { ImageLimits, ModelId, ModelSpec, ProviderId, ProviderInfo } from './provider.js';

/**
 * What each provider offers, as published (see docs/providers.md and its corrections
 * of 2026-11-30). Every limit names its source. Pure data: validation reads it without a key and
 * without the network. Limits are per provider: the same model is offered differently by each.
 */

const MB = 1024 * 1024;
const GEN4_RATIOS = ['1280:720', '720:1280', '1104:832', '832:1104', '960:960', '1584:672'] as const;
const GEN3A_RATIOS = ['1280:768', '768:1280'] as const;
const UINT32_MAX = 4294967295;

const runwayImageLimits: ImageLimits = {
  formats: ['jpeg', 'png', 'webp'],
  maxBytes: 16 * MB,
  maxDataUriBytes: 5 * MB,
  maxDimension: 8000,
  minAspect: 0.5,
  maxAspect: 2,
  acceptsDataUri: true,
};

/** CometAPI's image_to_video ratio list (apidoc.cometapi.com .../runway-images-raw-video; seed cometapi-runway-image-to-video.en.txt). */
const COMET_RATIOS = [...GEN4_RATIOS, ...GEN3A_RATIOS] as const;
/** Runway API reference (docs.dev.runwayml.com/api, image_to_video gen4_turbo): `duration` any integer 2–10. */
const RUNWAY_GEN4_DURATIONS = [2, 3, 4, 5, 6, 7, 8, 9, 10] as const;
/** RunComfy's model pages and CometAPI's page document 5 or 10 s only. */
const FIVE_OR_TEN = [5, 10] as const;

/** Runway gen4_turbo (SDK 4.20.1 types; API reference): six ratios, promptText ≤ 1000, seed uint32. */
const gen4: ModelSpec = { ratios: GEN4_RATIOS, durations: FIVE_OR_TEN, promptMaxLength: 1000, promptRequired: false, seedMax: UINT32_MAX, watermark: false };
/** RunComfy gen-3 Alpha Turbo (seed runcomfy-runway-gen3a-turbo-i2v.es.txt): promptText required ≤ 512, 1280:768|768:1280. */
const gen3a: ModelSpec = { ratios: GEN3A_RATIOS, durations: FIVE_OR_TEN, promptMaxLength: 512, promptRequired: true, seedMax: UINT32_MAX, watermark: false };

export const PROVIDERS: Record<ProviderId, ProviderInfo> = {
  runcomfy: {
    id: 'runcomfy',
    displayName: 'RunComfy Model API',
    keyEnv: 'RUNCOMFY_API_TOKEN',
    baseUrlEnv: 'RUNCOMFY_BASE_URL',
    defaultBaseUrl: 'https://model-api.runcomfy.net',
    models: { gen4_turbo: gen4, gen3a_turbo: gen3a },
    // The Model API takes public URLs only: no data URIs, no upload endpoint.
    limits: { ...runwayImageLimits, acceptsDataUri: false },
  },
  cometapi: {
    id: 'cometapi',
    displayName: 'CometAPI (Runway format)',
    keyEnv: 'COMETAPI_KEY',
    baseUrlEnv: 'COMETAPI_BASE_URL',
    defaultBaseUrl: 'https://api.cometapi.com',
    // CometAPI documents one body for the endpoint (seed cometapi-runway-image-to-video.en.txt):
    // promptText optional ≤ 512, seed 0..999999999, duration 5|10, watermark, and eight ratios.
    // For gen3a_turbo, a request with only promptImage and model was accepted and any of the eight
    // ratios may be sent (providers.md corrections); RunComfy's gen-3 rules are RunComfy's, not these.
    // gen4_turbo on this endpoint is unconfirmed (providers.md §2), so it keeps Runway's six ratios.
    models: {
      gen3a_turbo: { ratios: COMET_RATIOS, durations: FIVE_OR_TEN, promptMaxLength: 512, promptRequired: false, seedMax: 999999999, watermark: true },
      gen4_turbo: { ...gen4, promptMaxLength: 512, seedMax: 999999999, watermark: true },
    },
    limits: runwayImageLimits,
    // "A freshly created id can briefly return task_not_exist ... wait a few seconds and poll again"
    // (apidoc.cometapi.com .../runway-to-get-task-details). "A few seconds", with a wide margin.
    notYetVisibleGraceMs: 30_000,
  },
  runway: {
    id: 'runway',
    displayName: 'Runway API',
    keyEnv: 'RUNWAYML_API_SECRET',
    baseUrlEnv: 'RUNWAYML_BASE_URL',
    defaultBaseUrl: 'https://api.dev.runwayml.com',
    // gen3a_turbo was removed from Runway's SDK on 2026-06-10 and retired with first/last-frame on 2026-07-30
    // (ComfyUI's partner-node docs mark RunwayImageToVideoNodeGen3a and RunwayFirstLastFrameNode end-of-life then).
    models: { gen4_turbo: { ...gen4, durations: RUNWAY_GEN4_DURATIONS } },
    retired: { gen3a_turbo: { what: 'Gen-3 Alpha Turbo (gen3a_turbo) and first/last-frame video', on: '2026-07-30' } },
    limits: runwayImageLimits,
  },
};

export const PROVIDER_IDS = Object.keys(PROVIDERS) as ProviderId[];

/** The providers that still offer `model`, by id. */
export function providersOffering(model: ModelId): ProviderId[] {
  return PROVIDER_IDS.filter((id) => PROVIDERS[id].models[model] !== undefined);
}

/** One sentence for a model a provider retired: what went, when, and who still offers it; undefined when not retired. */
export function retiredModelMessage(provider: ProviderId, model: ModelId): string | undefined {
  const retired = PROVIDERS[provider].retired?.[model];
  if (!retired) return undefined;
  const still = providersOffering(model);
  const elsewhere = still.length > 0 ? `; ${model} is still offered by ${still.join(' and ')} (choose one with --provider ${still.join('|')})` : '';
  return `${PROVIDERS[provider].displayName.split(' ')[0]} retired ${retired.what} on ${retired.on}${elsewhere}`;
}

/** Every ratio any provider offers for any model: the RunwayI2V widget's full list. */
export const ALL_RATIOS = [...GEN4_RATIOS, ...GEN3A_RATIOS];

/** The version header Runway's API (and CometAPI's Runway format) require. */
export const RUNWAY_API_VERSION = '2024-11-06';
