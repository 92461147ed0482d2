/**
 * Hand-built MP4 containers for attack tests: just the boxes a workflow reader walks (ftyp,
 * moov/udta/meta with mdta keys and an ilst), holding whatever text an attacker chooses.
 */

function box(type: string, ...parts: Buffer[]): Buffer {
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

const FTYP = box('ftyp', Buffer.from('isom', 'latin1'), u32(512), Buffer.from('isomiso2mp41', 'latin1'));

/** An MP4 whose moov carries the mdta tags `tags` (name → raw UTF-8 text, not re-encoded). */
export function mp4WithTags(tags: Record<string, string>): Buffer {
  const names = Object.keys(tags);
  const hdlr = box('hdlr', u32(0, 0), Buffer.from('mdta', 'latin1'), u32(0, 0, 0), Buffer.from([0]));
  const keys = box('keys', u32(0, names.length), ...names.map((name) => box('mdta', Buffer.from(name, 'utf8'))));
  const items = names.map((name, i) => {
    const item = box('____', box('data', u32(1, 0), Buffer.from(tags[name]!, 'utf8')));
    item.writeUInt32BE(i + 1, 4);
    return item;
  });
  const moov = box('moov', box('udta', box('meta', u32(0), hdlr, keys, box('ilst', ...items))));
  return Buffer.concat([FTYP, moov]);
}

/** `bytes` of empty 8-byte `free` boxes after an ftyp, then a moov: the tiny-box walk attack. */
export function tinyBoxBomb(bytes: number, tags: Record<string, string> = {}): Buffer {
  const count = Math.floor(bytes / 8);
  const frees = Buffer.alloc(count * 8);
  for (let i = 0; i < count; i++) {
    frees.writeUInt32BE(8, i * 8);
    frees.write('free', i * 8 + 4, 'latin1');
  }
  const tail = mp4WithTags(tags).subarray(FTYP.length);
  return Buffer.concat([FTYP, frees, tail]);
}
