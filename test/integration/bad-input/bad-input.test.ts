import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { writeHugeWorkflow, writeLargeImages, type Workflow } from '../../helpers/make-bad-corpus.js';
import { ROOT, fastPoll, listFiles, makeSandbox, mp4Duration, placeWorkflow, readExample, requireBuiltCli, runCli, type Sandbox } from '../../helpers/cli-sandbox.js';

/**
 * The bad-input corpus through the real CLI. A refused input gets one clear message and exit 2,
 * never a stack trace, never a crash, and never a create at the provider (nothing is spent).
 *
 * Decisions for images a user might expect either way (target: runway gen4_turbo, data URI):
 *
 * | file                            | decision | why                                                                  |
 * |---------------------------------|----------|----------------------------------------------------------------------|
 * | cmyk.jpg                        | accept   | a valid JPEG; Runway decodes CMYK, refusing it would block real photos |
 * | png-16-bit.png                  | accept   | a valid PNG; decoders reduce the depth                               |
 * | jpeg-named.png                  | accept   | the format is read from the bytes, and the data URI says image/jpeg  |
 * | exif-rotated-ok.jpg             | accept   | 2:3 as displayed, in bounds                                          |
 * | ok.webp                         | accept   | WebP is a published format                                           |
 * | exif-rotated-out-of-bounds.jpg  | refuse   | 1:3 as displayed (the message gives the displayed 300×900)           |
 * | ratio-1-2-exact / ratio-2-1-exact | refuse | the published bounds are exclusive (ComfyUI checks 0.5 < r < 2)      |
 * | bad-crc.png                     | refuse   | the size reads fine, but the provider's decoder fails after payment  |
 * | wide-8000px.png                 | accept   | fitted: a 2048 px copy is sent (refused with --image-fit off)         |
 * | big-17mb.png                    | accept   | sent whole through a Runway upload (refused with --image-fit off on  |
 * |                                 |          | a data-URI-only provider)                                             |
 * | cut-off.jpg/.png/.webp          | refuse   | the header reads fine but the end is missing (a partial copy)         |
 * | everything else                 | refuse   | not an image, or not JPEG/PNG/WebP                                    |
 */

const BAD = join(ROOT, 'test/fixtures/bad');

const IMAGES: [name: string, expected: 'accept' | RegExp, args?: string[]][] = [
  ['zero-byte.png', /not a readable image/],
  ['whitespace.jpg', /not a readable image/],
  ['text.png', /not a readable image: not a recognised image format/],
  ['html-error-page.jpg', /not a readable image/],
  ['truncated.png', /not a readable image/],
  ['truncated.jpg', /not a readable image/],
  ['header-only.jpg', /not a readable image/],
  ['bad-crc.png', /IHDR checksum mismatch/],
  ['animation.gif', /format gif is not accepted/],
  ['image.avif', /format avif is not accepted/],
  ['vector.svg', /format svg is not accepted/],
  ['image.bmp', /format bmp is not accepted/],
  ['image.tiff', /format tiff is not accepted/],
  ['ratio-3-1.png', /aspect ratio 3\.00 \(600×200\) is outside/],
  ['ratio-1-2-exact.png', /aspect ratio 0\.50 \(300×600\) is outside/],
  ['ratio-2-1-exact.png', /aspect ratio 2\.00 \(600×300\) is outside/],
  ['exif-rotated-out-of-bounds.jpg', /aspect ratio 0\.33 \(300×900\) is outside/],
  ['cut-off.jpg', /"images\/cut-off\.jpg" is not a readable image: truncated jpeg/],
  ['cut-off.png', /"images\/cut-off\.png" is not a readable image: truncated png/],
  ['cut-off.webp', /"images\/cut-off\.webp" is not a readable image: truncated webp/],
  ['wide-8000px.png', /width 8000 px must be under 8000 px/, ['--image-fit', 'off']],
  ['wide-8000px.png', 'accept'],
  ['big-17mb.png', 'accept'],
  ['exif-rotated-ok.jpg', 'accept'],
  ['cmyk.jpg', 'accept'],
  ['png-16-bit.png', 'accept'],
  ['jpeg-named.png', 'accept'],
  ['ok.webp', 'accept'],
];

