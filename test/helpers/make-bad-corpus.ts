import { randomBytes } from 'node:crypto';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

/**
 * The bad-input corpus. Small files are committed under test/fixtures/bad/ (regenerate them
 * with `writeSmallImages` / `writeBadWorkflows`); the big ones (8000 px, 17 MB, 50 MB JSON)
 * are made at test time so the repository stays small.
 */

const red = { r: 200, g: 40, b: 40 };

function solid(width: number, height: number, channels: 3 | 4 = 3) {
  return sharp({ create: { width, height, channels, background: red } });
}

/** A 54-byte-header, 24-bit BMP (sharp cannot write BMP). */
function bmp(width: number, height: number): Buffer {
  const row = Math.ceil((width * 3) / 4) * 4;
  const pixels = row * height;
  const buffer = Buffer.alloc(54 + pixels, 0x80);
  buffer.write('BM', 0, 'latin1');
  buffer.writeUInt32LE(54 + pixels, 2);
  buffer.writeUInt32LE(0, 6);
  buffer.writeUInt32LE(54, 10);
  buffer.writeUInt32LE(40, 14);
  buffer.writeInt32LE(width, 18);
  buffer.writeInt32LE(height, 22);
  buffer.writeUInt16LE(1, 26);
  buffer.writeUInt16LE(24, 28);
  buffer.writeUInt32LE(0, 30);
  buffer.writeUInt32LE(pixels, 34);
  return buffer;
}

/** A PNG whose IHDR checksum is wrong: the header reads fine, a strict decoder refuses it. */
async function badCrcPng(): Promise<Buffer> {
  const png = await solid(640, 480).png().toBuffer();
  // Signature (8) + length (4) + "IHDR" (4) + 13 data bytes, then the 4-byte CRC at offset 29.
  png[29] = png[29]! ^ 0xff;
  return png;
}

/** Deterministic noise (a seeded LCG), so a regenerated corpus file is byte-identical. */
function noise(width: number, height: number) {
  const pixels = Buffer.alloc(width * height * 3);
  let state = 12345;
  for (let i = 0; i < pixels.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    pixels[i] = state >>> 24;
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } });
}

/** The first 60% of a file: its header reads fine, its end is missing (a failed copy, a partial download). */
function cutOff(bytes: Buffer): Buffer {
  return bytes.subarray(0, Math.floor(bytes.length * 0.6));
}

/** The committed small images, by file name. */
export async function smallImages(): Promise<Record<string, Buffer>> {
  const jpeg = await solid(640, 400).jpeg({ quality: 70 }).toBuffer();
  const svg = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360"><rect width="640" height="360" fill="red"/></svg>\n';
  return {
    'zero-byte.png': Buffer.alloc(0),
    'whitespace.jpg': Buffer.from('\n \n'),
    'text.png': Buffer.from('This is a text file that someone named .png\n'),
    'html-error-page.jpg': Buffer.from('<!DOCTYPE html><html><body><h1>403 Forbidden</h1></body></html>\n'),
    'truncated.png': (await solid(640, 360).png().toBuffer()).subarray(0, 20),
    'truncated.jpg': jpeg.subarray(0, 12),
    'header-only.jpg': Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]),
    'bad-crc.png': await badCrcPng(),
    'animation.gif': await solid(320, 180).gif().toBuffer(),
    'image.avif': await solid(320, 180).avif({ quality: 30 }).toBuffer(),
    'vector.svg': Buffer.from(svg),
    'image.bmp': bmp(64, 36),
    'image.tiff': await solid(320, 180).tiff().toBuffer(),
    'ratio-3-1.png': await solid(600, 200).png().toBuffer(),
    'ratio-1-2-exact.png': await solid(300, 600).png().toBuffer(),
    'ratio-2-1-exact.png': await solid(600, 300).png().toBuffer(),
    // Stored 900×300 (3:1, which is out of bounds either way); EXIF 6 shows it as 300×900.
    'exif-rotated-out-of-bounds.jpg': await solid(900, 300).jpeg().withMetadata({ orientation: 6 }).toBuffer(),
    // Stored 1200×800, shown 800×1200 (2:3): in bounds whichever way it is read.
    'exif-rotated-ok.jpg': await solid(1200, 800).jpeg().withMetadata({ orientation: 6 }).toBuffer(),
    'cmyk.jpg': await solid(640, 360).toColourspace('cmyk').jpeg().toBuffer(),
    'png-16-bit.png': await solid(640, 360).toColourspace('rgb16').png().toBuffer(),
    'jpeg-named.png': jpeg,
    'ok.webp': await solid(640, 360).webp().toBuffer(),
    'cut-off.jpg': cutOff(await noise(640, 360).jpeg({ quality: 80 }).toBuffer()),
    'cut-off.png': cutOff(await noise(640, 360).png().toBuffer()),
    'cut-off.webp': cutOff(await noise(640, 360).webp({ quality: 80 }).toBuffer()),
  };
}

