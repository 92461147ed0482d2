import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { EmulatedModel, EmulatedProvider } from './limits.js';

/** The emulator's public types: options, the request log, jobs, and fault rules. */

export type RequestKind = 'create' | 'poll' | 'result' | 'cancel' | 'download' | 'other';

/** Which protocol a request spoke; 'emulator' is the control API and the benchmark blob. */
export type LogProvider = EmulatedProvider | 'emulator';

export interface RequestLogEntry {
  time: number;
  provider: LogProvider;
  method: string;
  path: string;
  /** 0 when the connection was dropped before a response. */
  status: number;
  kind: RequestKind;
  jobId?: string;
  /** The fault that was applied, if any. */
  fault?: FaultAction['type'];
}

/** What the emulator keeps of a create. */
export interface EmulatedJobRequest {
  model: EmulatedModel;
  promptImage: string;
  promptText?: string;
  ratio: string;
  duration: number;
  seed?: number;
}

export type JobPhase = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface EmulatedJob {
  id: string;
  provider: EmulatedProvider;
  request: EmulatedJobRequest;
  createdAt: number;
  /** Set by cancel; the job stays cancelled from then on. */
  cancelledAt?: number;
  /** Runway DELETE: every later GET answers 404. */
  deleted: boolean;
  /** Whether the job ends FAILED instead of SUCCEEDED, and with which Runway failure code. */
  willFail: boolean;
  failureCode?: string;
  /** Runs slowMultiplier times longer (prompt contains "[slow]"). */
  slow?: boolean;
  /** Task polls answered so far (CometAPI's task_not_exist window counts these). */
  polls: number;
  /** Current phase and progress (0..1) on the emulator clock; filled in by jobs(). */
  phase?: JobPhase;
  progress?: number;
  /** True while a Runway job waits for a runwayMaxConcurrent slot (phase 'queued'); filled in by jobs(). */
  throttled?: boolean;
}

export interface EmulatorTiming {
  queuedMs: number;
  runningMs: number;
}

export interface EmulatorOptions {
  /** 0 (default) picks an ephemeral port. */
  port: number;
  host: '127.0.0.1';
  timing: EmulatorTiming;
  /** CometAPI answers this many first polls of a new task with HTTP 400 task_not_exist. */
  cometNotExistPolls: number;
  cometShape: 'wrapped' | 'bare';
  /** RunComfy quirk: send error bodies (with error_code) under HTTP 200. */
  runcomfyErrorsAs200: boolean;
  /** Lifetime of signed video URLs. */
  urlTtlMs: number;
  frameWidth: number;
  fps: number;
  /** Any non-empty key is accepted; when false, the key must be one of `keys`. */
  acceptAnyKey: boolean;
  keys: string[];
  /** Runway keys must look like key_<128 hex>. */
  strictKeys: boolean;
  /**
   * Runway's per-organisation concurrency limit: over it, new Runway tasks report THROTTLED and
   * start in creation order as slots free. 0 or absent means unlimited (the default).
   */
  runwayMaxConcurrent?: number;
  /**
   * Jobs for which this returns true (or a failure code) end FAILED, as do prompts containing
   * "[fail]" (INTERNAL.BAD_OUTPUT) or "[fail:CODE]" (e.g. "[fail:SAFETY.INPUT.IMAGE]").
   */
  failJobs?: (request: EmulatedJobRequest) => boolean | string;
  /**
   * Creates each provider accepts per second (a token bucket holding one second's worth); over it,
   * 429 with Retry-After (whole seconds) and retry-after-ms. Runway documents a 429 on create for
   * its daily cap; CometAPI and RunComfy document 429 with no numbers. 0 or absent: no limit.
   */
  createRatePerS?: number;
  /** The first N task polls of every job answer a status word clients do not know (after CometAPI's task_not_exist polls). */
  unknownStatusPolls?: number;
  /** Runway's create answers `estimatedCost: null` (clients must keep the id whatever else they cannot read). */
  nullEstimatedCost?: boolean;
  /** Numbers sent as strings: RunComfy queue_position "3", Runway progress "0.5" and credits "25". */
  numbersAsStrings?: boolean;
  /** Jobs whose prompt contains "[slow]" take this many times their queued and running time (default 10). */
  slowMultiplier?: number;
  /** The emulator's clock; injectable so tests can move jobs along without waiting. */
  now: () => number;
}

export type FaultAction =
  | {
      type: 'status';
      status: number;
      retryAfterS?: number;
      body?: unknown;
      /** create: commit the job first, then answer with this status. */
      afterCommit?: boolean;
      /** Sends `x-should-retry: true|false`, the header Runway's SDK obeys over its own retry rules. */
      shouldRetry?: boolean;
    }
  | { type: 'drop-before-response' }
  | { type: 'delay'; ms: number }
  | { type: 'truncate'; atFraction: number }
  | { type: 'expire-url' };

export interface FaultRule {
  provider?: LogProvider;
  kind?: RequestKind;
  /** 1-based count of requests matching provider/kind; a number or a list of them. */
  nth?: number | number[];
  /** Apply at most this many times. */
  times?: number;
  /** Apply with this probability, from a PRNG seeded by FaultPlan.seed. */
  probability?: number;
  action: FaultAction;
}

export interface FaultPlan {
  rules: FaultRule[];
  seed?: number;
}

/** What a route handler answers; the server applies faults and writes it. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  json?: unknown;
  text?: string;
  bytes?: Uint8Array;
  /** A streamed body of `length` bytes (the benchmark blob). */
  stream?: Readable;
  length?: number;
  /** The job this request concerned (e.g. the one a create made), for the log. */
  jobId?: string;
}

export interface RouteContext {
  req: IncomingMessage;
  method: string;
  url: URL;
  body: Buffer;
  /** The emulator's own origin (http://127.0.0.1:PORT) for absolute URLs. */
  origin: string;
}

export interface Route {
  provider: LogProvider;
  kind: RequestKind;
  jobId?: string;
  /** A larger request body than the default limit (Runway's form uploads take up to 200 MB). */
  maxBodyBytes?: number;
  handle(ctx: RouteContext): Promise<Reply>;
}
