import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, realpath, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { HttpError } from './http-util.js';
import { emptyRecord } from '../engine/records.js';

/**
 * Multipart uploads streamed to disk: the file part goes to a private staging file (0600, created exclusively,
 * a dot name no image list shows) while its size is counted, so 20 concurrent 20 MB uploads cost disk, not RAM.
 * Over the cap the upload is refused at once and the staging file deleted. ComfyUI clients send the file before
 * the `type`/`subfolder` fields, so the destination is not known while the file streams: it is staged in the
 * input folder (the usual destination, and on disk rather than a RAM-backed /tmp) and moved by `storeStaged`.
 */

export interface StagedFile {
  /** The staging file; the caller moves or deletes it (`discard`). */
  path: string;
  /** The client's file name, as sent. */
  name: string;
  bytes: number;
  sha256: string;
}

export interface ReceivedForm {
  /** Text fields (null prototype: a field named `__proto__` is just a field). */
  fields: Record<string, string>;
  file: StagedFile;
}

const MAX_FIELDS = 32;
const MAX_FIELD_BYTES = 64 * 1024;
/** Room for the boundaries, part headers and the small fields around the file. */
const OVERHEAD_BYTES = MAX_FIELDS * 1024 + MAX_FIELD_BYTES;

/** A fresh staging path in `folder` (created if missing). */
export async function stagingPath(folder: string): Promise<string> {
  await mkdir(folder, { recursive: true });
  return join(await realpath(folder), `.upload-${randomUUID()}.partial`);
}

/** Deletes a staging file; missing is fine. */
export function discard(path: string): Promise<void> {
  return rm(path, { force: true });
}

/**
 * Reads a multipart/form-data request: text fields into memory (bounded), the file field `fileField` into a
 * staging file under `stagingDir`, refusing (413) a file over `maxFileBytes` while it streams.
 */
export async function receiveForm(request: IncomingMessage, options: { fileField: string; maxFileBytes: number; stagingDir: string }): Promise<ReceivedForm> {
  const contentType = request.headers['content-type'] ?? '';
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) throw new HttpError(400, 'Expected a multipart/form-data body');
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > options.maxFileBytes + OVERHEAD_BYTES) {
    throw new HttpError(413, `The image is larger than ${options.maxFileBytes} bytes`);
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: request.headers,
      // One byte over the cap tells "too big" from "exactly the cap".
      limits: { fileSize: options.maxFileBytes + 1, files: 4, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, parts: MAX_FIELDS + 4 },
    });
  } catch {
    throw new HttpError(400, 'The multipart body could not be parsed');
  }
  const fields: Record<string, string> = emptyRecord<string>();
  const staging = await stagingPath(options.stagingDir);
  let file: StagedFile | undefined;
  let writing: Promise<void> | undefined;
  const abort = new AbortController();

  const parsed = new Promise<void>((done, fail) => {
    const refuse = (error: HttpError) => {
      abort.abort(error);
      fail(error);
    };
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) return refuse(new HttpError(413, `The form field "${name}" is longer than ${MAX_FIELD_BYTES} bytes`));
      fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      if (name !== options.fileField || file !== undefined) return void stream.resume();
      const hash = createHash('sha256');
      const staged: StagedFile = { path: staging, name: info.filename ?? '', bytes: 0, sha256: '' };
      file = staged;
      stream.on('limit', () => refuse(new HttpError(413, `The image is larger than ${options.maxFileBytes} bytes`)));
      const count = new Transform({
        transform(chunk: Buffer, _encoding, next) {
          staged.bytes += chunk.length;
          hash.update(chunk);
          next(null, chunk);
        },
      });
      writing = pipeline(stream, count, createWriteStream(staging, { flags: 'wx', mode: 0o600 }), { signal: abort.signal }).then(() => {
        staged.sha256 = hash.digest('hex');
      });
      // A failed write (disk full) is the request's failure; the abort's own rejection is already reported.
      writing.catch((error: unknown) => (abort.signal.aborted ? undefined : refuse(error instanceof HttpError ? error : new HttpError(500, 'The upload could not be stored'))));
    });
    parser.on('filesLimit', () => undefined);
    parser.on('partsLimit', () => refuse(new HttpError(413, 'The form has too many parts')));
    parser.on('fieldsLimit', () => refuse(new HttpError(413, 'The form has too many fields')));
    parser.on('error', () => refuse(new HttpError(400, 'The multipart body could not be parsed')));
    parser.on('close', () => done());
    request.on('aborted', () => refuse(new HttpError(400, 'The upload was interrupted')));
  });
  request.pipe(parser);
  try {
    await parsed;
    await writing;
  } catch (error) {
    request.unpipe(parser);
    await writing?.catch(() => undefined);
    await discard(staging);
    throw error;
  }
  if (!file) {
    await discard(staging);
    throw new HttpError(400, `The form has no "${options.fileField}" file`);
  }
  return { fields, file };
}
