import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RowResult } from './run-row.js';

/** The batch's manifest: batch.jsonl (one row result per line) and batch.csv (the same, for spreadsheets). */

const COLUMNS: (keyof RowResult)[] = ['row', 'index', 'inputs', 'status', 'reason', 'video', 'jobId', 'provider', 'cost', 'seconds'];

export async function writeManifest(dir: string, results: RowResult[]): Promise<{ jsonl: string; csv: string }> {
  await mkdir(dir, { recursive: true });
  const sorted = [...results].sort((a, b) => a.index - b.index);
  const jsonl = join(dir, 'batch.jsonl');
  const csv = join(dir, 'batch.csv');
  await replace(jsonl, sorted.map((result) => `${JSON.stringify(result)}\n`).join(''));
  const lines = [COLUMNS.join(','), ...sorted.map((result) => COLUMNS.map((column) => csvField(result[column])).join(','))];
  await replace(csv, `${lines.join('\n')}\n`);
  return { jsonl, csv };
}

/** Written whole, then renamed: a reader never sees half a manifest. */
async function replace(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
}

function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = String(value);
  // A leading = + - @ would be a formula in a spreadsheet: the inputs come from strangers.
  const safe = /^[=+\-@]/.test(text) && typeof value === 'string' ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
