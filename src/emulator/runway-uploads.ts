import { randomBytes, randomUUID } from 'node:crypto';
import type { EmulatorState } from './http-util.js';
import { json } from './http-util.js';
import type { Reply, RouteContext } from './types.js';

/**
 * Runway's ephemeral uploads, from docs/providers.md §3 and §7: `POST /v1/uploads {filename, type:"ephemeral"}`
 * answers `{uploadUrl, fields, runwayUri}`; a multipart POST of the fields and a `file` part to uploadUrl
 * (here on the emulator, as a storage service's form-upload URL) stores the file; `runwayUri` is then a
 * promptImage for 24 hours. Unknown, unfinished or expired `runway://` URIs are refused at create.
 */

/** Runway documents uploads up to 200 MB. */
export const UPLOAD_MAX_BYTES = 200 * 1024 * 1024;
const UPLOAD_TTL_MS = 24 * 60 * 60 * 1000;
/** Bounded: an emulator is not a store. */
const MAX_UPLOADS = 64;

interface PendingUpload {
  id: string;
  filename: string;
  fields: Record<string, string>;
  runwayUri: string;
  createdAt: number;
  bytes?: Buffer;
}

export class UploadStore {
  readonly #byId = new Map<string, PendingUpload>();

  constructor(private readonly now: () => number) {}

  create(filename: string, origin: string): { uploadUrl: string; fields: Record<string, string>; runwayUri: string } {
    if (this.#byId.size >= MAX_UPLOADS) this.#byId.delete(this.#byId.keys().next().value!);
    const id = randomUUID();
    const fields = { key: `uploads/${id}/${filename}`, policy: randomBytes(24).toString('base64url') };
    const upload: PendingUpload = { id, filename, fields, runwayUri: `runway://uploads/${id}/${encodeURIComponent(filename)}`, createdAt: this.now() };
    this.#byId.set(id, upload);
    return { uploadUrl: `${origin}/_uploads/${id}`, fields, runwayUri: upload.runwayUri };
  }

  get(id: string): PendingUpload | undefined {
    return this.#byId.get(id);
  }

  /** The uploaded bytes behind a runway:// URI, or why it cannot be used. */
  resolve(uri: string): { ok: true; bytes: Buffer } | { ok: false; message: string } {
    const match = /^runway:\/\/uploads\/([0-9a-f-]{36})\//.exec(uri);
    const upload = match ? this.#byId.get(match[1]!) : undefined;
    if (!upload || upload.runwayUri !== uri) return { ok: false, message: 'promptImage is an unknown runway:// URI; upload the file through /v1/uploads first' };
    if (!upload.bytes) return { ok: false, message: 'promptImage names an upload whose file was never received' };
    if (this.now() - upload.createdAt > UPLOAD_TTL_MS) return { ok: false, message: 'promptImage names an ephemeral upload that has expired (uploads last 24 hours)' };
    return { ok: true, bytes: upload.bytes };
  }

  clear(): void {
    this.#byId.clear();
  }
}

/** POST /v1/uploads: the form-upload target for one file. */
export function createUpload(state: EmulatorState, ctx: RouteContext, body: unknown): Reply {
  const request = body as { filename?: unknown; type?: unknown } | undefined;
  const issues: { code: string; message: string; path: string[] }[] = [];
  if (typeof request?.filename !== 'string' || request.filename.length === 0 || request.filename.length > 255 || /[/\\\0]/.test(request.filename)) {
    issues.push({ code: 'invalid_type', message: 'filename must be a file name (1–255 characters, no slashes)', path: ['filename'] });
  }
  if (request?.type !== 'ephemeral') issues.push({ code: 'invalid_value', message: "Invalid option: expected 'ephemeral'", path: ['type'] });
  if (issues.length > 0) return json(400, { error: 'Validation of body failed', issues, docUrl: 'https://docs.dev.runwayml.com/api' });
  return json(200, state.uploads.create(request!.filename as string, ctx.origin));
}

/** POST /_uploads/{id}: the multipart form the storage service takes; every issued field must come back unchanged. */
export async function receiveUpload(state: EmulatorState, ctx: RouteContext, id: string): Promise<Reply> {
  const upload = state.uploads.get(id);
  if (!upload) return storageError(404, 'NoSuchUpload', 'The upload URL is unknown or has expired.');
  if (upload.bytes) return storageError(409, 'AlreadyUploaded', 'A file was already uploaded to this URL.');
  const type = ctx.req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data;/i.test(type)) return storageError(400, 'InvalidRequest', 'The upload must be multipart/form-data.');
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(ctx.body), { headers: { 'content-type': type } }).formData();
  } catch {
    return storageError(400, 'MalformedPOSTRequest', 'The body of the POST request is not well-formed multipart/form-data.');
  }
  for (const [name, value] of Object.entries(upload.fields)) {
    if (form.get(name) !== value) return storageError(403, 'AccessDenied', `Invalid according to Policy: field ${name} is missing or changed.`);
  }
  const file = form.get('file');
  if (!file || typeof file === 'string') return storageError(400, 'InvalidArgument', 'POST requires exactly one file upload per request (field "file").');
  if (file.size > UPLOAD_MAX_BYTES) return storageError(400, 'EntityTooLarge', `Your proposed upload exceeds the maximum allowed size of ${UPLOAD_MAX_BYTES} bytes.`);
  upload.bytes = Buffer.from(await file.arrayBuffer());
  return { status: 204 };
}

/** Storage services answer in XML. */
function storageError(status: number, code: string, message: string): Reply {
  return { status, headers: { 'Content-Type': 'application/xml' }, text: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>\n` };
}
