/**
 * What each emulated service accepts, written from the providers' own documents (the seeds in
 * /work/shared/seeds and docs/providers.md with its 2026-11-30 corrections), never imported
 * from the client's catalog: the emulator is the independent side a test checks the client against.
 * test/unit/emulator/limits.test.ts guards every value with the literal from its document.
 */

export type EmulatedProvider = 'runcomfy' | 'cometapi' | 'runway';
export type EmulatedModel = 'gen4_turbo' | 'gen3a_turbo';

export interface BodyLimits {
  /** Allowed `ratio` values; `defaultRatio` when the document makes it optional. */
  ratios: readonly string[];
  defaultRatio?: string;
  /** Allowed `duration` values, and the value used when none is sent. */
  durations: readonly number[];
  defaultDuration: number;
  promptMaxLength: number;
  promptRequired: boolean;
  seedMax: number;
  /** CometAPI's body has `watermark`. */
  watermark: boolean;
}

const UINT32_MAX = 4294967295;

/** Runway API reference / SDK 4.20.1 (`ratio` required): the six gen4 ratios. */
const RUNWAY_GEN4_RATIOS = ['1280:720', '720:1280', '1104:832', '832:1104', '960:960', '1584:672'];

export const EMULATED_LIMITS: Record<EmulatedProvider, Partial<Record<EmulatedModel, BodyLimits>>> = {
  // docs.dev.runwayml.com/api image_to_video; providers.md §3 and corrections ("duration any integer
  // 2–10"); gen3a_turbo removed 2026-06-10, so only gen4_turbo. The API default duration is 10.
  runway: {
    gen4_turbo: { ratios: RUNWAY_GEN4_RATIOS, durations: [2, 3, 4, 5, 6, 7, 8, 9, 10], defaultDuration: 10, promptMaxLength: 1000, promptRequired: false, seedMax: UINT32_MAX, watermark: false },
  },
  runcomfy: {
    // Seed runcomfy-runway-gen4-turbo-i2v.en.txt: promptText maxLength 1000, ratio enum (default
    // 1280:720), duration enum [5, 10] (default 5), seed 0..4294967295; only promptImage required.
    gen4_turbo: { ratios: ['1584:672', '1280:720', '1104:832', '960:960', '832:1104', '720:1280'], defaultRatio: '1280:720', durations: [5, 10], defaultDuration: 5, promptMaxLength: 1000, promptRequired: false, seedMax: UINT32_MAX, watermark: false },
    // Seed runcomfy-runway-gen3a-turbo-i2v.es.txt: promptText required, maxLength 512; ratio enum
    // [1280:768, 768:1280] (default 1280:768); duration [5, 10] (default 5); seed 0..4294967295.
    gen3a_turbo: { ratios: ['1280:768', '768:1280'], defaultRatio: '1280:768', durations: [5, 10], defaultDuration: 5, promptMaxLength: 512, promptRequired: true, seedMax: UINT32_MAX, watermark: false },
  },
  // Seed cometapi-runway-image-to-video.en.txt: one body for the endpoint; promptImage and model
  // required; seed 0–999999999; promptText ≤ 512; watermark; duration 5 or 10 (default 5); ratio
  // one of eight (default 1280:720). gen4_turbo on this endpoint is unconfirmed (providers.md §2);
  // the emulator accepts it with the same body, as the optional switch of §7 allows.
  cometapi: {
    gen3a_turbo: cometBody(),
    gen4_turbo: cometBody(),
  },
};

function cometBody(): BodyLimits {
  return {
    ratios: ['1280:720', '720:1280', '1104:832', '832:1104', '960:960', '1584:672', '1280:768', '768:1280'],
    defaultRatio: '1280:720',
    durations: [5, 10],
    defaultDuration: 5,
    promptMaxLength: 512,
    promptRequired: false,
    seedMax: 999999999,
    watermark: true,
  };
}

/** Runway and CometAPI require this header (providers.md §3, seed cometapi-runway-image-to-video.en.txt). */
export const RUNWAY_VERSION_EXAMPLE = '2024-11-06';

/**
 * Runway task failure codes (runwayml/skills rw-api-reference, providers.md §3): what an emulated
 * failure may end with. SAFETY.INPUT.* must not be resubmitted unchanged; INTERNAL.* may be.
 */
export const RUNWAY_FAILURES: Record<string, string> = {
  'SAFETY.INPUT.IMAGE': 'The input image did not pass content moderation.',
  'SAFETY.INPUT.TEXT': 'The prompt text did not pass content moderation.',
  'SAFETY.OUTPUT.VIDEO': 'The generated video did not pass content moderation.',
  'INTERNAL.BAD_OUTPUT': 'An unexpected error occurred while generating the video.',
  'ASSET.INVALID': 'The input asset could not be processed.',
  INTERNAL: 'An internal error occurred.',
};
