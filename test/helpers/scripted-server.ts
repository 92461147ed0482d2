import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../src/engine/clock.js';

/** A loopback server that answers each request with the next scripted step, and records what it got. */

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Step =
  | { status: number; json?: unknown; text?: string; headers?: Record<string, string> }
  | ((req: Received, res: ServerResponse) => void);

export interface ScriptedServer {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

export async function startScriptedServer(steps: Step[], port = 0): Promise<ScriptedServer> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const entry = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(entry);
      const step = steps[Math.min(received.length, steps.length) - 1];
      if (!step) return void res.writeHead(500).end('no step');
      if (typeof step === 'function') return step(entry, res);
      const body = step.json !== undefined ? JSON.stringify(step.json) : (step.text ?? '');
      res.writeHead(step.status, { 'Content-Type': step.json !== undefined ? 'application/json' : 'text/plain', ...step.headers }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A clock whose sleeps return at once and are recorded; `now` advances by each sleep. */
export function recordingClock(onSleep?: (ms: number) => Promise<void> | void): Clock & { sleeps: number[] } {
  let time = 1_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => time,
    async sleep(ms, signal) {
      if (signal?.aborted) throw new DOMException('The operation was aborted', 'AbortError');
      sleeps.push(ms);
      time += ms;
      await onSleep?.(ms);
    },
  };
}
