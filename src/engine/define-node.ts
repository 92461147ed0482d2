import type { z } from 'zod';
import type { Clock } from './clock.js';
import type { Issue } from './errors.js';

/** Socket types, as ComfyUI names them. */
export type SocketType = 'IMAGE' | 'VIDEO' | 'TASK';

export interface InputSocket {
  type: SocketType;
  optional?: boolean;
  tooltip?: string;
}

export interface OutputSocket {
  name: string;
  type: SocketType;
}

/** Extra widget behaviour that ComfyUI encodes in widgets_values and the editor draws. */
export interface WidgetHints {
  multiline?: boolean;
  /** ComfyUI inserts a control value ("fixed", "randomize", …) after such a widget. */
  controlAfterGenerate?: boolean;
  /** ComfyUI's LoadImage has an extra "upload" slot after the image widget. */
  imageUpload?: boolean;
  tooltip?: string;
}

export interface Progress {
  value: number;
  max: number;
  /** Where the remote job is: queued time is reported apart from running time. */
  phase?: 'queued' | 'running' | 'downloading';
  note?: string;
}

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

export interface FilesContext {
  /** Folder relative image paths are resolved in (default: the workflow file's folder). */
  inputDir: string;
  /** Folder SaveVideo writes into. */
  outputDir: string;
  /** Public base URL and listen address for serving local images to providers that need a URL. */
  publicUrl?: string;
  listen?: string;
  /** Object storage that hosts local images for providers that fetch by URL (--image-host s3://bucket/prefix). */
  imageHost?: string;
  /** 'off' (--image-fit off): an image that does not fit is refused rather than fitted. */
  imageFit?: 'auto' | 'off';
}

/**
 * What a node's run() may use. Nodes touch the outside world only through this.
 * `services` is whatever the node pack hands its nodes (HTTP, providers, a job journal…): the engine passes it through
 * untouched and never names what is in it.
 */
export interface NodeContext<S = unknown> {
  nodeId: string;
  services: S;
  files: FilesContext;
  clock: Clock;
  log: Logger;
  /** Aborts only when the user stops the run (Ctrl-C, /interrupt), never because another node failed. */
  signal: AbortSignal;
  progress(progress: Progress): void;
  /**
   * Gives this node's concurrency slot back while `wait` runs and takes one again after, so a node waiting on a
   * remote job does not keep other nodes from working (Poll wraps its waiting loop in it).
   */
  releaseSlotWhile<T>(wait: () => Promise<T>): Promise<T>;
  /** The whole workflow being run, for provenance metadata (keys are never in it). */
  workflow?: { ui?: unknown; api?: unknown; /** The mapped UI workflow that ran, when `ui` is the one the user opened. */ mapped?: unknown; /** false when the user turned provenance off (--no-metadata); SaveVideo then embeds nothing. */ embed?: boolean };
  /** Nodes that consume this node's outputs (ValidateImage checks the downstream RunwayI2V's limits). Optional: without it ValidateImage reads workflow.api, else checks the strictest limits. */
  downstream?(): { type: string; params: Record<string, unknown> }[];
  /** Environment for base-URL overrides (RUNWAYML_BASE_URL…); process.env when absent. Keys are read by the provider registry, not by nodes. */
  env?: NodeJS.ProcessEnv;
}

/** What the caller builds for each node; the executor adds the parts it owns. */
export type NodeContextBase<S = unknown> = Omit<NodeContext<S>, 'progress' | 'releaseSlotWhile'>;

/** A node feeding an input, as validate() sees it. */
export interface UpstreamNode {
  type: string;
  params: Record<string, unknown>;
  /** Optional: that node's own upstream, so RunwayI2V can see a LoadImage through a ValidateImage. */
  upstream?(input: string): UpstreamNode | undefined;
}

/** What validate() may use: no network and no spending; files may be read. */
export interface ValidationContext {
  nodeId: string;
  files: FilesContext;
  env: NodeJS.ProcessEnv;
  /** Params of the node connected to each input, so ValidateImage can read RunwayI2V's provider/model. */
  upstream(input: string): UpstreamNode | undefined;
  /** Nodes that consume this node's outputs. */
  downstream(): { type: string; params: Record<string, unknown> }[];
  /**
   * The result of `compute` shared by every node of this one validation run under the same key (20,000 LoadImages
   * of one file read its header once). Absent in contexts built outside validateGraph.
   */
  shared?<T>(key: string, compute: () => Promise<T>): Promise<T>;
}

