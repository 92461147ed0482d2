import { openAsBlob } from 'node:fs';
import { FormData, fetch } from 'undici';
import { z } from 'zod';
import { ProviderHttpError } from '../engine/errors.js';
import type { ProviderCall } from './requests.js';
import { describeBody, joinUrl, parseOrThrow, providerError, send } from './requests.js';
import { RUNWAY_API_VERSION } from './catalog.js';

/**
 * Runway's ephemeral uploads (docs/providers.md §3), as the official SDK does them:
 * `POST /v1/uploads {filename, type: "ephemeral"}` → `{uploadUrl, fields, runwayUri}`, then a multipart
 * POST of every field and then the file to `uploadUrl`; `runwayUri` (`runway://…`) is then a promptImage.
 */

/** Runway takes images up to 200 MB through uploads (16 MB by URL, 5 MB as a data URI). */
export const RUNWAY_UPLOAD_MAX_BYTES = 200 * 1024 * 1024;
/** How long Runway keeps an ephemeral upload. */
export const RUNWAY_UPLOAD_TTL_MS = 24 * 60 * 60 * 1000;

const UploadResponseSchema = z.object({
  uploadUrl: z.string().url(),
  fields: z.record(z.string(), z.string()).default({}),
  runwayUri: z.string().startsWith('runway://'),
});

export interface UploadFile {
  path: string;
  /** The name Runway records (the file's own name). */
  filename: string;
  contentType: string;
}

/** Uploads one file; returns its `runway://` URI. */
export async function uploadEphemeral(call: ProviderCall, baseUrl: string, file: UploadFile, signal?: AbortSignal): Promise<string> {
  const res = await send(call, {
    method: 'POST',
    url: joinUrl(baseUrl, '/v1/uploads'),
    headers: { 'X-Runway-Version': RUNWAY_API_VERSION },
    kind: 'create',
    body: JSON.stringify({ filename: file.filename, type: 'ephemeral' }),
    ...(signal ? { signal } : {}),
  });
  if (res.status < 200 || res.status >= 300) throw providerError(call, res.status, `upload refused: ${describeBody(res.body)}`, res.body);
  const upload = parseOrThrow(call, UploadResponseSchema, res, 'upload');
  // The fields first, the file last: storage services that take form uploads read the policy before the bytes.
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append('file', await openAsBlob(file.path, { type: file.contentType }), file.filename);
  const posted = await fetch(upload.uploadUrl, { method: 'POST', body: form, ...(signal ? { signal } : {}) });
  const text = await posted.text();
  if (!posted.ok) {
    throw new ProviderHttpError(call.info.id, posted.status, `${call.info.displayName} upload storage returned HTTP ${posted.status}: ${text.slice(0, 200)}`);
  }
  return upload.runwayUri;
}
