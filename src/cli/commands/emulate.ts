import { parse, positiveInt } from '../args.js';
import { untilSignal } from './serve.js';
import { startEmulator } from '../../emulator/index.js';

const USAGE = 'reelgraph emulate [--port P] [--runway-slots N] [--create-rate N]';

/** `reelgraph emulate`: the RunComfy, CometAPI and Runway protocols on one loopback port. */
export async function emulateCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { port: { type: 'string' }, 'runway-slots': { type: 'string' }, 'create-rate': { type: 'string' } }, USAGE);
  const emulator = await startEmulator({
    port: values.port === '0' ? 0 : positiveInt(values.port, 'port', 8189),
    // Runway-style slots: N running, the rest THROTTLED in FIFO order. A create rate limit: 429 with Retry-After.
    ...(values['runway-slots'] !== undefined ? { runwayMaxConcurrent: positiveInt(values['runway-slots'], 'runway-slots', 0) } : {}),
    ...(values['create-rate'] !== undefined ? { createRatePerS: positiveInt(values['create-rate'], 'create-rate', 0) } : {}),
  });
  process.stdout.write(`${JSON.stringify({ url: emulator.url })}\n`);
  process.stderr.write(
    `Provider emulator at ${emulator.url}. Point reelgraph at it with:\n` +
      `  export RUNWAYML_BASE_URL=${emulator.url} COMETAPI_BASE_URL=${emulator.url} RUNCOMFY_BASE_URL=${emulator.url}\n` +
      `  export RUNWAYML_API_SECRET=emulator COMETAPI_KEY=emulator RUNCOMFY_API_TOKEN=emulator\n`,
  );
  await untilSignal();
  await emulator.close();
  return 0;
}
