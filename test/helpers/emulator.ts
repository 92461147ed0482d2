import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { Emulator, EmulatorOptions } from '../../src/emulator/index.js';

/**
 * Test helpers: an emulator and a loopback image host, both closed after the test file.
 * Use inside a describe/file scope (they register afterAll).
 */

/** A solid-colour test image of the given size and format. */
export function makeImage(width: number, height: number, format: 'png' | 'jpeg' | 'webp' | 'gif' = 'png'): Promise<Buffer> {
  const image = sharp({ create: { width, height, channels: 3, background: { r: 40, g: 120, b: 200 } } });
  return image.toFormat(format).toBuffer();
}

export interface ImageHost {
  url: string;
  /** Serves `bytes` at `${url}/${name}` with the given content type. */
  put(name: string, bytes: Buffer, contentType?: string): string;
  close(): Promise<void>;
}

/** A loopback static server for promptImage URLs; unknown names answer 404. */
export async function startImageHost(): Promise<ImageHost> {
  const files = new Map<string, { bytes: Buffer; type: string }>();
  const server = createServer((req, res) => {
    const file = files.get((req.url ?? '/').slice(1));
    if (!file) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': file.type, 'Content-Length': String(file.bytes.length) }).end(file.bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    put(name, bytes, contentType = 'image/png') {
      files.set(name, { bytes, type: contentType });
      return `${url}/${name}`;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface EmulatorFixture {
  emulator: Emulator;
  images: ImageHost;
  /** A 320x180 PNG hosted on the image host. */
  imageUrl: string;
}

/** Starts an emulator and an image host for this test file and closes both afterwards. */
export async function useEmulator(options: Partial<EmulatorOptions> = {}): Promise<EmulatorFixture> {
  const emulator = await startEmulator(options);
  const images = await startImageHost();
  afterAll(async () => {
    await emulator.close();
    await images.close();
  });
  const imageUrl = images.put('frame.png', await makeImage(320, 180));
  return { emulator, images, imageUrl };
}

/** A manual clock for the emulator: jobs move only when the test advances it. */
export function manualNow(start = 1_700_000_000_000): { now: () => number; advance(ms: number): void } {
  let time = start;
  return { now: () => time, advance: (ms) => void (time += ms) };
}
