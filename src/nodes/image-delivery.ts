import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { FilesContext } from '../engine/define-node.js';
import { InputError } from '../engine/errors.js';
import type { ProviderInfo } from '../providers/provider.js';
import { checkImageLimits, targetFor } from './image-limits.js';
import { fitImage, fitLine, type FittedImage } from './image-fit.js';
import { planLocalImage, type ImageRoute, type TransportOptions } from './image-transport.js';
import { quote } from './issues.js';
import type { PackContext } from './services.js';
import type { ImageRef } from './values.js';

/**
 * promptImage for an image: a URL as given, or a local file (fitted first when it does not fit)
 * sent the way planLocalImage chose: a data URI, a Runway upload, or a hosted URL.
 */

export interface DeliveredImage {
  promptImage: string;
  route: ImageRoute | 'url';
  /** The one-line account of the fitted copy, for the user and the MP4's provenance. */
  fit?: string;
}

export const IMAGE_CONTENT_TYPES: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

/** The transport options a run has: from the run's files context and LoadImage's own fit param. */
export function transportOptions(files: FilesContext, loadImageFit: unknown): TransportOptions {
  return { imageHost: Boolean(files.imageHost), publicUrl: Boolean(files.publicUrl), fit: files.imageFit !== 'off' && loadImageFit !== 'off' };
}

export async function deliverImage(image: ImageRef, info: ProviderInfo, ctx: PackContext): Promise<DeliveredImage> {
  if (image.source === 'url' && image.url) return { promptImage: image.url, route: 'url' };
  if (!image.path) throw new InputError(`image ${quote(image.name)} has neither a URL nor a local path`);
  const options = transportOptions(ctx.files, image.fit);
  const plan = planLocalImage(image, info.id, info.limits, options);
  if (plan.route === 'none') return { promptImage: await ctx.services.hostFile(image.path), route: 'hosted' };
  let file: { path: string; format: string; bytes: number } = { path: image.path, format: image.format, bytes: image.bytes };
  let fit: string | undefined;
  if (plan.fit) {
    const fitted: FittedImage = await fitImage(image.path, image.sha256 ?? basename(image.path), plan.fit, ctx.services.images?.fitDir ?? join(tmpdir(), 'reelgraph-fitted'));
    fit = fitLine(basename(image.name), image, fitted, info.id);
    (ctx.services.images?.notice ?? ctx.log.info)(fit);
    file = fitted;
  } else {
    // Refused here too when ValidateImage was left out of the graph: nothing is sent that cannot fit.
    const failures = checkImageLimits({ ...image, source: 'file' }, targetFor({ provider: info.id }), options);
    if (failures.length > 0) throw new InputError(failures.map((f) => `image ${quote(image.name)}: ${f.details}`).join('; '));
  }
  const contentType = IMAGE_CONTENT_TYPES[file.format];
  if (!contentType) throw new InputError(`image ${quote(image.name)}: format ${file.format} cannot be sent`);
  switch (plan.route) {
    case 'data-uri':
      return { promptImage: `data:${contentType};base64,${(await readFile(file.path)).toString('base64')}`, route: plan.route, ...(fit ? { fit } : {}) };
    case 'upload': {
      if (!ctx.services.images) throw new Error('this run cannot upload images (no image services)');
      const filename = basename(file.path === image.path ? image.name : file.path);
      const sha256 = file.path === image.path ? (image.sha256 ?? '') : basename(file.path);
      const uri = await ctx.services.images.upload(info.id, { path: file.path, sha256, filename, contentType }, ctx.signal);
      return { promptImage: uri, route: plan.route, ...(fit ? { fit } : {}) };
    }
    case 'hosted':
      return { promptImage: await ctx.services.hostFile(file.path), route: plan.route, ...(fit ? { fit } : {}) };
  }
}
