import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UploadJournal } from '../../../src/jobs/uploads.js';

/** Uploads are reused by content hash at the same API while the provider still holds them. */

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reelgraph-uploads-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const HOUR = 60 * 60 * 1000;
const record = { provider: 'runway', baseUrl: 'https://api.dev.runwayml.com', sha256: 'a'.repeat(64), uri: 'runway://uploads/x/photo.png' };

describe('UploadJournal', () => {
  it('finds an upload with more than an hour to live, at the same API only', async () => {
    const journal = new UploadJournal(dir);
    const now = 1_000_000;
    await journal.record({ ...record, expiresAt: now + 24 * HOUR });
    expect((await journal.find('runway', record.baseUrl, record.sha256, now))?.uri).toBe(record.uri);
    expect(await journal.find('runway', 'http://127.0.0.1:9', record.sha256, now)).toBeUndefined();
    expect(await journal.find('runway', record.baseUrl, 'b'.repeat(64), now)).toBeUndefined();
    expect(await journal.find('runway', record.baseUrl, record.sha256, now + 23.5 * HOUR)).toBeUndefined();
  });

  it('survives a line cut short by a crash', async () => {
    const journal = new UploadJournal(dir);
    await journal.record({ ...record, expiresAt: Date.now() + 24 * HOUR });
    await appendFile(journal.file, '{"type":"upload","provider":"run');
    expect((await journal.find('runway', record.baseUrl, record.sha256))?.uri).toBe(record.uri);
  });

  it('finds nothing when there is no journal yet', async () => {
    expect(await new UploadJournal(join(dir, 'none')).find('runway', record.baseUrl, record.sha256)).toBeUndefined();
  });
});
