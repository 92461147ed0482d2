import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { systemClock } from '../engine/clock.js';
import type { FilesContext, Logger, NodeContextBase } from '../engine/define-node.js';
import type { RunEvent } from '../engine/events.js';
import { executeGraph, type ExecuteResult } from '../engine/execute.js';
import { join } from 'node:path';
import { FileHost } from './file-host.js';
import { S3ImageHost } from './image-host-s3.js';
import { imageServices } from './image-services.js';
import { UploadJournal } from '../jobs/uploads.js';
import type { ParsedWorkflow } from '../comfy/index.js';
import { consumersOf } from '../engine/graph-queries.js';
import { createHttpClient } from '../http/client.js';
import type { HttpClient } from '../http/types.js';
import { OutputCache, defaultCacheDir } from '../engine/cache.js';
import { JobJournal, defaultStateDir } from '../jobs/journal.js';
import { JobSlots, type JobLimits } from '../jobs/slots.js';
import type { JournalPort } from '../jobs/port.js';
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
  /** s3://bucket/prefix: local images are uploaded there and providers get presigned URLs (--image-host). */
  imageHost?: string;
  /** 'off': images that do not fit are refused instead of fitted (--image-fit off). */
  imageFit?: 'auto' | 'off';
  /** Where a fitted copy is announced ("phone.jpg 4032×3024 5.9 MB → 2048×1536 0.9 MB for runway"); default the logger. */
  notice?: (line: string) => void;
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
  journal?: JournalPort | false;
  /** false: SaveVideo does not embed the workflow in the MP4 (ComfyUI's --disable-metadata). */
  metadata?: boolean;
  /** Start nothing new after the first failure; running nodes (and their paid tasks) still finish (--fail-fast). */
  failFast?: boolean;
  /** The workflow file, recorded with each job so `reelgraph jobs resume` can run it again. */
  workflowPath?: string;
  /** Per-provider limits on jobs in flight (--max-jobs runway=4); default unlimited. */
  maxJobs?: JobLimits;
  /** Buy again jobs that failed with a code the provider documents as final (--retry-failed). */
  retryFailed?: boolean;
}

export type RunResult =
  | (ExecuteResult & { validation: ValidationResult; promptId: string })
  | { status: 'invalid'; validation: ValidationResult; promptId: string };

/** Listeners one run's signal may carry before Node warns: one per waiting node or request. */
export const MANY_LISTENERS = 100_000;

export const silentLogger: Logger = { debug() {}, info() {}, warn() {} };

export function filesOf(options: Pick<RunOptions, 'inputDir' | 'outputDir' | 'publicUrl' | 'listen' | 'imageHost' | 'imageFit'>): FilesContext {
  return {
    inputDir: options.inputDir,
    outputDir: options.outputDir,
    publicUrl: options.publicUrl,
    listen: options.listen,
    ...(options.imageHost ? { imageHost: options.imageHost } : {}),
    ...(options.imageFit ? { imageFit: options.imageFit } : {}),
  };
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
  const s3 = options.imageHost ? new S3ImageHost(options.imageHost, env) : undefined;
  const log = options.log ?? silentLogger;
  const cacheDir = typeof options.cache === 'string' ? options.cache : defaultCacheDir(env);
  const cache = options.cache === false ? undefined : new OutputCache(cacheDir);
  const journal = options.journal === false ? undefined : (options.journal ?? runJournal(options, env));
  const services: NodeServices = {
    http,
    providers,
    journal,
    jobSlots: new JobSlots(options.maxJobs ?? {}),
    retryFailed: options.retryFailed === true,
    hostFile: async (path) => {
      if (s3) return s3.url(path);
      if (!fileHost) throw new Error('this provider needs a public URL for local images: run with --image-host s3://bucket/prefix or --public-url');
      return fileHost.url(path);
    },
    images: imageServices({
      providers,
      fitDir: join(cacheDir, 'fitted'),
      uploads: new UploadJournal(journal instanceof JobJournal ? journal.dir : defaultStateDir(env)),
      notice: options.notice ?? ((line) => log.info(line)),
    }),
  };
  try {
    const result = await executeGraph(parsed.graph, registry, {
      promptId,
      params: validation.params,
      concurrency: options.concurrency,
      failFast: options.failFast,
      cache,
      signal: options.signal,
      onEvent: options.onEvent,
      files,
      cacheCheck: { services },
      context: (nodeId, signal): NodeContextBase<NodeServices> => {
        // Every waiting node (a sleep, an HTTP request) listens on the run's one signal: dozens of
        // Polls at once are normal, not a leak, so Node's warning at 11 listeners does not apply.
        // Not 0 ("unlimited"): Node 20's getMaxListeners then throws for an AbortSignal, and undici's
        // fetch calls it (nodejs/node#56807).
        setMaxListeners(MANY_LISTENERS, signal);
        return {
        nodeId,
        services,
        files,
        clock: systemClock,
        log,
        signal,
        env,
        // ValidateImage checks the limits of the RunwayI2V it feeds.
        downstream: () => consumersOf(parsed.graph, nodeId).map((node) => ({ type: node.type, params: node.params })),
        workflow: { ...provenanceOf(parsed), embed: options.metadata !== false },
        };
      },
    });
    return { ...result, validation, promptId };
  } finally {
    await fileHost?.close();
    s3?.close();
    await ownHttp?.close();
  }
}

/**
 * What the saved video carries: the UI workflow the user opened as `workflow` (so ComfyUI reopens their graph), and
 * the mapped one that ran beside it when the two differ; an API prompt the user opened is the `prompt` as ever.
 */
function provenanceOf(parsed: ParsedWorkflow): { ui?: unknown; api: unknown; mapped?: unknown } {
  const openedUi = parsed.opened !== undefined && Array.isArray(parsed.opened.nodes) ? parsed.opened : undefined;
  if (!openedUi || parsed.ui === undefined) return { ui: parsed.ui, api: parsed.api };
  return { ui: openedUi, api: parsed.api, mapped: parsed.ui };
}

/** The user's journal, with this run's workflow and options recorded in every intent. */
function runJournal(options: RunOptions, env: NodeJS.ProcessEnv): JobJournal {
  const { inputDir, outputDir, publicUrl, listen, imageHost, imageFit } = options;
  const images = { ...(imageHost ? { imageHost } : {}), ...(imageFit ? { imageFit } : {}) };
  return new JobJournal(defaultStateDir(env), { workflowPath: options.workflowPath, options: { inputDir, outputDir, publicUrl, listen, ...images } });
}
