import { PROVIDERS, PROVIDER_IDS } from '../providers/catalog.js';
import type { ImageLimits, ModelId, ProviderId } from '../providers/provider.js';
import type { ImageFormat } from './values.js';
import { planLocalImage, type TransportOptions } from './image-transport.js';

/**
 * The provider/model an image is checked for, and the checks themselves.
 * Pure functions: validate() and run() share them.
 */

export interface LimitTarget {
  /** For messages and ImageRef.validatedFor, e.g. "runway gen4_turbo" or "every provider". */
  provider: string;
  model: string;
  label: string;
  limits: ImageLimits;
}

export interface ImageFacts {
  format: ImageFormat;
  width: number;
  height: number;
  bytes: number;
  /** Local files travel as data URIs where the provider accepts them. */
  source: 'file' | 'url';
}

/** One failed limit: the field is always "image". */
export interface LimitFailure {
  message: string;
  details: string;
}

const MB = 1024 * 1024;

/** The target a downstream RunwayI2V's params select (its param defaults apply when absent). */
export function targetFor(params: Record<string, unknown>): LimitTarget {
  const provider = (typeof params.provider === 'string' && params.provider in PROVIDERS ? params.provider : 'runway') as ProviderId;
  const model = (typeof params.model === 'string' ? params.model : 'gen4_turbo') as ModelId;
  return { provider, model, label: `${provider} ${model}`, limits: PROVIDERS[provider].limits };
}

/** The strictest combination of every provider's limits, for an image with no RunwayI2V downstream. */
export function strictestTarget(): LimitTarget {
  const all = PROVIDER_IDS.map((id) => PROVIDERS[id].limits);
  const limits: ImageLimits = {
    formats: all.map((l) => l.formats).reduce((a, b) => a.filter((f) => b.includes(f))),
    maxBytes: Math.min(...all.map((l) => l.maxBytes)),
    maxDataUriBytes: Math.min(...all.map((l) => l.maxDataUriBytes)),
    maxDimension: Math.min(...all.map((l) => l.maxDimension)),
    minAspect: Math.max(...all.map((l) => l.minAspect)),
    maxAspect: Math.min(...all.map((l) => l.maxAspect)),
    acceptsDataUri: all.some((l) => l.acceptsDataUri),
  };
  return { provider: 'any', model: 'any', label: 'every provider', limits };
}

/** Encoded length of `data:image/<fmt>;base64,<payload>`: Runway's 5 MB data-URI limit is on this length. */
export function dataUriLength(format: string, bytes: number): number {
  return `data:image/${format};base64,`.length + 4 * Math.ceil(bytes / 3);
}

function megabytes(bytes: number): string {
  return `${(bytes / MB).toFixed(2)} MB`;
}

/** "1:2" for 0.5, "2:1" for 2. */
function ratioText(aspect: number): string {
  return aspect < 1 ? `1:${+(1 / aspect).toFixed(2)}` : `${+aspect.toFixed(2)}:1`;
}

/** Today's rules when fitting is off: no local image is resized, so its bytes and pixels must fit as they are. */
const AS_IS: TransportOptions = { imageHost: false, publicUrl: false, fit: false };

function checkBytes(image: ImageFacts, target: LimitTarget, transport: TransportOptions): LimitFailure | undefined {
  const { limits, label } = target;
  if (image.source === 'file') {
    const plan = planLocalImage(image, target.provider, limits, transport);
    if (plan.fit || image.bytes <= plan.maxBytes) return undefined;
    if (plan.route === 'data-uri') {
      const length = dataUriLength(image.format, image.bytes);
      return {
        message: 'Image too large for a data URI',
        details: `data URI of ${megabytes(length)} (file ${megabytes(image.bytes)}) must be under ${megabytes(limits.maxDataUriBytes)} for ${label}; pass an https URL to LoadImage for up to ${megabytes(limits.maxBytes)}`,
      };
    }
    const how = plan.route === 'upload' ? ' through uploads' : '';
    return { message: 'Image file too large', details: `${megabytes(image.bytes)} must be under ${megabytes(plan.maxBytes + 1)} for ${label}${how}` };
  }
  if (image.bytes < limits.maxBytes) return undefined;
  return { message: 'Image file too large', details: `${megabytes(image.bytes)} must be under ${megabytes(limits.maxBytes)} for ${label}` };
}

/** Whether a local file's pixels are left to fitting rather than refused. */
function fitsPixels(image: ImageFacts, target: LimitTarget, transport: TransportOptions): boolean {
  return image.source === 'file' && planLocalImage(image, target.provider, target.limits, transport).fit !== undefined;
}

/**
 * Every limit the image breaks for the target; empty when it fits. Format and aspect ratio are always the
 * original's; bytes and pixels of a local file are left to fitting unless `transport.fit` is false.
 */
export function checkImageLimits(image: ImageFacts, target: LimitTarget, transport: TransportOptions = AS_IS): LimitFailure[] {
  const { limits, label } = target;
  const failures: LimitFailure[] = [];
  if (!(limits.formats as readonly string[]).includes(image.format)) {
    const accepted = limits.formats.map((f) => (f === 'webp' ? 'WebP' : f.toUpperCase())).join(', ');
    failures.push({ message: 'Unsupported image format', details: `format ${image.format} is not accepted by ${label} (accepted: ${accepted})` });
  }
  const bytes = checkBytes(image, target, transport);
  if (bytes) failures.push(bytes);
  const fitted = fitsPixels(image, target, transport);
  for (const [side, value] of [['width', image.width], ['height', image.height]] as const) {
    if (value >= limits.maxDimension && !fitted) {
      failures.push({ message: 'Image too large', details: `${side} ${value} px must be under ${limits.maxDimension} px for ${label}` });
    }
  }
  const aspect = image.width / image.height;
  if (!(aspect > limits.minAspect && aspect < limits.maxAspect)) {
    failures.push({
      message: 'Unsupported aspect ratio',
      details: `aspect ratio ${aspect.toFixed(2)} (${image.width}×${image.height}) is outside ${ratioText(limits.minAspect)}..${ratioText(limits.maxAspect)} (exclusive) for ${label}`,
    });
  }
  return failures;
}
