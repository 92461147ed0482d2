import type { RunEvent } from '../engine/events.js';
import { createHttpClient } from '../http/client.js';
import type { JournalPort } from '../jobs/port.js';
import { describeRow } from './rows.js';
import type { PreparedRow } from './prepare.js';
import { runRow, type RowResult, type RowRunOptions } from './run-row.js';

/**
 * A batch in this process: up to `parallel` rows at once (a row waiting on its provider job
 * costs a timer, not a thread), one shared HTTP client and journal. A failed row is recorded
 * and the others go on.
 */

export interface InProcessBatchOptions extends Omit<RowRunOptions, 'http' | 'onEvent' | 'journal'> {
  journal: JournalPort;
  parallel: number;
  onRowStart?(row: string): void;
  onRowEvent?(row: string, event: RunEvent): void;
  onRowResult?(result: RowResult): void;
}

export async function runBatchInProcess(prepared: PreparedRow[], options: InProcessBatchOptions): Promise<RowResult[]> {
  const http = createHttpClient();
  const results: RowResult[] = [];
  let next = 0;
  const lane = async () => {
    while (next < prepared.length && !options.signal?.aborted) {
      const entry = prepared[next++]!;
      const result = await runOne(entry, options, http);
      results.push(result);
      options.onRowResult?.(result);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.parallel, prepared.length) }, lane));
  } finally {
    await http.close();
  }
  return results;
}

async function runOne(entry: PreparedRow, options: InProcessBatchOptions, http: RowRunOptions['http']): Promise<RowResult> {
  const { row } = entry;
  if (entry.invalid || !entry.bound) {
    return { row: row.id, index: row.index, inputs: describeRow(row), status: 'invalid', reason: entry.invalid ?? 'not bound', seconds: 0 };
  }
  options.onRowStart?.(row.id);
  return runRow(entry.bound, row, entry.cost, { ...options, http, onEvent: (event) => options.onRowEvent?.(row.id, event) });
}
