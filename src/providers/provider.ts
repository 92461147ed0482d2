import type { HttpClient, RetryNotice } from '../http/types.js';

/**
 * One interface for every hosted provider. Adapters parse every response with zod
 * and map vendor states to TaskStatus in one place each.
 */

export type ProviderId = 'runcomfy' | 'cometapi' | 'runway';
export type ModelId = 'gen4_turbo' | 'gen3a_turbo';

export interface ModelSpec {
  ratios: readonly string[];
  durations: readonly number[];
  promptMaxLength: number;
  promptRequired: boolean;
  seedMax: number;
  watermark: boolean;
}

/** Published input-image limits; ValidateImage checks them before anything is spent. */
export interface ImageLimits {
  formats: readonly ('jpeg' | 'png' | 'webp')[];
  /** Exclusive upper bound for a file sent by URL. */
  maxBytes: number;
  /** Exclusive upper bound for the encoded data URI, where the provider accepts one. */
  maxDataUriBytes: number;
  /** Width and height must be below this. */
  maxDimension: number;
  /** Aspect ratio width/height must be strictly between these. */
  minAspect: number;
  maxAspect: number;
  acceptsDataUri: boolean;
}

export interface ProviderInfo {
  id: ProviderId;
  displayName: string;
  /** Environment variable holding the key. Keys come from the environment only. */
  keyEnv: string;
  baseUrlEnv: string;
  defaultBaseUrl: string;
  models: Partial<Record<ModelId, ModelSpec>>;
  /** Models this provider used to offer and retired: what went, and when (so the message can say so). */
  retired?: Partial<Record<ModelId, { what: string; on: string }>>;
  limits: ImageLimits;
  /** How long a new task may be invisible to polls before that is an error (CometAPI task_not_exist). */
  notYetVisibleGraceMs?: number;
}

export interface SubmitRequest {
  model: ModelId;
  /** https URL or data URI. */
  promptImage: string;
  promptText?: string;
  ratio: string;
  duration: number;
  seed?: number;
  watermark?: boolean;
}

export interface SubmitResult {
  taskId: string;
  estimatedCredits?: number;
}

export type TaskStatus =
  /**
   * Waiting. `throttled`: over the account's concurrency limit (Runway THROTTLED), as opposed to
   * the provider's own queue. `notYetVisible`: the provider does not show the new task yet
   * (CometAPI task_not_exist, documented to last "a few seconds").
   */
  | { state: 'queued'; queuePosition?: number; throttled?: boolean; notYetVisible?: boolean }
  | { state: 'running'; progress?: number }
  | { state: 'succeeded'; videoUrls: string[] }
  | { state: 'failed'; reason: string; failureCode?: string }
  | { state: 'cancelled' }
  /** A status word we do not know: not terminal, so polling goes on and the word is shown. */
  | { state: 'unknown'; word: string };

export type CancelOutcome = 'cancelled' | 'not_cancellable' | 'unsupported';

export interface CallOptions {
  signal?: AbortSignal;
  /** Told before each HTTP retry (e.g. a rate-limited create), so the node can say why it waits. */
  onRetry?: (notice: RetryNotice) => void;
  /** Told right before each attempt is sent. */
  onAttempt?: () => void;
}

export interface VideoProvider {
  readonly info: ProviderInfo;
  /** The base URL this adapter talks to (optional: RunwayI2V falls back to the environment and catalog). */
  readonly baseUrl?: string;
  submit(request: SubmitRequest, options?: CallOptions): Promise<SubmitResult>;
  getTask(taskId: string, options?: CallOptions): Promise<TaskStatus>;
  cancel(taskId: string, options?: CallOptions): Promise<CancelOutcome>;
  /** Uploads a local image for use as promptImage, where the provider offers uploads (Runway); returns the URI to send. */
  upload?(file: { path: string; filename: string; contentType: string }, options?: CallOptions): Promise<string>;
}

export interface ProviderConfig {
  baseUrl: string;
  apiKey: string;
  http: HttpClient;
}

export interface ProviderRegistry {
  /** The adapter for a provider, configured from the environment; throws if the key is missing. */
  get(id: ProviderId, baseUrl?: string): VideoProvider;
}
