import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProviderId } from '../providers/provider.js';
import { cometApiRoute } from './cometapi-routes.js';
import type { EmulatorControl } from './control-routes.js';
import { controlRoute } from './control-routes.js';
import { FaultInjector } from './faults.js';
import { CreateRateLimiter } from './rate-limit.js';
import { expiredReply, filesRoute, videoFor } from './files-routes.js';
import type { EmulatorState } from './http-util.js';
import { json, readBody, writeReply } from './http-util.js';
import { JobStore } from './jobs.js';
import { runComfyRoute } from './runcomfy-routes.js';
import { runwayRoute } from './runway-routes.js';
import { UrlSigner } from './signing.js';
import type { EmulatedJob, EmulatorOptions, FaultAction, FaultPlan, Reply, RequestLogEntry, Route, RouteContext } from './types.js';

/**
 * A loopback server speaking all three provider protocols at one base URL (their paths do
 * not collide: RunComfy /v1/models and /v1/requests, Runway /v1/image_to_video and /v1/tasks,
 * CometAPI /runwayml/v1 and /runway), plus signed video files, a benchmark blob, fault
 * injection and a control API under /_emulator/.
 */

export interface Emulator {
  /** http://127.0.0.1:PORT — use it as the base URL of every provider. */
  url: string;
  port: number;
  log: RequestLogEntry[];
  /** Create requests received (whatever their outcome), optionally for one provider. */
  creates(provider?: ProviderId): number;
  jobs(): EmulatedJob[];
  setFaults(faults: FaultPlan): void;
  configure(options: Partial<EmulatorOptions>): void;
  /** Forgets jobs, the log and faults; keeps options. */
  reset(): void;
  close(): Promise<void>;
}

export const defaultEmulatorOptions: EmulatorOptions = {
  port: 0,
  host: '127.0.0.1',
  timing: { queuedMs: 300, runningMs: 700 },
  cometNotExistPolls: 1,
  cometShape: 'wrapped',
  runcomfyErrorsAs200: false,
  urlTtlMs: 24 * 60 * 60 * 1000,
  frameWidth: 160,
  fps: 8,
  acceptAnyKey: true,
  keys: [],
  strictKeys: false,
  now: () => Date.now(),
};

/** Large enough for a 5 MiB data URI inside JSON, small enough to refuse abuse. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Starts the emulator on 127.0.0.1 (port 0 = ephemeral). */
export async function startEmulator(options: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  let current: EmulatorOptions = { ...defaultEmulatorOptions, ...options, host: '127.0.0.1' };
  const state: EmulatorState = { options: () => current, jobs: new JobStore(() => current), signer: new UrlSigner() };
  const faults = new FaultInjector();
  const createLimiter = new CreateRateLimiter();
  const log: RequestLogEntry[] = [];
  const control: EmulatorControl = {
    log,
    jobs: () => state.jobs.list(),
    setFaults: (plan) => faults.set(plan),
    configure: (partial) => {
      current = { ...current, ...partial, host: '127.0.0.1' };
    },
    reset: () => {
      // Cleared in place: callers hold a reference to the same log array.
      state.jobs.clear();
      log.length = 0;
      faults.clear();
      createLimiter.clear();
    },
  };
  const server = createServer((req, res) => {
    handle({ state, faults, log, control, origin: url, createLimiter }, req, res).catch((error: unknown) => {
      if (!res.headersSent) writeReply(res, json(500, { error: `emulator error: ${error instanceof Error ? error.message : String(error)}` }), false);
      else res.destroy();
    });
  });
  const port = await listen(server, current.port);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    creates: (provider) => log.filter((entry) => entry.kind === 'create' && (!provider || entry.provider === provider)).length,
    ...control,
    close: () => close(server),
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

interface Runtime {
  state: EmulatorState;
  faults: FaultInjector;
  log: RequestLogEntry[];
  control: EmulatorControl;
  origin: string;
  createLimiter: CreateRateLimiter;
}

function findRoute(rt: Runtime, method: string, path: string): Route {
  const route =
    controlRoute(rt.control, method, path) ??
    filesRoute(rt.state, method, path) ??
    runComfyRoute(rt.state, method, path) ??
    cometApiRoute(rt.state, method, path) ??
    runwayRoute(rt.state, method, path);
  return route ?? { provider: 'emulator', kind: 'other', handle: async () => json(404, { error: `No route for ${method} ${path}` }) };
}

async function handle(rt: Runtime, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const url = new URL(req.url ?? '/', rt.origin);
  const route = findRoute(rt, method, url.pathname);
  const isControl = url.pathname.startsWith('/_emulator/') && route.kind === 'other';
  const fault = isControl ? undefined : rt.faults.pick(route.provider, route.kind);
  const ctx: RouteContext = { req, method, url, body: await readBody(req, MAX_BODY_BYTES), origin: rt.origin };
  if (fault?.type === 'delay') await sleep(fault.ms);
  const waitS = route.kind === 'create' && !fault ? rt.createLimiter.take(rt.state.options().now(), rt.state.options().createRateLimit) : 0;
  const reply = waitS > 0 ? injectedStatus(route, { type: 'status', status: 429, retryAfterS: waitS }) : await replyFor(route, ctx, fault);
  const entry: RequestLogEntry = { time: rt.state.options().now(), provider: route.provider, method, path: url.pathname, status: reply.status, kind: route.kind };
  if (reply.jobId ?? route.jobId) entry.jobId = reply.jobId ?? route.jobId;
  if (fault) entry.fault = fault.type;
  if (fault?.type === 'drop-before-response') {
    entry.status = 0;
    req.socket.destroy();
  } else {
    writeReply(res, reply, method === 'HEAD', fault?.type === 'truncate' ? fault.atFraction : undefined);
  }
  if (!isControl) rt.log.push(entry);
  if (entry.jobId && route.kind !== 'download') void videoFor(rt.state, entry.jobId)?.catch(() => undefined);
}

/** Runs the route unless a fault replaces its answer; `afterCommit` status faults run it first. */
async function replyFor(route: Route, ctx: RouteContext, fault: FaultAction | undefined): Promise<Reply> {
  if (fault?.type === 'expire-url' && route.kind === 'download') return expiredReply();
  if (fault?.type === 'status' && !fault.afterCommit) return injectedStatus(route, fault);
  const reply = await route.handle(ctx);
  if (fault?.type === 'status') return { ...injectedStatus(route, fault), ...(reply.jobId ? { jobId: reply.jobId } : {}) };
  return reply;
}

function injectedStatus(route: Route, fault: Extract<FaultAction, { type: 'status' }>): Reply {
  const headers: Record<string, string> = {};
  if (fault.retryAfterS !== undefined) headers['Retry-After'] = String(fault.retryAfterS);
  if (fault.shouldRetry !== undefined) headers['x-should-retry'] = String(fault.shouldRetry);
  return json(fault.status, fault.body ?? defaultFaultBody(route, fault.status), headers);
}

/** An error body in the provider's own shape, so adapters parse injected faults like real ones. */
function defaultFaultBody(route: Route, status: number): unknown {
  const message = `Injected fault: HTTP ${status}`;
  if (route.provider === 'runcomfy') return { error_code: status === 429 ? 429001 : 500001, error_message: message };
  if (route.provider === 'cometapi') return { error: { message, type: 'comet_api_error', param: '', code: status === 429 ? 'rate_limit' : 'upstream_error' } };
  return { error: message };
}
