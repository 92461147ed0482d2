import type { RunEvent } from '../engine/events.js';
import type { RowResult } from './run-row.js';

/**
 * Where a batch stands: rows done / running / queued / failed, jobs at the provider, money
 * spent so far and an ETA. Fed by row starts, each row's run events and row results.
 */

export interface BatchCounts {
  total: number;
  done: number;
  failed: number;
  running: number;
  queued: number;
  /** Rows whose provider job is queued or running at the provider right now. */
  atProvider: number;
  /** Estimated USD of rows whose job reached the provider (now or in an earlier run). */
  spent: number;
  /** Seconds to go at the pace of this run so far; undefined until a row has finished. */
  etaSeconds?: number;
}

export class BatchProgress {
  private readonly running = new Set<string>();
  private readonly atProvider = new Set<string>();
  private readonly paid = new Map<string, number>();
  private done = 0;
  private failed = 0;
  private finishedNow = 0;
  private readonly startedAt = Date.now();
  /** Rows running on queue workers (a batch on Redis sees counts, not row events). */
  private remoteRunning?: number;

  constructor(
    readonly total: number,
    private readonly costOf: (row: string) => number,
  ) {}

  /** From the queue: how many rows workers are running now. */
  setRemoteRunning(active: number): void {
    this.remoteRunning = active;
  }

  start(row: string): void {
    this.running.add(row);
  }

  /** A row's run event: a progress phase of queued/running means its job sits at the provider. */
  event(row: string, event: RunEvent): void {
    if (event.type !== 'progress') return;
    const phase = event.data.phase;
    if (phase === 'queued' || phase === 'running') {
      this.atProvider.add(row);
      this.paid.set(row, this.costOf(row));
    } else this.atProvider.delete(row);
  }

  finish(result: RowResult, countedNow = true): void {
    this.running.delete(result.row);
    this.atProvider.delete(result.row);
    if (result.status === 'done') this.done++;
    else this.failed++;
    if (result.jobId) this.paid.set(result.row, result.cost ?? 0);
    if (countedNow) this.finishedNow++;
  }

  counts(): BatchCounts {
    const finished = this.done + this.failed;
    const remaining = this.total - finished;
    const elapsed = (Date.now() - this.startedAt) / 1000;
    const running = this.remoteRunning ?? this.running.size;
    const counts: BatchCounts = {
      total: this.total,
      done: this.done,
      failed: this.failed,
      running,
      queued: Math.max(0, remaining - running),
      atProvider: this.atProvider.size,
      spent: Math.round([...this.paid.values()].reduce((sum, usd) => sum + usd, 0) * 100) / 100,
    };
    if (this.finishedNow > 0) counts.etaSeconds = Math.round((elapsed / this.finishedNow) * remaining);
    return counts;
  }
}

/** One line for the terminal. */
export function formatCounts(counts: BatchCounts): string {
  const eta = counts.etaSeconds === undefined ? '' : `, ETA ${formatDuration(counts.etaSeconds)}`;
  return (
    `${counts.done}/${counts.total} done, ${counts.running} running, ${counts.queued} queued, ${counts.failed} failed` +
    ` | ${counts.atProvider} at provider | spent ~$${counts.spent.toFixed(2)}${eta}`
  );
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes}m${String(seconds % 60).padStart(2, '0')}s` : `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
