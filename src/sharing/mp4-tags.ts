import { parseWorkflowText } from '../comfy/parse-json.js';

/**
 * Reading ISO-BMFF (MP4/MOV) boxes and the mdta tags ComfyUI's SaveVideo writes
 * (`moov/udta/meta` with a `keys` box and an `ilst`). Pure code over Uint8Array with no
 * Node APIs, so the browser editor and the Node runtime (provenance.ts) share one reader.
 */

export interface Mp4Box {
  /** Four-character code, e.g. "moov". */
  type: string;
  /** Offset of the box header. */
  start: number;
  size: number;
  headerSize: number;
}

/** The workflow and prompt a video carries, parsed from JSON. */
export interface WorkflowTags {
  /** The workflow the user opened (ComfyUI's key; its frontend restores the graph from it). */
  workflow?: unknown;
  prompt?: unknown;
  /** Ours: the workflow as it ran (ComfyUI Runway nodes mapped onto ours), when it differs from `workflow`. */
  reelgraph_workflow?: unknown;
}

/** Reads `length` bytes at `offset` (fewer at the end of the file). */
export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

/** ComfyUI's frontend reads at most this much of a video looking for metadata. */
export const MAX_SCAN_BYTES = 64 * 1024 * 1024;
/** ilst data type 1: UTF-8 text without a terminator. */
export const UTF8_TYPE = 1;

const utf8 = new TextDecoder('utf-8');

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function readU32(bytes: Uint8Array, offset: number): number {
  return view(bytes).getUint32(offset);
}

