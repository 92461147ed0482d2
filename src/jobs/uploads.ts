import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Uploads a provider still holds (Runway's ephemeral uploads live 24 h), by content hash, so the
 * same image is not uploaded again on every run. An append-only JSONL file beside the job journal;
 * lines hold no image bytes and no keys.
 */

export interface UploadRecord {
  provider: string;
  /** The API the upload was made at: an upload at one base URL means nothing at another. */
  baseUrl: string;
  sha256: string;
  uri: string;
  /** Unix ms after which the provider no longer has it. */
  expiresAt: number;
}

/** An upload is reused only while it has at least this long to live: the provider reads it after the create. */
const REUSE_MARGIN_MS = 60 * 60 * 1000;
/** A larger file is not read (a journal this size holds years of uploads). */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

export class UploadJournal {
  readonly file: string;

  constructor(readonly dir: string) {
    this.file = join(dir, 'uploads.jsonl');
  }

  /** The newest upload of this content at this API that is still alive for a while, if any. */
  async find(provider: string, baseUrl: string, sha256: string, now = Date.now()): Promise<UploadRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch {
      return undefined;
    }
    if (text.length > MAX_FILE_BYTES) return undefined;
    let found: UploadRecord | undefined;
    for (const line of text.split('\n')) {
      const record = parseLine(line);
      if (record && record.provider === provider && record.baseUrl === baseUrl && record.sha256 === sha256 && record.expiresAt - REUSE_MARGIN_MS > now) found = record;
    }
    return found;
  }

  async record(record: UploadRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await appendFile(this.file, `${JSON.stringify({ type: 'upload', ...record, at: Date.now() })}\n`, { mode: 0o600 });
  }
}

function parseLine(line: string): UploadRecord | undefined {
  if (line.trim() === '') return undefined;
  try {
    const value = JSON.parse(line) as Partial<UploadRecord> & { type?: string };
    const ok = value.type === 'upload' && typeof value.provider === 'string' && typeof value.baseUrl === 'string' && typeof value.sha256 === 'string' && typeof value.uri === 'string' && typeof value.expiresAt === 'number';
    return ok ? (value as UploadRecord) : undefined;
  } catch {
    // A line cut by a crash mid-write: the others still count.
    return undefined;
  }
}
