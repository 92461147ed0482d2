import type { LGraphNode } from '@comfyorg/litegraph';
import { hasUnknownJob } from './unknown-job.js';

/**
 * What the editor knows about each node during a run or after a failed validation,
 * drawn on the node itself: an outline by state, a progress bar under the title,
 * and error messages under the node.
 */

export interface NodeRunState {
  state: 'queued' | 'running' | 'done' | 'cached' | 'error';
  value?: number;
  max?: number;
  note?: string;
  errors?: string[];
}

export const runStates = new Map<string, NodeRunState>();

const OUTLINE: Record<NodeRunState['state'], string> = {
  queued: '#5c6370',
  running: '#4caf50',
  done: '#2e7d32',
  cached: '#607d8b',
  error: '#ff4d4f',
};

const TITLE_HEIGHT = 30;

/** Called from each node's onDrawForeground; coordinates are node-local. */
export function drawNodeState(node: LGraphNode, ctx: CanvasRenderingContext2D): void {
  const state = runStates.get(String(node.id));
  if (!state) return;
  const width = node.size[0] ?? 0;
  const height = node.size[1] ?? 0;
  ctx.save();
  if (state.state !== 'queued' || state.errors) {
    ctx.strokeStyle = OUTLINE[state.state];
    ctx.lineWidth = state.state === 'error' ? 3 : 2;
    ctx.beginPath();
    ctx.roundRect(-3, -TITLE_HEIGHT - 3, width + 6, height + TITLE_HEIGHT + 6, 10);
    ctx.stroke();
  }
  if (state.state === 'running' || (state.value !== undefined && state.state !== 'error')) drawProgress(ctx, state, width);
  // A job with an unknown outcome says it in its own box under the node, with what to do.
  if (state.errors?.length && !hasUnknownJob(String(node.id))) drawErrors(ctx, state.errors, width, height);
  ctx.restore();
}

function drawProgress(ctx: CanvasRenderingContext2D, state: NodeRunState, width: number): void {
  const fraction = state.max ? Math.min(1, Math.max(0, (state.value ?? 0) / state.max)) : 0;
  ctx.fillStyle = 'rgba(0,0,0,0.45)';
  ctx.fillRect(0, -4, width, 4);
  ctx.fillStyle = state.state === 'done' ? '#2e7d32' : '#66bb6a';
  ctx.fillRect(0, -4, width * (state.state === 'done' ? 1 : fraction), 4);
  if (state.note && state.state === 'running') {
    ctx.fillStyle = '#9ccc65';
    ctx.font = '11px sans-serif';
    ctx.textAlign = 'right';
    ctx.fillText(state.note, width - 8, -TITLE_HEIGHT - 8);
  }
}

function drawErrors(ctx: CanvasRenderingContext2D, errors: string[], width: number, height: number): void {
  ctx.font = '12px sans-serif';
  ctx.textAlign = 'left';
  const lines = errors.flatMap((error) => wrap(ctx, error, Math.max(width, 240)));
  ctx.fillStyle = 'rgba(60, 10, 12, 0.92)';
  ctx.beginPath();
  ctx.roundRect(0, height + 8, Math.max(width, 240) + 12, lines.length * 16 + 10, 6);
  ctx.fill();
  ctx.fillStyle = '#ff8a8a';
  lines.forEach((line, index) => ctx.fillText(line, 6, height + 26 + index * 16));
}

function wrap(ctx: CanvasRenderingContext2D, text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    const candidate = line ? `${line} ${word}` : word;
    if (ctx.measureText(candidate).width > width && line) {
      lines.push(line);
      line = word;
    } else line = candidate;
  }
  if (line) lines.push(line);
  return lines;
}
