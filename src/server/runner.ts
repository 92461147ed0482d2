import type { RunEvent } from '../engine/events.js';
import { formatIssue, isCancellation, messageOf, nodeLabel } from '../engine/errors.js';
import type { Logger } from '../engine/define-node.js';
import { runWorkflow } from '../app/run.js';
import type { HttpClient } from '../http/types.js';
import type { Graph } from '../engine/graph.js';
import type { QueueItem, RunPrompt } from './queue.js';
import type { JobLimits } from '../jobs/slots.js';
import type { JournalPort } from '../jobs/port.js';

/**
 * The queue worker: runs one queued prompt through runWorkflow and makes sure the
 * stream always ends the way ComfyUI clients expect (a terminal event, then
 * `executing {node: null}`), even when the run throws or the workflow went stale.
 */

export interface RunnerOptions {
  inputDir: string;
  outputDir: string;
  env: NodeJS.ProcessEnv;
  cache?: boolean | string;
  /** Per-provider limits on jobs in flight (serve --max-jobs). */
  maxJobs?: JobLimits;
  publicUrl?: string;
  listen?: string;
  imageHost?: string;
  imageFit?: 'auto' | 'off';
  notice?: (line: string) => void;
  /** The server's one HTTP client, shared by every prompt it runs. */
  http: HttpClient;
  /** The job journal (default: the user's file); a worker passes the one in Redis. */
  journal?: JournalPort;
  log?: Logger;
}

const TERMINAL = new Set(['execution_success', 'execution_error', 'execution_interrupted']);

export function createRunner(options: RunnerOptions): RunPrompt {
  return async (item, parsed, signal, onEvent) => {
    let ended = false;
    let terminal = false;
    const emit = (event: RunEvent): void => {
      if (TERMINAL.has(event.type)) terminal = true;
      if (event.type === 'executing' && event.data.node === null) ended = true;
      if (event.type === 'execution_cached' && event.data.nodes.length > 0) options.log?.info(`prompt ${item.promptId}: ${cachedLine(parsed.graph, event.data.nodes)}`);
      onEvent(event);
    };
    try {
      const result = await runWorkflow(parsed, { ...options, promptId: item.promptId, signal, onEvent: emit });
      if (result.status === 'invalid') emit(failure(item, result.validation.issues.map(formatIssue).join('\n'), 'WorkflowValidationError'));
    } catch (error) {
      if (!terminal) emit(signal.aborted || isCancellation(error) ? interrupted(item) : failure(item, messageOf(error), errorName(error)));
    }
    if (!terminal && signal.aborted) emit(interrupted(item));
    if (!ended) emit({ type: 'executing', data: { prompt_id: item.promptId, node: null } });
  };
}

/** Nodes named in a cached-nodes line, at most; a 100k-node prompt says how many more. */
const NAMED = 10;

/**
 * Which nodes a run took from the output cache. A worker re-running a prompt after another worker died may find
 * RunwayI2V's task already stored there: without this line its log said nothing about the job it did not create.
 */
export function cachedLine(graph: Graph, ids: string[]): string {
  const named = ids.slice(0, NAMED).map((id) => {
    const node = graph.nodes.get(id);
    return nodeLabel(id, node?.type, node?.where);
  });
  const more = ids.length > NAMED ? ` and ${ids.length - NAMED} more` : '';
  return `taken from the output cache, not run again: ${named.join(', ')}${more}`;
}

export function failure(item: QueueItem, message: string, type: string): RunEvent {
  return {
    type: 'execution_error',
    data: {
      prompt_id: item.promptId,
      node_id: '',
      node_type: '',
      executed: [],
      exception_message: message,
      exception_type: type,
      traceback: [],
      timestamp: Date.now(),
    },
  };
}

function interrupted(item: QueueItem): RunEvent {
  return { type: 'execution_interrupted', data: { prompt_id: item.promptId, node_id: null, node_type: null, executed: [], timestamp: Date.now() } };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}
