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

/** `prepared` may still be coming (rowPreparer): each lane takes the next row as soon as it is checked. */
export async function runBatchInProcess(prepared: Iterable<PreparedRow> | AsyncIterable<PreparedRow>, options: InProcessBatchOptions): Promise<RowResult[]> {
  const http = createHttpClient();
  const results: RowResult[] = [];
  // One iterator for every lane: an async generator hands out its rows one at a time, in order.
  const rows = (async function* () {
    yield* prepared;
  })();
  const lane = async () => {
    while (!options.signal?.aborted) {
      const next = await rows.next();
      if (next.done) return;
      const result = await runOne(next.value, options, http);
      results.push(result);
      options.onRowResult?.(result);
    }
  };
  try {
    // Settled, not all: if checking a row throws, the rows already running still finish before it is reported.
    const lanes = await Promise.allSettled(Array.from({ length: options.parallel }, lane));
    const failed = lanes.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
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