/** Images too big to commit: written into `dir` at test time. Returns their names. */
export async function writeLargeImages(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  // A flat colour compresses to almost nothing, so only the dimensions are big.
  await solid(8000, 4500).png({ compressionLevel: 9 }).toFile(join(dir, 'wide-8000px.png'));
  // Random pixels do not compress: ~17 MB of PNG, in bounds otherwise (1.6:1, under 8000 px).
  const width = 3000;
  const height = 1900;
  const noise = randomBytes(width * height * 3);
  await sharp(noise, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 0 }).toFile(join(dir, 'big-17mb.png'));
  return ['wide-8000px.png', 'big-17mb.png'];
}

/** A 50 MB workflow: a valid graph whose prompt is 50 MB long (under the 64 MB read limit, so it must be parsed and refused). */
export async function writeHugeWorkflow(path: string, template: Workflow): Promise<void> {
  const marker = 'HUGE-PROMPT-MARKER';
  const json = JSON.stringify(withWidget(template, 3, 2, marker));
  const [head, tail] = json.split(marker) as [string, string];
  const file = await open(path, 'w');
  try {
    await file.write(head);
    const chunk = 'a slow dolly in, '.repeat(64 * 1024);
    for (let written = 0; written < 50 * 1024 * 1024; written += chunk.length) await file.write(chunk);
    await file.write(tail);
  } finally {
    await file.close();
  }
}

export async function writeSmallImages(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(await smallImages())) await writeFile(join(dir, name), bytes);
}

/** A UI (0.4) workflow, as examples/*.json are. */
export interface Workflow {
  nodes: { id: number; type: string; inputs?: { name: string; type: string; link: number | null }[]; widgets_values?: unknown[]; [key: string]: unknown }[];
  links: unknown[][];
  [key: string]: unknown;
}

function clone(template: Workflow): Workflow {
  return structuredClone(template);
}

function nodeById(workflow: Workflow, id: number) {
  const node = workflow.nodes.find((n) => n.id === id);
  if (!node) throw new Error(`template has no node ${id}`);
  return node;
}

/** The template with one widget value replaced (node 3 is RunwayI2V: provider, model, promptText, ratio, duration, seed, control, watermark). */
export function withWidget(template: Workflow, nodeId: number, index: number, value: unknown): Workflow {
  const workflow = clone(template);
  const widgets = nodeById(workflow, nodeId).widgets_values ?? [];
  widgets[index] = value;
  nodeById(workflow, nodeId).widgets_values = widgets;
  return workflow;
}

function text(workflow: unknown): string {
  return `${JSON.stringify(workflow, null, 1)}\n`;
}

