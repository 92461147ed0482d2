import { describe, expect, it } from 'vitest';
import { runEmulatorCli } from '../../../src/emulator/index.js';

describe('runEmulatorCli', () => {
  it('starts on the given port, prints its URL and answers the control API', async () => {
    const lines: string[] = [];
    const handlersBefore = process.listenerCount('SIGINT');
    const emulator = await runEmulatorCli(0, (line) => lines.push(line));
    try {
      expect(lines[0]).toBe(`Provider emulator listening on ${emulator.url}`);
      expect(lines.join('\n')).toContain(`RUNWAYML_BASE_URL=${emulator.url}`);
      const res = await fetch(`${emulator.url}/_emulator/jobs`);
      expect(await res.json()).toEqual({ jobs: [] });
    } finally {
      await emulator.close();
    }
    expect(process.listenerCount('SIGINT')).toBe(handlersBefore);
  });
});
