import { resolve } from 'node:path';
import { maxJobsOption, parse, positiveInt } from '../args.js';
import { startServer } from '../../server/index.js';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { emulatorEnv } from '../emulator-env.js';
import { freePort } from '../../http/free-port.js';
import { providerOption } from './dry-run.js';
import { IMAGE_OPTIONS, IMAGE_USAGE, imageOptions } from '../image-options.js';

const USAGE = `reelgraph serve [--port 8188] [--host 127.0.0.1] [--output-dir DIR] [--input-dir DIR] [--max-jobs PROVIDER=N]... [--emulator]\n                       [--provider runway|cometapi|runcomfy] ${IMAGE_USAGE}`;

/** `reelgraph serve`: the editor and ComfyUI's API on loopback, until Ctrl-C. */
export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parse(
    args,
    { port: { type: 'string' }, host: { type: 'string' }, 'output-dir': { type: 'string' }, 'input-dir': { type: 'string' }, 'max-jobs': { type: 'string', multiple: true }, emulator: { type: 'boolean' }, provider: { type: 'string' }, ...IMAGE_OPTIONS },
    USAGE,
  );
  const images = imageOptions(values);
  // --emulator: every provider points at the built-in emulator, in this process, so anyone can
  // try the editor without keys or spending money. RunComfy fetches images by URL: they are
  // hosted on loopback, where the emulator fetches them (as `reelgraph demo` does).
  let emulator: Emulator | undefined;
  let env: NodeJS.ProcessEnv = process.env;
  let publicUrl: string | undefined;
  if (values.emulator) {
    emulator = await startEmulator({ port: 0 });
    env = { ...process.env, ...emulatorEnv(emulator.url) };
    publicUrl = `http://127.0.0.1:${await freePort()}`;
  }
  const server = await startServer({
    images: { ...images, notice: (line) => process.stderr.write(`${line}\n`) },
    port: values.port === '0' ? 0 : positiveInt(values.port, 'port', 8188),
    host: values.host ?? '127.0.0.1',
    outputDir: resolve(values['output-dir'] ?? 'output'),
    inputDir: resolve(values['input-dir'] ?? 'input'),
    maxJobs: maxJobsOption(values['max-jobs']),
    env,
    publicUrl: images.publicUrl ?? publicUrl,
    emulatorUrl: emulator?.url,
    provider: providerOption(values.provider),
  });
  if (emulator) process.stderr.write(`Emulator mode: providers answer from the built-in emulator at ${emulator.url} (no keys, nothing is paid)\n`);
  process.stderr.write(`reelgraph editor and API at ${server.url}\n`);
  await untilSignal();
  await server.close();
  await emulator?.close();
  return 0;
}

export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
