import type { ImageLimits, ModelSpec, ProviderId, ProviderInfo } from './provider.js';

/**
 * What each provider offers, as published (see docs/providers.md).
 * Pure data: validation reads it without a key and without the network.
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

const gen4: ModelSpec = { ratios: GEN4_RATIOS, durations: [5, 10], promptMaxLength: 1000, promptRequired: false, seedMax: UINT32_MAX, watermark: false };
const gen3a: ModelSpec = { ratios: GEN3A_RATIOS, durations: [5, 10], promptMaxLength: 512, promptRequired: true, seedMax: UINT32_MAX, watermark: false };

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
    // CometAPI documents promptText ≤ 512 and seed ≤ 999999999 for the endpoint, whatever the model.
    // Its ratio list is the union of both models' ratios; we offer each model only the ones Runway
    // accepts for it, since a mismatch would fail upstream after the request was accepted.
    models: {
      gen3a_turbo: { ...gen3a, seedMax: 999999999, watermark: true },
      gen4_turbo: { ...gen4, promptMaxLength: 512, seedMax: 999999999, watermark: true },
    },
    limits: runwayImageLimits,
  },
  runway: {
    id: 'runway',
    displayName: 'Runway API',
    keyEnv: 'RUNWAYML_API_SECRET',
    baseUrlEnv: 'RUNWAYML_BASE_URL',
    defaultBaseUrl: 'https://api.dev.runwayml.com',
    // gen3a_turbo was removed from Runway's image_to_video on 2026-06-10.
    models: { gen4_turbo: gen4 },
    limits: runwayImageLimits,
  },
};

export const PROVIDER_IDS = Object.keys(PROVIDERS) as ProviderId[];

/** Every ratio any provider offers for any model: the RunwayI2V widget's full list. */
export const ALL_RATIOS = [...GEN4_RATIOS, ...GEN3A_RATIOS];

/** The version header Runway's API (and CometAPI's Runway format) require. */
export const RUNWAY_API_VERSION = '2024-11-06';
