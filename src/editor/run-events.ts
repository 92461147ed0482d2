import type { LGraph, LGraphCanvas } from '@comfyorg/litegraph';
import type { QueueResponse } from './api.js';
import { showVideo, videoFileOf } from './previews.js';
import { runStates } from './run-state.js';
import type { ServerMessage } from './socket.js';
import { friendlyError } from './friendly-error.js';

/** Turns websocket messages and validation errors into node states the canvas draws. */

export interface RunView {
  graph: LGraph;
  canvas: LGraphCanvas;
  overlay: HTMLElement;
  setStatus(text: string, tone?: 'ok' | 'busy' | 'error'): void;
  setQueue(remaining: number): void;
  /** Shows a failed run's full message behind a disclosure. */
  showDetails?(details: string): void;
  /** The prompt this editor queued last; other prompts' lifecycle events are not ours. */
  promptId?: string;
}

/**
 * The editor node an execution id belongs to: a node inside a subgraph runs as "10:5:7" (the instance ids and
 * its own, docs/comfyui.md "Subgraphs…" §1), and the editor shows it on instance 10, which it opened read-through.
 */
export function shownNodeId(executionId: string): string {
  const colon = executionId.indexOf(':');
  return colon === -1 ? executionId : executionId.slice(0, colon);
}

export function handleMessage(view: RunView, message: ServerMessage): void {
  const data = message.data;
  const node = typeof data.node === 'string' ? shownNodeId(data.node) : undefined;
  switch (message.type) {
    case 'status':
      view.setQueue(queueRemaining(data));
      return;
    case 'execution_start':
      startRun(view, String(data.prompt_id));
      return;
    case 'execution_cached':
      for (const id of (data.nodes as string[] | undefined) ?? []) runStates.set(shownNodeId(id), { state: 'cached' });
      break;
    case 'executing':
      if (node) runStates.set(node, { ...runStates.get(node), state: 'running', value: 0, max: 1 });
      break;
    case 'progress':
      if (node) runStates.set(node, { state: 'running', value: Number(data.value), max: Number(data.max), note: progressNote(data) });
      break;
    case 'executed':
      if (node) finishNode(view, node, (data.output ?? {}) as Record<string, unknown>);
      break;
    case 'progress_state':
      markFinished(data);
      break;
    case 'execution_success':
      // Nodes without UI output send no `executed`; success means they all finished.
      for (const [id, state] of runStates) if (state.state === 'running' || state.state === 'queued') runStates.set(id, { state: 'done', value: 1, max: 1 });
      view.setStatus('Done', 'ok');
      break;
    case 'execution_error': {
      const { sentence, details } = friendlyError(String(data.exception_message ?? ''));
      settleBusyNodes();
      if (data.node_id) runStates.set(shownNodeId(String(data.node_id)), { state: 'error', errors: [sentence] });
      view.setStatus(`Failed: ${sentence}`, 'error');
      view.showDetails?.(details);
      break;
    }
    case 'execution_interrupted':
      // Stop: nothing is running any more, so no node may keep its busy look.
      settleBusyNodes();
      view.setStatus('Stopped', 'error');
      break;
  }
  view.canvas.setDirty(true, false);
}

/** Nodes still drawn as queued or running go back to their plain look (the run ended). */
function settleBusyNodes(): void {
  for (const [id, state] of runStates) if (state.state === 'running' || state.state === 'queued') runStates.delete(id);
}

function startRun(view: RunView, promptId: string): void {
  view.promptId = promptId;
  runStates.clear();
  for (const node of view.graph.nodes) runStates.set(String(node.id), { state: 'queued' });
  view.setStatus('Running…', 'busy');
}

function finishNode(view: RunView, id: string, output: Record<string, unknown>): void {
  runStates.set(id, { state: 'done', value: 1, max: 1 });
  const node = view.graph.getNodeById(Number(id)) ?? view.graph.getNodeById(id);
  const video = videoFileOf(output);
  if (node && video) showVideo(view.overlay, node, video);
}

function markFinished(data: Record<string, unknown>): void {
  const nodes = (data.nodes ?? {}) as Record<string, { state?: string }>;
  for (const [executionId, state] of Object.entries(nodes)) {
    const id = shownNodeId(executionId);
    const current = runStates.get(id);
    if (state.state === 'finished' && current?.state !== 'cached') runStates.set(id, { state: 'done', value: 1, max: 1 });
  }
}

function progressNote(data: Record<string, unknown>): string | undefined {
  const phase = typeof data.phase === 'string' ? data.phase : undefined;
  const seconds = typeof data.elapsed_ms === 'number' ? `${Math.round(data.elapsed_ms / 1000)}s` : undefined;
  return [phase, seconds].filter(Boolean).join(' · ') || undefined;
}

function queueRemaining(data: Record<string, unknown>): number {
  const status = data.status as { exec_info?: { queue_remaining?: number } } | undefined;
  return status?.exec_info?.queue_remaining ?? 0;
}

/** A 400 from /prompt: mark every node it names, and say it in the status bar. */
export function showValidationErrors(view: RunView, response: QueueResponse): void {
  runStates.clear();
  const entries = Object.entries(response.nodeErrors ?? {});
  for (const [id, entry] of entries) {
    const errors = entry.errors.map((error) => {
      const input = error.extra_info?.input_name;
      return `${input ? `${input}: ` : ''}${error.message}${error.details ? ` — ${error.details}` : ''}`;
    });
    const shown = shownNodeId(id);
    runStates.set(shown, { state: 'error', errors: [...(runStates.get(shown)?.errors ?? []), ...errors] });
  }
  const first = response.error?.message ?? 'Prompt failed validation';
  const details = response.error?.details ? `: ${response.error.details}` : '';
  view.setStatus(entries.length ? `${entries.length} node(s) need attention` : `${first}${details}`, 'error');
  view.canvas.setDirty(true, false);
}
