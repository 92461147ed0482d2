import type { IncomingMessage, ServerResponse } from 'node:http';
import { storeUpload, safeFileName, type FileRoots } from './files.js';
import { HttpError, readBody, sendJson } from './http-util.js';
import { ImageHeaderError, parseImageHeader } from '../nodes/image-header.js';

/** POST /upload/image: ComfyUI's multipart form `image`, `type`, `subfolder`, `overwrite`, and our `check`. */

export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
/** Room for the multipart boundaries and the small text fields around the file. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

export async function postUpload(request: IncomingMessage, response: ServerResponse, roots: FileRoots): Promise<void> {
  const contentType = request.headers['content-type'] ?? '';
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) throw new HttpError(400, 'Expected a multipart/form-data body');
  const body = await readBody(request, MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES);
  // undici's Request does the multipart parsing; the body is already bounded above.
  const form = await new Request('http://127.0.0.1/', { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(body) }).formData().catch(() => {
    throw new HttpError(400, 'The multipart body could not be parsed');
  });
  const image = form.get('image');
  if (image === null || typeof image === 'string') throw new HttpError(400, 'The form has no "image" file');
  if (image.size > MAX_UPLOAD_BYTES) throw new HttpError(413, `The image is larger than ${MAX_UPLOAD_BYTES} bytes`);
  const name = safeFileName(image.name);
  if (!name) throw new HttpError(400, 'The image has no usable file name');
  const type = String(form.get('type') ?? 'input');
  if (type !== 'input' && type !== 'temp' && type !== 'output') throw new HttpError(400, 'type must be input, output or temp');
  const subfolder = String(form.get('subfolder') ?? '');
  const overwrite = String(form.get('overwrite') ?? '') === 'true';
  const bytes = new Uint8Array(await image.arrayBuffer());
  // `check=image` (the editor sends it): the same header check as LoadImage/ValidateImage, at once,
  // so a text file named .png is refused on upload, not at Run. ComfyUI clients do not send it.
  if (String(form.get('check') ?? '') === 'image') {
    try {
      parseImageHeader(bytes, bytes.length);
    } catch (error) {
      if (error instanceof ImageHeaderError) throw new HttpError(400, `${name} is not an image that can be used: ${error.message}`);
      throw error;
    }
  }
  const stored = await storeUpload(roots[type], subfolder, name, bytes, overwrite);
  if (!stored) throw new HttpError(403, 'subfolder not allowed');
  sendJson(response, 200, { name: stored, subfolder, type });
}
