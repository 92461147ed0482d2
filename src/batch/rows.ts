import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { InputError } from '../engine/errors.js';

/**
 * The rows of a batch, read from `--inputs`: a folder (one row per image), a CSV file or a JSONL
 * file (one row per record). Inputs come from strangers, so size and count are bounded.
 */

export interface BatchRow {
  /** Stable across re-runs of the same inputs: the file name, the `id` column, or `row-N`. */
  id: string;
  /** 1-based position in the inputs. */
  index: number;
  /** The folder a bound image is read from (the inputs folder, or the CSV/JSONL file's own). */
  inputDir: string;
  /** Column → value: `image` binds the LoadImage; `node.param` sets a widget (by node id or title). */
  values: Record<string, string | number | boolean>;
}

/** Documented limits (docs/batches.md): a batch is thousands of rows, not millions. */
export const MAX_ROWS = 100_000;
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;
const MAX_ID_LENGTH = 200;
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif']);

export async function readRows(path: string): Promise<BatchRow[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new InputError(`--inputs ${path} does not exist`);
  if (info.isDirectory()) return folderRows(path);
  if (info.size > MAX_INPUT_BYTES) throw new InputError(`--inputs ${path} is ${info.size} bytes, limit ${MAX_INPUT_BYTES}`);
  const ext = extname(path).toLowerCase();
  const text = await readFile(path, 'utf8');
  if (ext === '.csv') return recordRows(path, csvRecords(path, text));
  if (ext === '.jsonl' || ext === '.ndjson') return recordRows(path, jsonlRecords(path, text));
  throw new InputError(`--inputs ${path} must be a folder of images, a .csv or a .jsonl file`);
}

async function folderRows(dir: string): Promise<BatchRow[]> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase()))
    .map((entry) => entry.name)
    .sort();
  if (names.length === 0) throw new InputError(`--inputs ${dir} holds no images (${[...IMAGE_EXTENSIONS].join(', ')})`);
  checkCount(dir, names.length);
  return names.map((name, i) => ({ id: name, index: i + 1, inputDir: dir, values: { image: name } }));
}

function csvRecords(path: string, text: string): Record<string, unknown>[] {
  try {
    return parseCsv(text, { columns: true, bom: true, skip_empty_lines: true, trim: true, max_record_size: 1024 * 1024 }) as Record<string, unknown>[];
  } catch (error) {
    throw new InputError(`--inputs ${path} is not readable CSV: ${(error as Error).message.split('\n')[0]}`);
  }
}

function jsonlRecords(path: string, text: string): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new InputError(`--inputs ${path} line ${i + 1} is not JSON`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError(`--inputs ${path} line ${i + 1} must be a JSON object`);
    records.push(value as Record<string, unknown>);
  });
  return records;
}

function recordRows(path: string, records: Record<string, unknown>[]): BatchRow[] {
  if (records.length === 0) throw new InputError(`--inputs ${path} holds no rows`);
  checkCount(path, records.length);
  const seen = new Set<string>();
  return records.map((record, i) => {
    const { id: rawId, ...rest } = record;
    const id = rawId === undefined || rawId === '' ? `row-${i + 1}` : String(rawId);
    if (id.length > MAX_ID_LENGTH) throw new InputError(`--inputs ${basename(path)} row ${i + 1}: id is ${id.length} characters, limit ${MAX_ID_LENGTH}`);
    if (seen.has(id)) throw new InputError(`--inputs ${basename(path)} row ${i + 1}: id "${id}" is used twice; each row needs its own id`);
    seen.add(id);
    const values: BatchRow['values'] = {};
    for (const [column, value] of Object.entries(rest)) {
      if (value === '' || value === null || value === undefined) continue;
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw new InputError(`--inputs ${basename(path)} row ${i + 1}: column "${column}" must be a string, number or boolean`);
      }
      values[column] = value;
    }
    return { id, index: i + 1, inputDir: dirname(path), values };
  });
}

function checkCount(path: string, count: number): void {
  if (count > MAX_ROWS) throw new InputError(`--inputs ${path} has ${count} rows, limit ${MAX_ROWS} per batch`);
}

/** The row's inputs as the manifest shows them. */
export function describeRow(row: BatchRow): string {
  return Object.entries(row.values)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(' ');
}
