import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { allowPrivateUrls, maxJobsOption, parse, positiveInt, UsageError } from '../args.js';
import { isLoopbackBind, startServer } from '../../server/index.js';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { emulatorEnv } from '../emulator-env.js';
import { freePort } from '../../http/free-port.js';
import { providerOption } from './dry-run.js';
import { IMAGE_OPTIONS, IMAGE_USAGE, imageOptions } from '../image-options.js';

const USAGE = `reelgraph serve [--port 8188] [--host 127.0.0.1] [--output-dir DIR] [--input-dir DIR] [--max-jobs PROVIDER=N]... [--emulator]\n                       [--provider runway|cometapi|runcomfy] ${IMAGE_USAGE}\n                       [--auth-token T] [--allow-host NAME]... [--allow-private-urls] [--redis redis://HOST:PORT]`;

/**
 * `reelgraph serve`: the editor and ComfyUI's API on loopback, until Ctrl-C. Bound anywhere
 * else (`--host 0.0.0.0`), every request must carry a token: `--auth-token`, REELGRAPH_AUTH_TOKEN,
 * or one generated and printed here. Browsers open `http://HOST:PORT/?token=T` once; the page
 * keeps it in a cookie. Scripts send `Authorization: Bearer T`.
 */
export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parse(
    args,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      'output-dir': { type: 'string' },
      'input-dir': { type: 'string' },
      'max-jobs': { type: 'string', multiple: true },
      emulator: { type: 'boolean' },
      provider: { type: 'string' },
      ...IMAGE_OPTIONS,
      'auth-token': { type: 'string' },
      'allow-host': { type: 'string', multiple: true },
      'allow-private-urls': { type: 'boolean' },
      redis: { type: 'string' },
    },
    USAGE,
  );
  allowPrivateUrls(values['allow-private-urls']);
  // The built-in emulator lives in this process, where `reelgraph worker` processes cannot reach it.
  if (values.redis !== undefined && values.emulator) throw new UsageError('--emulator runs prompts in this process; it cannot be combined with --redis (point the workers at the providers instead).');
  if (values.redis !== undefined && values['max-jobs'] !== undefined) throw new UsageError('--max-jobs limits jobs run in this process; with --redis the workers run them (give each `reelgraph worker` --rate).');
  const images = imageOptions(values);
  const host = values.host ?? '127.0.0.1';
  const loopback = isLoopbackBind(host);
  const given = values['auth-token'] || process.env.REELGRAPH_AUTH_TOKEN || undefined;
  const token = given ?? (loopback ? undefined : randomBytes(24).toString('base64url'));
  const wildcard = host === '0.0.0.0' || host === '::';
  const addresses = wildcard ? externalAddresses() : loopback ? [] : [host];
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
    host,
    outputDir: resolve(values['output-dir'] ?? 'output'),
    inputDir: resolve(values['input-dir'] ?? 'input'),
    maxJobs: maxJobsOption(values['max-jobs']),
    env,
    publicUrl: images.publicUrl ?? publicUrl,
    emulatorUrl: emulator?.url,
    provider: providerOption(values.provider),
    authToken: token,
    ...(values.redis !== undefined ? { redis: values.redis } : {}),
    allowHosts: [...addresses.map((a) => (a.includes(':') ? `[${a}]` : a)), ...(values['allow-host'] ?? [])],
  });
  if (values.redis !== undefined) process.stderr.write(`Queue and history in Redis: prompts run on \`reelgraph worker --redis\` processes\n`);
  if (emulator) process.stderr.write(`Emulator mode: providers answer from the built-in emulator at ${emulator.url} (no keys, nothing is paid)\n`);
  const port = new URL(server.url).port;
  const query = token ? `/?token=${encodeURIComponent(token)}` : '';
  const urls = loopback ? [server.url] : [...addresses, ...(values['allow-host'] ?? [])].map((a) => `http://${a.includes(':') ? `[${a}]` : a}:${port}`);
  process.stderr.write(`reelgraph editor and API at ${urls.map((u) => `${u}${query}`).join('  ')}\n`);
  if (!loopback) {
    process.stderr.write(
      `Listening on ${host}: anyone who can reach this machine and knows the token can run paid jobs.${given ? '' : ' The token above was generated for this run.'}\n`,
    );
  }
  await untilSignal();
  await server.close();
  await emulator?.close();
  return 0;
}

function externalAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((info) => info !== undefined && !info.internal)
    .map((info) => info!.address);
}

export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
