import { PROVIDERS } from '../providers/catalog.js';

/** Environment that points every provider at the emulator, with placeholder keys. */
export function emulatorEnv(url: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const info of Object.values(PROVIDERS)) {
    env[info.baseUrlEnv] = url;
    env[info.keyEnv] = info.id === 'runway' ? `key_${'0'.repeat(128)}` : 'emulator-key';
  }
  return env;
}
