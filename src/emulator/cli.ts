import { startEmulator } from './server.js';
import type { Emulator } from './server.js';

/**
 * `reelgraph emulate`: runs the emulator until Ctrl-C and prints how to point providers at it.
 * Resolves with the running emulator; closing it also removes the signal handlers.
 */
export async function runEmulatorCli(port: number, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<Emulator> {
  const emulator = await startEmulator({ port });
  write(`Provider emulator listening on ${emulator.url}`);
  write(`Point providers at it: RUNCOMFY_BASE_URL=${emulator.url} COMETAPI_BASE_URL=${emulator.url} RUNWAYML_BASE_URL=${emulator.url}`);
  write('Any non-empty key is accepted. Control API: GET /_emulator/log, GET /_emulator/jobs, POST /_emulator/faults, POST /_emulator/reset, POST /_emulator/config');
  const stop = () => {
    void close().then(() => process.exit(0));
  };
  const close = async () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await emulator.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return { ...emulator, close };
}
