import { randomUUID } from 'node:crypto';
import { systemClock } from '../engine/clock.js';
import type { FilesContext, Logger, NodeContextBase } from '../engine/define-node.js';
import type { RunEvent } from '../engine/events.js';
import { executeGraph, type ExecuteResult } from '../engine/execute.js';
import { FileHost } from './file-host.js';
import type { ParsedWorkflow } from '../comfy/index.js';
import type { Graph } from '../engine/graph.js';
import { createHttpClient } from '../http/client.js';
import type { HttpClient } from '../http/types.js';
import { OutputCache, defaultCacheDir } from '../engine/cache.js';
import { JobJournal, defaultStateDir } from '../jobs/journal.js';
import { validateGraph, type ValidationResult } from '../engine/validate.js';
import { createNodeRegistry } from '../nodes/index.js';
import type { NodeServices } from '../nodes/services.js';
import { createProviderRegistry } from '../providers/registry.js';

/**
 * One run of a parsed workflow, as the CLI and the server both do it:
 * validate everything first (nothing is spent on an invalid workflow), then execute.
 */

export interface RunOptions {
  promptId?: string;
  inputDir: string;
  outputDir: string;
  publicUrl?: string;
  listen?: string;
  concurrency?: number;
  /** false turns the persistent output cache off; a string is the cache folder. */
  cache?: boolean | string;
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  env?: NodeJS.ProcessEnv;
  /**
   * The process's HTTP client (one undici pool), opened and closed by whoever owns the process: the CLI command or the
   * server. Without one, this run opens its own and closes it when it ends.
   */
  http?: HttpClient;
  log?: Logger;
  /** The job journal (default: the user's, in $REELGRAPH_STATE_DIR); false turns it off. */
  journal?: JobJournal | false;
  /** false: SaveVideo does not embed the workflow in the MP4 (ComfyUI's --disable-metadata). */
  metadata?: boolean;
  /** Start nothing new after the first failure; running nodes (and their paid tasks) still finish (--fail-fast). */
  failFast?: boolean;
  /** The workflow file, recorded with each job so `reelgraph jobs resume` can run it again. */
  workflowPath?: string;
}

export type RunResult =
  | (ExecuteResult & { validation: ValidationResult; promptId: string })
  | { status: 'invalid'; validation: ValidationResult; promptId: string };

export const silentLogger: Logger = { debug() {}, info() {}, warn() {} };

export function filesOf(options: Pick<RunOptions, 'inputDir' | 'outputDir' | 'publicUrl' | 'listen'>): FilesContext {
  return { inputDir: options.inputDir, outputDir: options.outputDir, publicUrl: options.publicUrl, listen: options.listen };
}

/** Validation only: reads local files (image headers), never the network. */
export async function validateWorkflow(parsed: ParsedWorkflow, options: RunOptions): Promise<ValidationResult> {
  return validateGraph(parsed.graph, createNodeRegistry(), { files: filesOf(options), env: options.env ?? process.env });
}

export async function runWorkflow(parsed: ParsedWorkflow, options: RunOptions): Promise<RunResult> {
  const promptId = options.promptId ?? randomUUID();
  const registry = createNodeRegistry();
  const env = options.env ?? process.env;
  const files = filesOf(options);
  const validation = await validateGraph(parsed.graph, registry, { files, env });
  if (!validation.ok) return { status: 'invalid', validation, promptId };

  const ownHttp = options.http ? undefined : createHttpClient();
  const http = options.http ?? ownHttp!;
  const providers = createProviderRegistry({ env, http });
  const fileHost = options.publicUrl ? new FileHost({ publicUrl: options.publicUrl, listen: options.listen }) : undefined;
  const log = options.log ?? silentLogger;
  const cache = options.cache === false ? undefined : new OutputCache(typeof options.cache === 'string' ? options.cache : defaultCacheDir());
  const journal = options.journal === false ? undefined : (options.journal ?? runJournal(options, env));
  const services: NodeServices = {
    http,
    providers,
    journal,
    hostFile: async (path) => {
      if (!fileHost) throw new Error('this provider needs a public URL for local images: run with --public-url');
      return fileHost.url(path);
    },
  };
  try {
    const result = await executeGraph(parsed.graph, registry, {
      promptId,
      concurrency: options.concurrency,
      failFast: options.failFast,
      cache,
      signal: options.signal,
      onEvent: options.onEvent,
      files,
      cacheCheck: { services },
      context: (nodeId, signal): NodeContextBase<NodeServices> => ({
        nodeId,
        services,
        files,
        clock: systemClock,
        log,
        signal,
        env,
        downstream: () => consumersOf(parsed.graph, nodeId),
        workflow: { ui: parsed.ui, api: parsed.api, embed: options.metadata !== false },
      }),
    });
    return { ...result, validation, promptId };
  } finally {
    await fileHost?.close();
    await ownHttp?.close();
  }
}

/** The nodes that take an input from `nodeId`: ValidateImage checks the limits of the RunwayI2V it feeds. */
function consumersOf(graph: Graph, nodeId: string): { type: string; params: Record<string, unknown> }[] {
  return [...graph.nodes.values()]
    .filter((node) => Object.values(node.inputs).some((link) => link.from === nodeId))
    .map((node) => ({ type: node.type, params: node.params }));
}

/** The user's journal, with this run's workflow and options recorded in every intent. */
function runJournal(options: RunOptions, env: NodeJS.ProcessEnv): JobJournal {
  const { inputDir, outputDir, publicUrl, listen } = options;
  return new JobJournal(defaultStateDir(env), { workflowPath: options.workflowPath, options: { inputDir, outputDir, publicUrl, listen } });
}