export function latin1(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

/** The box whose header is at `offset`, or undefined if the header is malformed or runs past `available`. */
export function boxAt(bytes: Uint8Array, offset: number, available: number): Mp4Box | undefined {
  if (offset + 8 > bytes.length) return undefined;
  let size = readU32(bytes, offset);
  let headerSize = 8;
  if (size === 1) {
    if (offset + 16 > bytes.length) return undefined;
    size = Number(view(bytes).getBigUint64(offset + 8));
    headerSize = 16;
  } else if (size === 0) {
    // Size 0 means "to the end of the enclosing space".
    size = available;
  }
  if (size < headerSize || size > available) return undefined;
  return { type: latin1(bytes, offset + 4, offset + 8), start: offset, size, headerSize };
}

/**
 * Most boxes one level may hold. Real files have a handful per level (a long fragmented
 * video a few tens of thousands at the top); a file of millions of 8-byte boxes is an attack
 * on our time and memory, refused rather than walked.
 */
export const MAX_BOXES_PER_LEVEL = 100_000;

/** Too many boxes; `message` completes "The video …". */
export class Mp4LimitError extends Error {
  override name = 'Mp4LimitError';
}

function tooManyBoxes(): never {
  throw new Mp4LimitError(`has more than ${MAX_BOXES_PER_LEVEL} boxes in one level, far more than any real video`);
}

/** The boxes laid end to end in `bytes[start, end)`, stopping at the first malformed header. @throws Mp4LimitError */
export function childBoxes(bytes: Uint8Array, start: number, end: number): Mp4Box[] {
  const result: Mp4Box[] = [];
  for (let offset = start; offset + 8 <= end; ) {
    const box = boxAt(bytes, offset, end - offset);
    if (!box) break;
    if (result.length >= MAX_BOXES_PER_LEVEL) tooManyBoxes();
    result.push(box);
    offset += box.size;
  }
  return result;
}

export function findChild(bytes: Uint8Array, parent: Mp4Box, type: string, start = parent.start + parent.headerSize): Mp4Box | undefined {
  return childBoxes(bytes, start, parent.start + parent.size).find((box) => box.type === type);
}

/** Box headers are read through a window this large, not one read per box. */
const HEADER_WINDOW_BYTES = 1024 * 1024;

/** The top-level boxes of a file of `fileSize` bytes, reading only their headers. @throws Mp4LimitError */
export async function topLevelBoxes(read: ReadAt, fileSize: number): Promise<Mp4Box[]> {
  const boxes: Mp4Box[] = [];
  let window: Uint8Array = new Uint8Array(0);
  let windowStart = 0;
  for (let start = 0; start + 8 <= fileSize; ) {
    if (start < windowStart || start + 16 > windowStart + window.length) {
      windowStart = start;
      window = await read(start, Math.min(HEADER_WINDOW_BYTES, fileSize - start));
    }
    const box = boxAt(window, start - windowStart, fileSize - start);
    if (!box) break;
    if (boxes.length >= MAX_BOXES_PER_LEVEL) tooManyBoxes();
    boxes.push({ ...box, start });
    start += box.size;
  }
  return boxes;
}

/** meta is a full box in ISO files (ffmpeg writes it so) but a plain box in QuickTime ones. */
function metaChildrenStart(bytes: Uint8Array, meta: Mp4Box): number {
  const body = meta.start + meta.headerSize;
  const plain = latin1(bytes, body + 4, body + 8) === 'hdlr';
  return body + (plain ? 0 : 4);
}

/** The mdta key/value pairs of moov/udta/meta (UTF-8 values only); `moov` holds the moov box from offset 0. */
export function readMdtaTags(moov: Uint8Array): Map<string, string> {
  const tags = new Map<string, string>();
  const root = boxAt(moov, 0, moov.length);
  const udta = root && findChild(moov, root, 'udta');
  const meta = udta && findChild(moov, udta, 'meta');
  if (!meta) return tags;
  const start = metaChildrenStart(moov, meta);
  const keysBox = findChild(moov, meta, 'keys', start);
  const ilst = findChild(moov, meta, 'ilst', start);
  if (!keysBox || !ilst) return tags;
  const names = readKeyNames(moov, keysBox);
  for (const item of childBoxes(moov, ilst.start + ilst.headerSize, ilst.start + ilst.size)) {
    // ilst items are typed by their 1-based index into keys.
    const name = names[readU32(moov, item.start + 4) - 1];
    const data = findChild(moov, item, 'data');
    if (name === undefined || !data || data.size < data.headerSize + 8) continue;
    if (readU32(moov, data.start + data.headerSize) !== UTF8_TYPE) continue;
    tags.set(name, utf8.decode(moov.subarray(data.start + data.headerSize + 8, data.start + data.size)));
  }
  return tags;
}

function readKeyNames(bytes: Uint8Array, keys: Mp4Box): string[] {
  // keys: version/flags, entry_count, then boxes of (size, namespace, name bytes).
  return childBoxes(bytes, keys.start + keys.headerSize + 8, keys.start + keys.size).map((entry) =>
    utf8.decode(bytes.subarray(entry.start + 8, entry.start + entry.size)),
  );
}

/** "workflow" and "prompt" (keys matched case-insensitively) parsed from their JSON strings. */
export function workflowTagsOf(tags: Map<string, string>): WorkflowTags {
  const result: WorkflowTags = {};
  for (const [key, text] of tags) {
    const name = key.toLowerCase();
    if (name === 'workflow' || name === 'prompt' || name === 'reelgraph_workflow') result[name] = parseLenientJson(text);
  }
  return result;
}

/**
 * JSON as Python's json.dumps writes it (NaN/Infinity included), through the same guards as
 * every other workflow source: a video from a stranger is as untrusted as a JSON file.
 */
export function parseLenientJson(text: string): unknown {
  return parseWorkflowText(text);
}

/**
 * The workflow tags of a video read through `read`: only box headers and the moov box are
 * read, never more than MAX_SCAN_BYTES. Undefined when there is no moov (not an MP4) or
 * it is too large.
 */
export async function readVideoWorkflowTags(read: ReadAt, fileSize: number): Promise<WorkflowTags | undefined> {
  const moov = (await topLevelBoxes(read, fileSize)).find((box) => box.type === 'moov');
  if (!moov || moov.size > MAX_SCAN_BYTES) return undefined;
  return workflowTagsOf(readMdtaTags(await read(moov.start, moov.size)));
}
