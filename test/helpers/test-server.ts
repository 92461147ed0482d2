import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/server/index.js';

/** A server on 127.0.0.1:0 with its own temp folders; `close()` removes everything. */
export interface TestServer extends RunningServer {
  port: number;
  root: string;
  inputDir: string;
  outputDir: string;
}

export async function startTestServer(env: NodeJS.ProcessEnv = {}): Promise<TestServer> {
  const root = await mkdtemp(join(tmpdir(), 'reelgraph-server-'));
  const inputDir = join(root, 'input');
  const outputDir = join(root, 'output');
  const editorDir = join(root, 'editor');
  await mkdir(editorDir, { recursive: true });
  await writeFile(join(editorDir, 'index.html'), '<!doctype html><title>editor</title>');
  // The job journal and cache live in the temp folder too, never in the user's home.
  const fullEnv = { REELGRAPH_STATE_DIR: join(root, 'state'), REELGRAPH_CACHE_DIR: join(root, 'cache'), ...env };
  const server = await startServer({ port: 0, host: '127.0.0.1', inputDir, outputDir, editorDir, env: fullEnv, cache: false, examplesDir: join(root, 'examples') });
  return {
    ...server,
    port: Number(new URL(server.url).port),
    root,
    inputDir,
    outputDir,
    close: async () => {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json<T = unknown>(): T;
}

/** node:http rather than fetch, so tests can send any Host, Origin or Sec-Fetch-Site header. */
export function raw(
  port: number,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...options.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body.toString('utf8')) as T });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export function postJson(port: number, path: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  return raw(port, 'POST', path, { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** A multipart body with one file field named "image" plus text fields. */
export function multipart(fileName: string, bytes: Buffer, fields: Record<string, string> = {}): { body: Buffer; contentType: string } {
  const boundary = `----reelgraph${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
  parts.push(bytes, Buffer.from(`\r\n--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}
