import { crc32, deflateRawSync } from 'node:zlib';

/**
 * Hand-built zip archives for attack tests: every field an attacker controls can be set,
 * including the ones a well-behaved zip library would never write (counts that disagree,
 * sizes that lie, symlink modes, local names that differ from the directory).
 */

export interface CraftEntry {
  name: string;
  data: Uint8Array | string;
  deflate?: boolean;
  /** The uncompressed size written into the headers (default: the real one). */
  declaredSize?: number;
  /** Unix mode (made-by 3), e.g. 0o120777 for a symlink. */
  unixMode?: number;
  /** Already deflated data (a bomb made by streaming), used as the body with method 8. */
  deflated?: Uint8Array;
  /** The name in the local header (default: the directory's). */
  localName?: string;
}

export interface CraftOptions {
  /** EOCD offset 8, "entries on this disk" (default: all entries). */
  countOnDisk?: number;
  /** EOCD offset 10, "total entries" (default: all entries). */
  countTotal?: number;
  /** Writes a zip64 end-of-directory record and locator (which list every entry) before the classic record. */
  zip64?: boolean;
}

export function craftZip(entries: CraftEntry[], options: CraftOptions = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const raw = typeof entry.data === 'string' ? Buffer.from(entry.data) : Buffer.from(entry.data);
    const body = entry.deflated ? Buffer.from(entry.deflated) : entry.deflate ? deflateRawSync(raw) : raw;
    const name = Buffer.from(entry.name);
    const localName = Buffer.from(entry.localName ?? entry.name);
    const size = entry.declaredSize ?? raw.length;
    const method = entry.deflate || entry.deflated ? 8 : 0;
    const crc = crc32(raw);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(localName.length, 26);
    locals.push(local, localName, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt8(20, 4);
    central.writeUInt8(entry.unixMode === undefined ? 0 : 3, 5);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((entry.unixMode ?? 0) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + localName.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const tail: Buffer[] = [];
  if (options.zip64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(entries.length), 24);
    record.writeBigUInt64LE(BigInt(entries.length), 32);
    record.writeBigUInt64LE(BigInt(directory.length), 40);
    record.writeBigUInt64LE(BigInt(offset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(offset + directory.length), 8);
    locator.writeUInt32LE(1, 16);
    tail.push(record, locator);
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(options.countOnDisk ?? entries.length, 8);
  eocd.writeUInt16LE(options.countTotal ?? entries.length, 10);
  eocd.writeUInt32LE(directory.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, ...tail, eocd]);
}
