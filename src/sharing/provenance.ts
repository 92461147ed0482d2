import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { PROVIDERS } from '../providers/catalog.js';
import { scrubValue } from '../http/secrets.js';
import { RuntimeError, WorkflowParseError } from '../engine/errors.js';
import { MAX_SCAN_BYTES, Mp4LimitError, UTF8_TYPE, boxAt, childBoxes, readMdtaTags, topLevelBoxes as readBoxHeaders, workflowTagsOf, type Mp4Box } from './mp4-tags.js';

/**
 * Provenance in MP4 outputs, the way ComfyUI's SaveVideo writes it through PyAV
 * (`movflags=use_metadata_tags`): `moov/udta/meta` with an `mdta` handler, a `keys`
 * box naming "workflow" and "prompt", and an `ilst` holding their JSON strings.
 * We edit boxes rather than remux: mdat is copied byte for byte, and when moov sits
 * before mdat (fast start) the chunk offsets are shifted by the change in moov size.
 */

export interface WorkflowMetadata {
  workflow?: unknown;
  prompt?: unknown;
  /** The mapped workflow that ran, beside the one the user opened (`workflow`). */
  reelgraph_workflow?: unknown;
}

const COPY_CHUNK_BYTES = 1024 * 1024;
/** The file is not an MP4 we can read or edit. */
export class Mp4FormatError extends RuntimeError {
  override name = 'Mp4FormatError';
  override exitCode = 2;
}

