import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { FilesContext, Progress, UpstreamNode, ValidationContext } from '../../src/engine/define-node.js';
import type { NodeServices, PackContext } from '../../src/nodes/services.js';
import type { Clock } from '../../src/engine/clock.js';
import type { HttpClient, HttpRequest, HttpResponse } from '../../src/http/types.js';
import { FakeProviderRegistry } from './fake-provider.js';

/** A clock whose sleeps return at once and move time forward: a 30-minute timeout tests in milliseconds. */
export class ManualClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(public time = 1_700_000_000_000) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.time += ms;
  }
}

async function readAll(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

/** A minimal real HttpClient on node:http, for tests against servers on 127.0.0.1 (no retries). */
export function nodeHttpClient(log: HttpRequest[] = []): HttpClient {
  return {
    request(req: HttpRequest): Promise<HttpResponse> {
      log.push(req);
      return new Promise((resolve, reject) => {
        const outgoing = httpRequest(req.url, { method: req.method, headers: req.headers, signal: req.signal }, (res) => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: res,
            text: () => readAll(res),
            json: async () => JSON.parse(await readAll(res)) as unknown,
          });
        });
        outgoing.on('error', reject);
        outgoing.end(req.body);
      });
    },
  };
}

/** An HttpClient that fails loudly: nodes that must not touch the network get this. */
export const noNetwork: HttpClient = {
  request: (req) => Promise.reject(new Error(`unexpected HTTP ${req.method} ${req.url}`)),
};

export interface FakeContext extends PackContext {
  clock: ManualClock;
  controller: AbortController;
  progressEvents: Progress[];
  logs: string[];
  hostedFiles: string[];
}

/** A node context with a manual clock, captured progress/logs and fake providers; override any part, services included. */
export function fakeContext(overrides: Partial<Omit<FakeContext, 'services'>> & Partial<NodeServices> & { files?: FilesContext } = {}): FakeContext {
  const { http, providers, journal, hostFile, releaseSlotWhile, ...rest } = overrides;
  const controller = overrides.controller ?? new AbortController();
  const logs: string[] = [];
  const progressEvents: Progress[] = [];
  const hostedFiles: string[] = [];
  return {
    nodeId: '1',
    services: {
      http: http ?? noNetwork,
      providers: providers ?? new FakeProviderRegistry(),
      journal,
      hostFile:
        hostFile ??
        (async (path: string) => {
          hostedFiles.push(path);
          return `https://tunnel.example/f/${hostedFiles.length}/${encodeURIComponent(path.split('/').pop() ?? '')}`;
        }),
    },
    files: { inputDir: '/nonexistent-input', outputDir: '/nonexistent-output' },
    clock: new ManualClock(),
    log: {
      debug: (m) => logs.push(`debug: ${m}`),
      info: (m) => logs.push(`info: ${m}`),
      warn: (m) => logs.push(`warn: ${m}`),
    },
    signal: controller.signal,
    progress: (p) => progressEvents.push(p),
    // No executor here, so no slot to give back.
    releaseSlotWhile: releaseSlotWhile ?? ((wait) => wait()),
    env: {},
    controller,
    progressEvents,
    logs,
    hostedFiles,
    ...rest,
  };
}

export interface FakeValidationOptions {
  nodeId?: string;
  files?: FilesContext;
  env?: NodeJS.ProcessEnv;
  upstream?: Record<string, UpstreamNode>;
  downstream?: { type: string; params: Record<string, unknown> }[];
}

export function fakeValidationContext(options: FakeValidationOptions = {}): ValidationContext {
  return {
    nodeId: options.nodeId ?? '1',
    files: options.files ?? { inputDir: '/nonexistent-input', outputDir: '/nonexistent-output' },
    env: options.env ?? {},
    upstream: (input) => options.upstream?.[input],
    downstream: () => options.downstream ?? [],
  };
}

/** A temp folder removed by cleanup(). */
export async function makeTempDir(prefix = 'reelgraph-test-'): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
