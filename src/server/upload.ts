import type { IncomingMessage, ServerResponse } from 'node:http';
import { storeStaged, safeFileName, type FileRoots } from './files.js';
import { HttpError, sendJson } from './http-util.js';
import { discard, receiveForm } from './multipart.js';
import { ImageHeaderError, readImageHeader } from '../nodes/image-header.js';

/** POST /upload/image: ComfyUI's multipart form `image`, `type`, `subfolder`, `overwrite`, and our `check`. */

export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

export async function postUpload(request: IncomingMessage, response: ServerResponse, roots: FileRoots): Promise<void> {
  // Streamed to a staging file, never held in memory whole (20 concurrent 20 MB uploads took 1.5 GB).
  const { fields, file } = await receiveForm(request, { fileField: 'image', maxFileBytes: MAX_UPLOAD_BYTES, stagingDir: roots.input });
  try {
    const name = safeFileName(file.name);
    if (!name) throw new HttpError(400, 'The image has no usable file name');
    const type = fields.type ?? 'input';
    if (type !== 'input' && type !== 'temp' && type !== 'output') throw new HttpError(400, 'type must be input, output or temp');
    const subfolder = fields.subfolder ?? '';
    // `check=image` (the editor sends it): the same header check as LoadImage/ValidateImage, at once,
    // so a text file named .png is refused on upload, not at Run. ComfyUI clients do not send it.
    if (fields.check === 'image') {
      try {
        await readImageHeader(file.path);
      } catch (error) {
        if (error instanceof ImageHeaderError) throw new HttpError(400, `${name} is not an image that can be used: ${error.message}`);
        throw error;
      }
    }
    const stored = await storeStaged(roots[type], subfolder, name, file, fields.overwrite === 'true');
    if (!stored) throw new HttpError(403, 'subfolder not allowed');
    sendJson(response, 200, { name: stored, subfolder, type });
  } finally {
    await discard(file.path);
  }
}
