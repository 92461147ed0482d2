import { z } from 'zod';
import { type ValidationContext } from '../engine/define-node.js';
import { defineNode } from './services.js';
import { InputError, type Issue } from '../engine/errors.js';
import { ImageHeaderError, readImageHeader, type ImageHeader } from './image-header.js';
import { sha256InputFile } from './content-hash.js';
import { nodeIssue, quote } from './issues.js';
import { confineExisting, isRemoteUrl } from './paths.js';
import { PrivateAddressError } from '../http/public-address.js';
import { allowsPrivateUrls, fetchableUrlProblem, PRIVATE_HOST_PROBLEM, urlProblem } from './url-guard.js';
import { probeRemoteImage } from './remote-image.js';
import type { ImageRef } from './values.js';

const TYPE = 'LoadImage';

const params = z.object({
  image: z.string().describe('A file in the input folder (relative path) or an https URL.'),
  fit: z
    .enum(['auto', 'off'])
    .default('auto')
    .describe("auto: a local image too large for the provider is sent as a fitted copy (downscaled, re-encoded); off: it is refused, as with --image-fit off."),
});

/** The outcome of reading a local image: its confined path and header, or why it cannot be used. */
export type LocalImage = { ok: true; path: string; header: ImageHeader } | { ok: false; rule: string };

/** Confines `name` to the input folder and reads its header; shared with ValidateImage's validate(). */
export async function inspectLocalImage(inputDir: string, name: string): Promise<LocalImage> {
  const confined = await confineExisting(inputDir, name);
  if (!confined.ok) return confined;
  try {
    return { ok: true, path: confined.path, header: await readImageHeader(confined.path) };
  } catch (error) {
    if (error instanceof ImageHeaderError) return { ok: false, rule: `is not a readable image: ${error.message}` };
    return { ok: false, rule: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
  }
}

/** inspectLocalImage, once per validation run for each name (a big workflow uses one image many times). */
export function inspectLocalImageOnce(ctx: ValidationContext, name: string): Promise<LocalImage> {
  const inspect = () => inspectLocalImage(ctx.files.inputDir, name);
  return ctx.shared ? ctx.shared(`LoadImage:${name}`, inspect) : inspect();
}

async function validateLoadImage(image: string, ctx: ValidationContext): Promise<Issue[]> {
  const where = { nodeId: ctx.nodeId, nodeType: TYPE };
  if (isRemoteUrl(image)) {
    const problem = urlProblem(image, allowsPrivateUrls(ctx.env));
    if (!problem) return [];
    return [nodeIssue(where, 'image', 'custom_validation_failed', 'Invalid image URL', `${quote(image)} ${problem}`)];
  }
  const local = await inspectLocalImageOnce(ctx, image);
  if (local.ok) return [];
  return [nodeIssue(where, 'image', 'custom_validation_failed', 'Invalid image', `${quote(image)} ${local.rule}`)];
}

/** What identifies the image: its URL, or the content hash of the local file (the image's ImageRef carries the same). */
export async function imageIdentity(image: string, inputDir: string): Promise<string> {
  if (isRemoteUrl(image)) return image;
  const confined = await confineExisting(inputDir, image);
  if (!confined.ok) throw new InputError(`image ${quote(image)} ${confined.rule}`);
  return sha256InputFile(confined.path);
}

function toRef(name: string, header: ImageHeader, location: { path: string; sha256: string } | { url: string }, fit: 'auto' | 'off'): ImageRef {
  const base = { name, format: header.format, width: header.width, height: header.height, bytes: header.bytes, fit };
  if ('url' in location) return { source: 'url', url: location.url, ...base };
  return { source: 'file', path: location.path, sha256: location.sha256, ...base };
}

export const loadImage = defineNode({
  type: TYPE,
  version: 1,
  displayName: 'Load Image',
  category: 'image',
  description: 'Loads an image from the input folder or an https URL; reads only its header.',
  inputs: {},
  params,
  widgets: { image: { imageUpload: true, tooltip: 'File in the input folder, or an https URL' } },
  outputs: [{ name: 'IMAGE', type: 'IMAGE' }],
  validate: (p, ctx) => validateLoadImage(p.image, ctx),
  fingerprint: (p, ctx) => imageIdentity(p.image, ctx.files.inputDir),
  async run(_inputs, p, ctx) {
    if (isRemoteUrl(p.image)) {
      // Resolved now, just before the fetch: a name may point at 127.0.0.1 however public it looks.
      const allowPrivate = allowsPrivateUrls(ctx.env ?? process.env);
      const problem = await fetchableUrlProblem(p.image, allowPrivate);
      if (problem) throw new InputError(`image ${quote(p.image)} ${problem}`);
      let header: ImageHeader;
      try {
        // The connection vets its own DNS answer again: a name that rebinds to 127.0.0.1 after the check is refused.
        header = await probeRemoteImage(ctx.services.http, p.image, ctx.signal, !allowPrivate);
      } catch (error) {
        if (error instanceof ImageHeaderError) throw new InputError(`image ${quote(p.image)} is not a readable image: ${error.message}`);
        if (error instanceof PrivateAddressError) throw new InputError(`image ${quote(p.image)} ${PRIVATE_HOST_PROBLEM}`);
        throw error;
      }
      return { IMAGE: toRef(p.image, header, { url: p.image }, p.fit) };
    }
    const local = await inspectLocalImage(ctx.files.inputDir, p.image);
    if (!local.ok) throw new InputError(`image ${quote(p.image)} ${local.rule}`);
    const sha256 = await sha256InputFile(local.path);
    return { IMAGE: toRef(p.image, local.header, { path: local.path, sha256 }, p.fit) };
  },
});