export type Values = Record<string, unknown>;

/** What isCacheValid may consult: the node pack's services (its journal knows whether a cached task has since failed). */
export interface CacheCheckContext<S = unknown> {
  /** What the caller has of the node pack's services (a dry run has a journal but no HTTP client). */
  services?: Partial<S>;
}

/** A paid job a node would create if it ran, for the dry run's estimate. */
export interface PlannedJob {
  provider: string;
  model: string;
  durationSeconds: number;
  /** The output frame, e.g. "1280:720". */
  ratio?: string;
  /**
   * The job already exists, so running creates nothing: 'reattach' (it is at the provider; the run follows it at no
   * cost) or 'unknown' (an earlier create got no clear answer: the run refuses to submit until the user decides).
   */
  existing?: { status: 'reattach' | 'unknown'; jobKey?: string; taskId?: string; since?: number };
}

/** What plannedJobs may consult: the node's upstream (as validate() sees it), the pack's services, and its cached outputs. */
export interface PlanContext<S = unknown> extends CacheCheckContext<S> {
  nodeId: string;
  files: FilesContext;
  env: NodeJS.ProcessEnv;
  upstream(input: string): UpstreamNode | undefined;
  /** The node's outputs when the run takes them from the cache (a downstream node still uses them). */
  cached?: Values;
}

/** Rewrites a saved node's values from an older version of its type to the next one. */
export interface NodeMigration {
  from: number;
  to: number;
  /** What changed, for the log. */
  description: string;
  /** Positional UI widgets_values of version `from` → version `to`. */
  widgets(values: unknown[]): unknown[];
  /** Named API inputs of version `from` → version `to` (links included, untouched). */
  inputs(values: Record<string, unknown>): Record<string, unknown>;
}

export interface NodeDefinition<P extends z.ZodObject = z.ZodObject, S = any> {
  /** Stable forever: saved workflows refer to it. */
  type: string;
  /** Bumped on breaking param changes; saved workflows record it. */
  version: number;
  displayName: string;
  category: string;
  description: string;
  /** Linked inputs, in display order. */
  inputs: Record<string, InputSocket>;
  /** Widget values, in widget order (ComfyUI's widgets_values order). */
  params: P;
  widgets?: Partial<Record<keyof z.infer<P> & string, WidgetHints>>;
  outputs: OutputSocket[];
  /** Output nodes are what a run is for; a workflow needs at least one. */
  outputNode?: boolean;
  /** Checks that need more than the schema (provider limits, API keys); no spending. */
  validate?(params: z.infer<P>, ctx: ValidationContext): Issue[] | Promise<Issue[]>;
  /** Fingerprint of external inputs (a file's content hash) for the cache key. */
  fingerprint?(params: z.infer<P>, ctx: { files: FilesContext }): Promise<string>;
  /** Whether outputs of this node may be reused from the cache (default true). */
  cacheable?: boolean;
  /** Whether a cached output is still usable (e.g. the saved file still exists, the task is not dead). */
  isCacheValid?(outputs: Values, ctx: CacheCheckContext<S>): Promise<boolean>;
  /** Outputs keyed by output socket name. */
  run(inputs: Values, params: z.infer<P>, ctx: NodeContext<S>): Promise<Values>;
  /**
   * The paid jobs this node would create with these params (the dry run sums them); none when absent. Called for a
   * node that would run, and for a cached node whose outputs a running node uses (its jobs are then `existing`).
   */
  plannedJobs?(params: z.infer<P>, ctx: PlanContext<S>): PlannedJob[] | Promise<PlannedJob[]>;
  /** Upgrades for workflows saved with an older `version`, oldest first. */
  migrations?: NodeMigration[];
  /** What the UI shows for an output node (ComfyUI's `executed.output`). */
  uiOutput?(outputs: Values): Record<string, unknown>;
}

/** Identity helper that keeps the params type for run() and validate(). */
export function defineNode<P extends z.ZodObject, S = unknown>(definition: NodeDefinition<P, S>): NodeDefinition<P, S> {
  return definition;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a registry holds nodes of any pack; each pack types its own services
export type AnyNodeDefinition = NodeDefinition<z.ZodObject, any>;