/** Writes `workflow` and `prompt` into the MP4's metadata (secrets scrubbed first), via a temp file and rename. */
export async function embedWorkflowMetadata(mp4Path: string, meta: WorkflowMetadata, options: { env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  const env = options.env ?? process.env;
  const entries = new Map<string, string>();
  if (meta.workflow !== undefined) entries.set('workflow', scrubbedJson(meta.workflow, env));
  if (meta.prompt !== undefined) entries.set('prompt', scrubbedJson(meta.prompt, env));
  if (meta.reelgraph_workflow !== undefined) entries.set('reelgraph_workflow', scrubbedJson(meta.reelgraph_workflow, env));
  const file = await open(mp4Path, 'r');
  const tempPath = `${mp4Path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const { boxes, fileSize } = await topLevelBoxes(file).catch((error: unknown) => {
      throw error instanceof Mp4LimitError ? new Mp4FormatError(`Video "${mp4Path}" ${error.message}.`, { cause: error }) : error;
    });
    const moov = findMoov(boxes, mp4Path);
    const oldMoov = await readBox(file, moov);
    let newMoov = rebuildMoov(oldMoov, entries);
    const delta = newMoov.length - oldMoov.length;
    // Chunk offsets point into mdat; they move only when moov is in front of it.
    if (delta !== 0 && boxes.some((box) => box.type === 'mdat' && box.start > moov.start)) {
      // Fragment headers may hold absolute offsets we do not rewrite; leave such files as they are.
      if (boxes.some((box) => box.type === 'moof')) throw new Mp4FormatError(`"${mp4Path}" is a fragmented MP4; metadata is not added to it.`);
      newMoov = shiftChunkOffsets(newMoov, delta, mp4Path);
    }
    await writeReplaced(file, tempPath, moov, newMoov, fileSize);
    await rename(tempPath, mp4Path);
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  } finally {
    await file.close();
  }
}

/** The embedded workflow and prompt (keys matched case-insensitively), or an empty object. */
export async function readWorkflowMetadata(mp4Path: string): Promise<WorkflowMetadata> {
  const file = await open(mp4Path, 'r');
  try {
    const { boxes } = await topLevelBoxes(file);
    const moov = findMoov(boxes, mp4Path);
    return workflowTagsOf(readMdtaTags(await readBox(file, moov)));
  } catch (error) {
    // The video names itself in the one sentence the user sees.
    if (error instanceof Mp4LimitError) throw new Mp4FormatError(`Video "${mp4Path}" ${error.message}.`, { cause: error });
    if (error instanceof WorkflowParseError) throw new WorkflowParseError(`Video "${mp4Path}": ${error.message}`, { cause: error });
    throw error;
  } finally {
    await file.close();
  }
}

/** Video files ComfyUI's frontend also reads workflows from. */
export function isVideoPath(path: string): boolean {
  return /\.(mp4|mov|m4v)$/i.test(path);
}

/**
 * The workflow embedded in a video: the one the user opened (the UI workflow, else the API prompt), or with
 * `which: 'mapped'` the one that ran after mapping. @throws WorkflowParseError when there is none
 */
export async function readEmbeddedWorkflow(mp4Path: string, which: 'opened' | 'mapped' = 'opened'): Promise<unknown> {
  const meta = await readWorkflowMetadata(mp4Path);
  if (which === 'mapped' && meta.reelgraph_workflow === undefined) {
    throw new WorkflowParseError(`Video "${mp4Path}" has no mapped workflow ("reelgraph_workflow" metadata); run it without --embedded mapped.`);
  }
  const json = which === 'mapped' ? meta.reelgraph_workflow : (meta.workflow ?? meta.prompt);
  if (json === undefined) throw new WorkflowParseError(`Video "${mp4Path}" has no embedded workflow (no "workflow" or "prompt" metadata).`);
  return json;
}

/** A deep copy without credential-named fields and with any provider key from `env` blanked. */
/**
 * Every SaveVideo of a run embeds the same workflow: scrub and serialise it once per workflow
 * object (a 600-node workflow saved 200 times otherwise costs seconds of CPU in the middle of a run).
 */
const scrubbed = new WeakMap<object, { env: NodeJS.ProcessEnv; json: string }>();

function scrubbedJson(value: unknown, env: NodeJS.ProcessEnv): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(scrubSecrets(value, env));
  const hit = scrubbed.get(value);
  if (hit && hit.env === env) return hit.json;
  const json = JSON.stringify(scrubSecrets(value, env));
  scrubbed.set(value, { env, json });
  return json;
}

export function scrubSecrets(value: unknown, env: NodeJS.ProcessEnv = process.env): unknown {
  const keys = Object.values(PROVIDERS)
    .map((info) => env[info.keyEnv])
    .filter((key): key is string => typeof key === 'string');
  return scrubValue(value, keys);
}

function findMoov(boxes: Mp4Box[], path: string): Mp4Box {
  const moov = boxes.find((box) => box.type === 'moov');
  if (!moov) throw new Mp4FormatError(`"${path}" is not an MP4 file with a movie header (no moov box).`);
  if (moov.size > MAX_SCAN_BYTES) throw new Mp4FormatError(`"${path}" has a movie header larger than 64 MiB.`);
  return moov;
}

async function topLevelBoxes(file: FileHandle): Promise<{ boxes: Mp4Box[]; fileSize: number }> {
  const fileSize = (await file.stat()).size;
  const read = async (offset: number, length: number): Promise<Uint8Array> => {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await file.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  };
  return { boxes: await readBoxHeaders(read, fileSize), fileSize };
}

async function readBox(file: FileHandle, box: Mp4Box): Promise<Buffer> {
  const buf = Buffer.alloc(box.size);
  await file.read(buf, 0, box.size, box.start);
  return buf;
}

function makeBox(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

function u32(...values: number[]): Buffer {
  const buf = Buffer.alloc(4 * values.length);
  values.forEach((value, i) => buf.writeUInt32BE(value, i * 4));
  return buf;
}

/** moov with udta/meta replaced by one holding the existing tags merged with `entries`. */
function rebuildMoov(moov: Buffer, entries: Map<string, string>): Buffer {
  const tags = readMdtaTags(moov);
  for (const name of [...tags.keys()]) if (entries.has(name.toLowerCase())) tags.delete(name);
  for (const [name, value] of entries) tags.set(name, value);
  const root = boxAt(moov, 0, moov.length);
  if (!root) throw new Mp4FormatError('The movie header is malformed.');
  const kids = childBoxes(moov, root.headerSize, moov.length);
  const udta = kids.find((box) => box.type === 'udta');
  const udtaKids = udta ? childBoxes(moov, udta.start + udta.headerSize, udta.start + udta.size).filter((box) => box.type !== 'meta') : [];
  const newUdta = makeBox('udta', ...udtaKids.map((box) => slice(moov, box)), buildMeta(tags));
  const rest = kids.filter((box) => box.type !== 'udta').map((box) => slice(moov, box));
  return makeBox('moov', ...rest, newUdta);
}

function slice(buf: Buffer, box: Mp4Box): Buffer {
  return buf.subarray(box.start, box.start + box.size);
}

function buildMeta(tags: Map<string, string>): Buffer {
  const hdlr = makeBox('hdlr', u32(0, 0), Buffer.from('mdta', 'latin1'), u32(0, 0, 0), Buffer.from([0]));
  const names = [...tags.keys()];
  const keyEntries = names.map((name) => makeBox('mdta', Buffer.from(name, 'utf8')));
  const keys = makeBox('keys', u32(0, names.length), ...keyEntries);
  const items = names.map((name, i) => {
    const data = makeBox('data', u32(UTF8_TYPE, 0), Buffer.from(tags.get(name) ?? '', 'utf8'));
    const item = makeBox('____', data);
    item.writeUInt32BE(i + 1, 4); // ilst items are typed by their 1-based key index.
    return item;
  });
  return makeBox('meta', u32(0), hdlr, keys, makeBox('ilst', ...items));
}

const CONTAINERS = new Set(['trak', 'mdia', 'minf', 'stbl']);

/** Adds `delta` to every stco/co64 entry under moov (in place on a copy). */
function shiftChunkOffsets(moov: Buffer, delta: number, path: string): Buffer {
  const copy = Buffer.from(moov);
  const visit = (start: number, end: number) => {
    for (const box of childBoxes(copy, start, end)) {
      const body = box.start + box.headerSize;
      if (CONTAINERS.has(box.type)) visit(body, box.start + box.size);
      const count = box.type === 'stco' || box.type === 'co64' ? copy.readUInt32BE(body + 4) : 0;
      for (let i = 0; i < count; i++) {
        if (box.type === 'co64') {
          const at = body + 8 + i * 8;
          copy.writeBigUInt64BE(copy.readBigUInt64BE(at) + BigInt(delta), at);
          continue;
        }
        const at = body + 8 + i * 4;
        const shifted = copy.readUInt32BE(at) + delta;
        if (shifted > 0xffffffff) throw new Mp4FormatError(`"${path}" is too large to add metadata in front of its media data.`);
        copy.writeUInt32BE(shifted, at);
      }
    }
  };
  visit(8, copy.length);
  return copy;
}

async function writeReplaced(file: FileHandle, tempPath: string, moov: Mp4Box, newMoov: Buffer, fileSize: number): Promise<void> {
  const out = await open(tempPath, 'wx');
  try {
    // One buffer for both copies, no larger than the file (a short clip in a batch is a few kB, not a MiB
    // to zero-fill twice per video). Only the bytes read into it are written out, so it needs no zeroing.
    const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(COPY_CHUNK_BYTES, fileSize)));
    await copyRange(file, out, 0, moov.start, buffer);
    await out.write(newMoov);
    await copyRange(file, out, moov.start + moov.size, fileSize, buffer);
    await out.sync();
  } finally {
    await out.close();
  }
}

async function copyRange(from: FileHandle, to: FileHandle, start: number, end: number, buf: Buffer): Promise<void> {
  for (let offset = start; offset < end; ) {
    const { bytesRead } = await from.read(buf, 0, Math.min(buf.length, end - offset), offset);
    if (bytesRead === 0) break;
    await to.write(buf, 0, bytesRead);
    offset += bytesRead;
  }
}
