import { parse, positiveInt } from '../args.js';
import { untilSignal } from './serve.js';
import { startEmulator } from '../../emulator/index.js';

const USAGE = 'reelgraph emulate [--port P]';

/** `reelgraph emulate`: the RunComfy, CometAPI and Runway protocols on one loopback port. */
export async function emulateCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { port: { type: 'string' } }, USAGE);
  const emulator = await startEmulator({ port: values.port === '0' ? 0 : positiveInt(values.port, 'port', 8189) });
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