function deeplyNested(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

/**
 * The committed bad workflows, by file name, built from the runway example. Every one must be
 * refused with exit 2 before anything is created at a provider.
 */
export function badWorkflows(template: Workflow): Record<string, string | Buffer> {
  const t = template;
  const asText = text(t);
  const cycle = clone(t);
  // ValidateImage 2 takes its image from ValidateImage 6, which takes it from 2.
  cycle.nodes.push({ id: 6, type: 'ValidateImage', inputs: [{ name: 'image', type: 'IMAGE', link: 5 }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [6] }], widgets_values: [] });
  nodeById(cycle, 2).inputs = [{ name: 'image', type: 'IMAGE', link: 6 }];
  cycle.links = cycle.links.filter((link) => link[0] !== 1).concat([[5, 2, 0, 6, 0, 'IMAGE'], [6, 6, 0, 2, 0, 'IMAGE']]);
  const dangling = clone(t);
  dangling.links = dangling.links.map((link) => (link[0] === 2 ? [2, 99, 0, 3, 0, 'IMAGE'] : link));
  const unknownType = clone(t);
  nodeById(unknownType, 3).type = 'RunwayI2VTurboMax';
  const missingSlot = clone(t);
  missingSlot.links = missingSlot.links.map((link) => (link[0] === 2 ? [2, 2, 5, 3, 0, 'IMAGE'] : link));
  const duplicateIds = clone(t);
  duplicateIds.nodes.push({ ...clone(t).nodes[2]!, id: 3 });
  const missingField = clone(t);
  delete (missingField.nodes[2] as Record<string, unknown>).type;
  const noOutputs = clone(t);
  noOutputs.nodes = noOutputs.nodes.filter((node) => node.type !== 'SaveVideo');
  noOutputs.links = noOutputs.links.filter((link) => link[0] !== 4);
  const wrongTypes = clone(t);
  for (const node of wrongTypes.nodes) node.widgets_values = (node.widgets_values ?? []).map((v) => (typeof v === 'string' ? 12 : typeof v === 'number' ? 'twelve' : typeof v === 'boolean' ? 'yes' : v));
  return {
    'cycle.json': text(cycle),
    'dangling-link.json': text(dangling),
    'unknown-type.json': text(unknownType),
    'links-to-missing-slot.json': text(missingSlot),
    'duplicate-node-ids.json': text(duplicateIds),
    'missing-field.json': text(missingField),
    'no-output-node.json': text(noOutputs),
    'wrong-types.json': text(wrongTypes),
    'proto-key.json': asText.replace('"nodes": [', '"__proto__": {"polluted": true},\n "nodes": ['),
    'constructor-key.json': asText.replace('"Node name for S&R": "RunwayI2V"', '"Node name for S&R": "RunwayI2V", "constructor": {"prototype": {"polluted": true}}'),
    'deep-nesting.json': text(withWidget(t, 3, 2, 'DEEP')).replace('"DEEP"', deeplyNested(5000)),
    'nan-duration.json': text(withWidget(t, 3, 4, 'NAN')).replace('"NAN"', 'NaN'),
    'infinity-seed.json': text(withWidget(t, 3, 5, 'INF')).replace('"INF"', 'Infinity'),
    'overflow-number.json': text(withWidget(t, 4, 0, 'BIG')).replace('"BIG"', '1e999'),
    'negative-duration.json': text(withWidget(t, 3, 4, -5)),
    'ratio-not-offered.json': text(withWidget(t, 3, 3, '1280:768')),
    'model-not-offered.json': text(withWidget(t, 3, 1, 'gen3a_turbo')),
    'prompt-too-long.json': text(withWidget(t, 3, 2, 'slow pan '.repeat(120))),
    'seed-too-big.json': text(withWidget(t, 3, 5, 99_999_999_999)),
    'missing-image.json': text(withWidget(t, 1, 0, 'images/not-there.png')),
    'path-traversal.json': text(withWidget(t, 1, 0, '../../../../etc/passwd')),
    'http-image-url.json': text(withWidget(t, 1, 0, 'http://images.example.com/plain-http.png')),
    'invalid-utf8.json': Buffer.concat([Buffer.from(asText.slice(0, asText.indexOf('The sun'))), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from(asText.slice(asText.indexOf('The sun')))]),
    'empty.json': '',
    'not-json.json': 'reelgraph workflow: LoadImage -> RunwayI2V -> SaveVideo\n',
    'truncated-json.json': asText.slice(0, Math.floor(asText.length / 2)),
    'array-top-level.json': '[{"id": 1, "type": "LoadImage"}]\n',
    'string-top-level.json': '"a workflow"\n',
  };
}

export async function writeBadWorkflows(dir: string, template: Workflow): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(badWorkflows(template))) await writeFile(join(dir, name), content);
}
