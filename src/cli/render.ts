import { join } from 'node:path';
import type { RunEvent } from '../engine/events.js';

/**
 * The terminal view of a run: one live line per node (state, provider progress,
 * elapsed time), redrawn in place, and a summary with output paths.
 */

type NodeState = 'pending' | 'cached' | 'running' | 'done' | 'error' | 'interrupted';

interface NodeLine {
  id: string;
  type: string;
  state: NodeState;
  startedAt?: number;
  endedAt?: number;
  percent?: number;
  phase?: string;
  /** The provider's own words, e.g. "running for 12s (queued 3s)". */
  note?: string;
}

const SYMBOL: Record<NodeState, string> = { pending: '·', cached: '≡', running: '▸', done: '✓', error: '✗', interrupted: '■' };

export class TerminalView {
  private lines = new Map<string, NodeLine>();
  private drawn = 0;
  private timer?: NodeJS.Timeout;
  private readonly outputs: string[] = [];

  constructor(
    nodes: { id: string; type: string }[],
    private readonly outputDir: string,
    private readonly write: (text: string) => void = (text) => process.stderr.write(text),
    private readonly now: () => number = Date.now,
    /** Redraw in place on a terminal; elsewhere print one line per state change. */
    private readonly live: boolean = process.stderr.isTTY === true,
  ) {
    for (const node of nodes) this.lines.set(node.id, { ...node, state: 'pending' });
  }

  start(): void {
    if (!this.live) return;
    this.timer = setInterval(() => this.draw(), 250);
    this.timer.unref();
  }

  handle(event: RunEvent): void {
    const at = this.now();
    if (event.type === 'execution_cached') for (const id of event.data.nodes) this.set(id, { state: 'cached' });
    if (event.type === 'executing' && event.data.node) this.set(event.data.node, { state: 'running', startedAt: at });
    if (event.type === 'progress_state') {
      for (const [id, node] of Object.entries(event.data.nodes)) if (node.state === 'finished') this.finish(id);
    }
    if (event.type === 'progress') {
      const { node, value, max, phase, note } = event.data;
      this.set(node, { percent: Math.round((100 * value) / (max || 1)), phase, note });
    }
    if (event.type === 'executed') this.collectOutputs(event.data.output);
    if (event.type === 'execution_error') this.set(event.data.node_id, { state: 'error', endedAt: at });
    if (event.type === 'execution_interrupted') {
      for (const line of this.lines.values()) if (line.state === 'running') this.set(line.id, { state: 'interrupted', endedAt: at });
    }
    this.draw();
  }

  private finish(id: string): void {
    if (this.lines.get(id)?.state === 'running') this.set(id, { state: 'done', endedAt: this.now() });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.draw();
  }

  summary(): string[] {
    return this.outputs;
  }

  private set(id: string, patch: Partial<NodeLine>): void {
    const line = this.lines.get(id);
    if (!line) return;
    const changed = patch.state !== undefined && patch.state !== line.state;
    Object.assign(line, patch);
    if (changed && !this.live) this.write(`${this.row(line)}\n`);
  }

  private collectOutputs(output: Record<string, unknown>): void {
    const entries = (output.videos ?? output.images) as { filename: string; subfolder: string }[] | undefined;
    for (const entry of entries ?? []) {
      const path = join(this.outputDir, entry.subfolder ?? '', entry.filename);
      if (!this.outputs.includes(path)) this.outputs.push(path);
    }
  }

  private draw(): void {
    if (!this.live) return;
    const rows = [...this.lines.values()].map((line) => this.row(line));
    const up = this.drawn > 0 ? `\x1b[${this.drawn}F` : '';
    this.write(up + rows.map((row) => `\x1b[2K${row}\n`).join(''));
    this.drawn = rows.length;
  }

  private row(line: NodeLine): string {
    const elapsed = line.startedAt ? `${(((line.endedAt ?? this.now()) - line.startedAt) / 1000).toFixed(1)}s` : '';
    const note = line.state === 'running' && line.note ? `  ${line.note}` : '';
    return `  ${SYMBOL[line.state]} ${line.id.padEnd(4)} ${line.type.padEnd(14)} ${line.state.padEnd(11)} ${progressText(line).padEnd(16)} ${elapsed.padStart(6)}${note}`.trimEnd();
  }
}

/** Queued jobs show no percentage: the provider reports none until the job runs. */
function progressText(line: NodeLine): string {
  if (line.state !== 'running' || line.phase === undefined) return '';
  if (line.phase === 'queued') return 'queued';
  return line.percent === undefined ? line.phase : `${line.phase} ${line.percent}%`;
}
