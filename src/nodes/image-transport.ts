import type { ImageLimits, ProviderId } from '../providers/provider.js';
import { RUNWAY_UPLOAD_MAX_BYTES } from '../providers/runway-uploads.js';
import type { ImageFormat } from './values.js';

/**
 * How a local image travels to the provider, and whether a smaller copy must be made first.
 * Pure: ValidateImage (before anything is spent) and RunwayI2V (at run time) plan the same way.
 *
 * Routes, in order of preference:
 * - hosted: --image-host (object storage) is configured: a presigned URL, for every provider;
 * - data-uri: the provider takes data URIs (Runway, CometAPI) and the image fits one;
 * - upload: Runway's ephemeral uploads (up to 200 MB) when a data URI is too small;
 * - hosted: --public-url (a tunnel), for RunComfy, which fetches by URL only;
 * - none: RunComfy with neither (RunwayI2V's validation says which option fixes it).
 */

/** The widest video the models make (1584:672): pixels beyond about twice that are never seen. */
export const MODEL_MAX_SIDE = 1584;
/** A local image whose long side exceeds this is "far larger than the model can use" and is fitted. */
export const FAR_LARGER_SIDE = 2 * MODEL_MAX_SIDE;
/** The long side of a fitted copy: more than the widest output, so no detail the model could use is lost. */
export const FIT_LONG_SIDE = 2048;

export type ImageRoute = 'data-uri' | 'upload' | 'hosted' | 'none';

export interface TransportOptions {
  /** --image-host (object storage) is configured. */
  imageHost: boolean;
  /** --public-url (a tunnel) is configured. */
  publicUrl: boolean;
  /** false when --image-fit off or LoadImage's fit param says off: refuse instead of fitting. */
  fit: boolean;
}

export interface LocalImageFacts {
  format: ImageFormat;
  width: number;
  height: number;
  bytes: number;
}

/** Bounds for a fitted copy: its long side and its size in bytes (both exclusive of nothing: "at most"). */
export interface FitTarget {
  /** The copy's long side in pixels, at most. */
  longSide: number;
  /** The copy's size in bytes, at most. */
  maxBytes: number;
}

export interface ImagePlan {
  route: ImageRoute;
  /** The largest file the route takes (for a data URI: the largest whose encoding is under the limit). */
  maxBytes: number;
  /** Present when a fitted copy is sent instead of the original. */
  fit?: FitTarget;
}

/** Largest file whose base64 data URI stays under `maxDataUriBytes` (the limit is on the encoded length). */
export function dataUriBudget(format: string, maxDataUriBytes: number): number {
  // Whole base64 groups (4 characters for 3 bytes) that fit below the limit.
  const groups = Math.floor((maxDataUriBytes - 1 - `data:image/${format};base64,`.length) / 4);
  return 3 * groups;
}

function longSide(image: LocalImageFacts): number {
  return Math.max(image.width, image.height);
}

/** Whether the pixels alone call for a copy: far larger than the model uses, or over the provider's limit. */
function tooManyPixels(image: LocalImageFacts, limits: ImageLimits): boolean {
  return longSide(image) > FAR_LARGER_SIDE || image.width >= limits.maxDimension || image.height >= limits.maxDimension;
}

function routeFor(image: LocalImageFacts, provider: string, limits: ImageLimits, options: TransportOptions): ImageRoute {
  if (options.imageHost) return 'hosted';
  if (limits.acceptsDataUri) {
    if (image.bytes <= dataUriBudget(image.format, limits.maxDataUriBytes)) return 'data-uri';
    // A fitted copy of a photo far larger than the model uses fits a data URI: no upload needed.
    if (options.fit && tooManyPixels(image, limits)) return 'data-uri';
    // Runway's uploads take the original as it is, up to 200 MB.
    if (provider === 'runway') return 'upload';
    return 'data-uri';
  }
  return options.publicUrl ? 'hosted' : 'none';
}

/** The route a local image takes to `provider`, and the copy it needs when it does not fit as it is. */
export function planLocalImage(image: LocalImageFacts, provider: string, limits: ImageLimits, options: TransportOptions): ImagePlan {
  const route = routeFor(image, provider, limits, options);
  const maxBytes =
    route === 'data-uri' ? dataUriBudget(image.format, limits.maxDataUriBytes) : route === 'upload' ? RUNWAY_UPLOAD_MAX_BYTES - 1 : limits.maxBytes - 1;
  const pixels = tooManyPixels(image, limits);
  if (!options.fit || route === 'none' || (!pixels && image.bytes <= maxBytes)) return { route, maxBytes };
  // A fitted copy may change format (JPEG, or WebP with transparency); budget for the longer data URI prefix.
  const fitBytes = route === 'data-uri' ? dataUriBudget('jpeg', limits.maxDataUriBytes) : maxBytes;
  const side = pixels ? FIT_LONG_SIDE : Math.min(longSide(image), limits.maxDimension - 1);
  return { route, maxBytes, fit: { longSide: side, maxBytes: fitBytes } };
}
