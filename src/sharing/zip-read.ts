import { createReadStream, createWriteStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw } from 'node:zlib';

/**
 * A strict, streaming zip reader for untrusted archives. We read the central directory
 * ourselves and extract exactly the entries we listed, so what is checked is what is
 * written (a second extractor with its own idea of the entry count cannot smuggle one in).
 * Anything unusual — zip64, several disks, counts that disagree, encryption, a local
 * header naming another file — is refused rather than interpreted.
 */

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  /** The size the directory declares; extraction stops with an error one byte past it. */
  size: number;
  localHeaderOffset: number;
  isSymlink: boolean;
  isDirectory: boolean;
}

/** Malformed or unsupported archive; `message` is a phrase that completes "The zip …". */
export class ZipFormatError extends Error {
  override name = 'ZipFormatError';
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

/** Reads and checks the central directory. Never reads more than `maxDirectoryBytes` of it. */
export async function readZipDirectory(file: FileHandle, fileSize: number, limits: { maxEntries: number; maxDirectoryBytes: number }): Promise<ZipEntry[]> {
  if (fileSize < EOCD_SIZE) throw new ZipFormatError('is not a zip file (too short)');
  const tailStart = Math.max(0, fileSize - EOCD_SIZE - MAX_COMMENT);
  const tail = await readAt(file, tailStart, fileSize - tailStart);
  let eocd = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    // The record must end exactly at the end of the file (its comment reaching there), so a
    // signature inside a comment or inside data is not taken for it.
    if (tail.readUInt32LE(i) === EOCD_SIGNATURE && i + EOCD_SIZE + tail.readUInt16LE(i + 20) === tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipFormatError('is not a zip file (no end-of-directory record)');
  if (eocd >= 20 && tail.readUInt32LE(eocd - 20) === ZIP64_LOCATOR_SIGNATURE) throw new ZipFormatError('uses a zip64 directory, which bundles never need');
  const disk = tail.readUInt16LE(eocd + 4);
  const directoryDisk = tail.readUInt16LE(eocd + 6);
  const onThisDisk = tail.readUInt16LE(eocd + 8);
  const total = tail.readUInt16LE(eocd + 10);
  const directorySize = tail.readUInt32LE(eocd + 12);
  const directoryOffset = tail.readUInt32LE(eocd + 16);
  if (disk !== 0 || directoryDisk !== 0) throw new ZipFormatError('spans several disks');
  if (onThisDisk !== total) throw new ZipFormatError(`declares ${onThisDisk} entries on this disk but ${total} in all`);
  if (total === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) throw new ZipFormatError('uses zip64 sizes, which bundles never need');
  if (total > limits.maxEntries) throw new ZipFormatError(`has ${total} entries, more than the limit of ${limits.maxEntries}`);
  if (directorySize > limits.maxDirectoryBytes) throw new ZipFormatError(`has a directory larger than ${limits.maxDirectoryBytes} bytes`);
  if (directoryOffset + directorySize !== tailStart + eocd) throw new ZipFormatError('has a directory that does not end where the end-of-directory record begins');

  const directory = await readAt(file, directoryOffset, directorySize);
  const entries: ZipEntry[] = [];
  let offset = 0;
  for (let i = 0; i < total; i++) {
    if (offset + 46 > directory.length || directory.readUInt32LE(offset) !== CENTRAL_SIGNATURE) throw new ZipFormatError('has a damaged directory');
    const flags = directory.readUInt16LE(offset + 8);
    const method = directory.readUInt16LE(offset + 10);
    const compressedSize = directory.readUInt32LE(offset + 20);
    const size = directory.readUInt32LE(offset + 24);
    const nameLength = directory.readUInt16LE(offset + 28);
    const extraLength = directory.readUInt16LE(offset + 30);
    const commentLength = directory.readUInt16LE(offset + 32);
    const startDisk = directory.readUInt16LE(offset + 34);
    const madeBy = directory.readUInt8(offset + 5);
    const mode = directory.readUInt32LE(offset + 38) >>> 16;
    const localHeaderOffset = directory.readUInt32LE(offset + 42);
    const end = offset + 46 + nameLength + extraLength + commentLength;
    if (end > directory.length) throw new ZipFormatError('has a damaged directory');
    const name = directory.subarray(offset + 46, offset + 46 + nameLength).toString('utf8');
    if (flags & 0x1) throw new ZipFormatError(`entry "${name}" is encrypted`);
    if (method !== 0 && method !== 8) throw new ZipFormatError(`entry "${name}" uses compression method ${method}; only stored and deflate are read`);
    if (compressedSize === 0xffffffff || size === 0xffffffff || localHeaderOffset === 0xffffffff) throw new ZipFormatError(`entry "${name}" uses zip64 sizes, which bundles never need`);
    if (startDisk !== 0) throw new ZipFormatError('spans several disks');
    if (localHeaderOffset + 30 + compressedSize > directoryOffset) throw new ZipFormatError(`entry "${name}" lies outside the archive's data`);
    const fileType = mode & 0o170000;
    entries.push({
      name,
      method,
      compressedSize,
      size,
      localHeaderOffset,
      // Unix (3) and macOS (19) record the file type in the high bits of the external attributes.
      isSymlink: (madeBy === 3 || madeBy === 19) && fileType === 0o120000,
      isDirectory: name.endsWith('/'),
    });
    offset = end;
  }
  if (offset !== directory.length) throw new ZipFormatError('has more directory records than it declares');
  return entries;
}

/**
 * Streams one entry's data into `target` (created, never overwritten). Stops with an error as
 * soon as the output passes the size the directory declared, so memory and disk stay bounded
 * by what was checked before extraction began.
 */
export async function extractEntry(file: FileHandle, zipPath: string, entry: ZipEntry, target: string): Promise<void> {
  const header = await readAt(file, entry.localHeaderOffset, 30);
  if (header.length < 30 || header.readUInt32LE(0) !== LOCAL_SIGNATURE) throw new ZipFormatError(`entry "${entry.name}" has no local header where the directory says`);
  const nameLength = header.readUInt16LE(26);
  const extraLength = header.readUInt16LE(28);
  const localName = (await readAt(file, entry.localHeaderOffset + 30, nameLength)).toString('utf8');
  if (localName !== entry.name) throw new ZipFormatError(`entry "${entry.name}" is named "${localName}" in its local header`);
  if (header.readUInt16LE(8) !== entry.method) throw new ZipFormatError(`entry "${entry.name}" has a different method in its local header`);
  const dataStart = entry.localHeaderOffset + 30 + nameLength + extraLength;
  const out = createWriteStream(target, { flags: 'wx', mode: 0o600 });
  const counter = new SizeCap(entry);
  if (entry.compressedSize === 0) {
    // createReadStream treats end < start as "to the end of the file"; an empty entry reads nothing.
    await pipeline(async function* () {}, counter, out);
    return;
  }
  const input = createReadStream(zipPath, { start: dataStart, end: dataStart + entry.compressedSize - 1, highWaterMark: 64 * 1024 });
  try {
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.size) throw new ZipFormatError(`entry "${entry.name}" is stored with two different sizes`);
      await pipeline(input, counter, out);
    } else {
      await pipeline(input, createInflateRaw({ chunkSize: 64 * 1024 }), counter, out);
    }
  } catch (error) {
    if (error instanceof ZipFormatError) throw error;
    throw new ZipFormatError(`entry "${entry.name}" cannot be decompressed (${(error as Error).message})`);
  }
  if (counter.seen !== entry.size) throw new ZipFormatError(`entry "${entry.name}" holds ${counter.seen} bytes but declares ${entry.size}`);
}

/** Passes bytes through and fails the moment they exceed the declared size. */
class SizeCap extends Transform {
  seen = 0;
  constructor(private readonly entry: ZipEntry) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.entry.size) done(new ZipFormatError(`entry "${this.entry.name}" expands past its declared ${this.entry.size} bytes`));
    else done(null, chunk);
  }
}

async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}
