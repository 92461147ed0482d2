import type { z } from 'zod';
import type { Clock } from './clock.js';
import type { Issue } from './errors.js';
import type { HttpClient } from '../http/types.js';
import type { JobJournal } from '../jobs/journal.js';
import type { ProviderRegistry } from '../providers/provider.js';

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
}

/** What a node's run() may use. Nodes touch the outside world only through this. */
export interface NodeContext {
  nodeId: string;
  http: HttpClient;
  files: FilesContext;
  clock: Clock;
  log: Logger;
  signal: AbortSignal;
  providers: ProviderRegistry;
  progress(progress: Progress): void;
  /** A URL a provider can fetch this local file from (served for the run at a signed, expiring URL under --public-url). */
  hostFile(path: string): Promise<string>;
  /** The whole workflow being run, for provenance metadata (keys are never in it). */
  workflow?: { ui?: unknown; api?: unknown; /** false when the user turned provenance off (--no-metadata); SaveVideo then embeds nothing. */ embed?: boolean };
  /** Nodes that consume this node's outputs (ValidateImage checks the downstream RunwayI2V's limits). Optional: without it ValidateImage reads workflow.api, else checks the strictest limits. */
  downstream?(): { type: string; params: Record<string, unknown> }[];
  /** Environment for base-URL overrides (RUNWAYML_BASE_URL…); process.env when absent. Keys are read by the provider registry, not by nodes. */
  env?: NodeJS.ProcessEnv;
  /** The job journal: RunwayI2V submits through it (re-attach, never pay twice); Poll and SaveVideo record outcomes. */
  journal?: JobJournal;
}

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
}

export type Values = Record<string, unknown>;

/** What isCacheValid may consult: the journal knows whether a cached task has since failed. */
export interface CacheCheckContext {
  journal?: JobJournal;
}

export interface NodeDefinition<P extends z.ZodObject = z.ZodObject> {
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
  isCacheValid?(outputs: Values, ctx: CacheCheckContext): Promise<boolean>;
  /** Outputs keyed by output socket name. */
  run(inputs: Values, params: z.infer<P>, ctx: NodeContext): Promise<Values>;
  /** What the UI shows for an output node (ComfyUI's `executed.output`). */
  uiOutput?(outputs: Values): Record<string, unknown>;
}

/** Identity helper that keeps the params type for run() and validate(). */
export function defineNode<P extends z.ZodObject>(definition: NodeDefinition<P>): NodeDefinition<P> {
  return definition;
}

export type AnyNodeDefinition = NodeDefinition<z.ZodObject>;