const WORKFLOWS: [file: string, message: RegExp][] = [
  ['cycle.json', /Dependency cycle|2 \(ValidateImage\) -> 6 \(ValidateImage\) -> 2/],
  ['dangling-link.json', /linked to node "99", which is not in the workflow/],
  ['unknown-type.json', /Unknown node type.*RunwayI2VTurboMax/],
  ['links-to-missing-slot.json', /linked to output 5 of node "2" \(ValidateImage\), which has 1 output/],
  ['duplicate-node-ids.json', /more than one node with id 3/],
  ['missing-field.json', /malformed at nodes\[2\]\.type/],
  ['no-output-node.json', /no outputs|at least one output node/],
  ['wrong-types.json', /expected string, received 12/],
  ['proto-key.json', /"__proto__" key, which is refused/],
  ['constructor-key.json', /"(constructor|prototype)" key, which is refused/],
  ['deep-nesting.json', /nests deeper than 200 levels/],
  ['nan-duration.json', /duration: NaN not in \[2, 3, 4, 5, 6, 7, 8, 9, 10\]/],
  ['infinity-seed.json', /seed: expected number, received Infinity/],
  ['overflow-number.json', /interval_s: expected number, received Infinity/],
  ['negative-duration.json', /duration: -5 not in \[2, 3, 4, 5, 6, 7, 8, 9, 10\]/],
  ['ratio-not-offered.json', /1280:768 is not offered by runway gen4_turbo/],
  ['model-not-offered.json', /Runway retired Gen-3 Alpha Turbo \(gen3a_turbo\)/],
  ['prompt-too-long.json', /1080 characters, limit 1000/],
  ['seed-too-big.json', /99999999999, limit 4294967295/],
  ['missing-image.json', /does not exist in the input folder/],
  ['path-traversal.json', /must not contain ".." segments/],
  ['http-image-url.json', /must be an https URL/],
  ['invalid-utf8.json', /not valid UTF-8/],
  ['empty.json', /not valid JSON: Unexpected end of JSON input/],
  ['not-json.json', /not valid JSON/],
  ['truncated-json.json', /not valid JSON/],
  ['array-top-level.json', /must be a JSON object/],
  ['string-top-level.json', /must be a JSON object/],
];

let emulator: Emulator;
let box: Sandbox;
let template: Workflow;

beforeAll(async () => {
  requireBuiltCli();
  emulator = await startEmulator({ timing: { queuedMs: 50, runningMs: 100 } });
  box = await makeSandbox(emulator.url);
  template = fastPoll(await readExample('runway-gen4-turbo.json'));
  await writeLargeImages(join(box.work, 'images'));
});
afterAll(async () => {
  await emulator?.close();
  await box?.cleanup();
});
beforeEach(() => emulator.reset());

async function expectRefused(args: string[], message: RegExp, env?: NodeJS.ProcessEnv): Promise<void> {
  const result = await runCli(args, box, env);
  const output = result.stdout + result.stderr;
  expect(result.code, output).toBe(2);
  expect(result.signal).toBeNull();
  expect(output).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(emulator.creates()).toBe(0);
}

describe('bad images', () => {
  it.each(IMAGES)('%s (%s)', async (name, expected, extra = []) => {
    const workflow = structuredClone(template);
    workflow.nodes.find((node) => node.type === 'LoadImage')!.widgets_values = [`images/${name}`, 'image'];
    const committed = join(BAD, 'images', name);
    const images = (await listFiles(join(BAD, 'images'))).includes(committed) ? { [`images/${name}`]: committed } : {};
    const path = await placeWorkflow(box, `image-${name}.json`, workflow, images);
    const args = ['run', path, '--output-dir', join(box.output, `${name}${extra.join('')}`), '--json', ...extra];
    if (expected !== 'accept') return expectRefused(args, expected);
    // Accepted inputs must run to completion on the emulator.
    const result = await runCli(args, box);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(emulator.creates()).toBe(1);
    const videos = (await listFiles(join(box.output, `${name}${extra.join('')}`))).filter((file) => file.endsWith('.mp4'));
    expect(videos).toHaveLength(1);
    expect(await mp4Duration(videos[0]!)).toBeGreaterThan(0);
  });
});

describe('bad workflows', () => {
  it.each(WORKFLOWS)('%s', async (file, message) => {
    const path = await placeWorkflow(box, file, await readFile(join(BAD, 'workflows', file)));
    await expectRefused(['run', path, '--output-dir', box.output], message);
  });

  it('a 50 MB workflow (a 50 MB prompt) is refused without a crash', async () => {
    const path = join(box.work, 'huge-50mb.json');
    await placeWorkflow(box, 'placeholder.json', '{}');
    await writeHugeWorkflow(path, template);
    await expectRefused(['run', path, '--output-dir', box.output], /promptText: \d{8} characters, limit 1000/);
  });

  it('a missing API key is named, with the variable to set', async () => {
    const path = await placeWorkflow(box, 'no-key.json', template);
    const { RUNWAYML_API_SECRET: _key, ...env } = box.env;
    await expectRefused(['run', path, '--output-dir', box.output], /RUNWAYML_API_SECRET is not set/, env);
  });
});
