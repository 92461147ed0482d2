import { resolve } from 'node:path';
import { parse, positiveInt } from '../args.js';
import { startServer } from '../../server/index.js';
import { IMAGE_OPTIONS, IMAGE_USAGE, imageOptions } from '../image-options.js';

const USAGE = `reelgraph serve [--port 8188] [--host 127.0.0.1] [--output-dir DIR] [--input-dir DIR]\n                       ${IMAGE_USAGE}`;

/** `reelgraph serve`: the editor and ComfyUI's API on loopback, until Ctrl-C. */
export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parse(
    args,
    { port: { type: 'string' }, host: { type: 'string' }, 'output-dir': { type: 'string' }, 'input-dir': { type: 'string' }, ...IMAGE_OPTIONS },
    USAGE,
  );
  const images = imageOptions(values);
  const server = await startServer({
    images: { ...images, notice: (line) => process.stderr.write(`${line}\n`) },
    port: values.port === '0' ? 0 : positiveInt(values.port, 'port', 8188),
    host: values.host ?? '127.0.0.1',
    outputDir: resolve(values['output-dir'] ?? 'output'),
    inputDir: resolve(values['input-dir'] ?? 'input'),
  });
  process.stderr.write(`reelgraph editor and API at ${server.url}\n`);
  await untilSignal();
  await server.close();
  return 0;
}

export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
