import { UsageError } from './args.js';
import { parseImageHost, s3Endpoint } from '../app/image-host-s3.js';
import { checkPublicUrl } from '../app/public-url.js';

/** The options that say how local images reach providers, shared by run, validate and serve. */

export const IMAGE_OPTIONS = {
  'public-url': { type: 'string' },
  listen: { type: 'string' },
  'image-host': { type: 'string' },
  'image-fit': { type: 'string' },
} as const;

export const IMAGE_USAGE = '[--image-host s3://bucket/prefix] [--image-fit auto|off] [--public-url https://… [--listen HOST:PORT]]';

export interface ImageOptions {
  publicUrl?: string;
  listen?: string;
  imageHost?: string;
  imageFit?: 'auto' | 'off';
}

/** Checked before anything runs: each problem is one sentence and exit 2. REELGRAPH_IMAGE_HOST stands in for --image-host. */
export function imageOptions(values: { 'public-url'?: string; listen?: string; 'image-host'?: string; 'image-fit'?: string }, env: NodeJS.ProcessEnv = process.env): ImageOptions {
  const options: ImageOptions = {};
  try {
    if (values['public-url'] !== undefined) {
      checkPublicUrl(values['public-url']);
      options.publicUrl = values['public-url'];
    }
    const imageHost = values['image-host'] ?? (env.REELGRAPH_IMAGE_HOST || undefined);
    if (imageHost !== undefined) {
      parseImageHost(imageHost);
      s3Endpoint(env);
      options.imageHost = imageHost;
    }
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.listen !== undefined) options.listen = values.listen;
  const fit = values['image-fit'];
  if (fit !== undefined && fit !== 'auto' && fit !== 'off') throw new UsageError(`--image-fit must be auto or off, got ${JSON.stringify(fit)}`);
  if (fit !== undefined) options.imageFit = fit;
  return options;
}
