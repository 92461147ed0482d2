import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorEnv } from '../../../src/cli/emulator-env.js';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { startServer, type RunningServer } from '../../../src/server/index.js';
import { postJson } from '../../helpers/test-server.js';

/**
 * POST /reelgraph/jobs/submit-again on a real server (token set) against the emulator: after a create whose outcome is
 * unknown, it records the user's decision for that node's job only, behind the same checks as every route.
 */

const TOKEN = 'submit-again-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const prompt = {
  '1': { class_type: 'LoadImage', inputs: { image: 'sunset.jpg' } },
  '2': { class_type: 'ValidateImage', inputs: { image: ['1', 0] } },
  '3': { class_type: 'RunwayI2V', inputs: { image: ['2', 0], promptText: 'Harbour lights at dusk' } },
  '4': { class_type: 'Poll', inputs: { task: ['3', 0], interval_s: 0.2 } },
  '5': { class_type: 'SaveVideo', inputs: { video: ['4', 0] } },
};

let emulator: Emulator;
let server: RunningServer;
let port: number;
let root: string;

async function historyOf(id: string): Promise<{ status?: { status_str?: string } } | undefined> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const response = await fetch(`${server.url}/history/${id}`, { headers: auth });
    const entry = ((await response.json()) as Record<string, { status?: { status_str?: string; completed?: boolean } }>)[id];
    if (entry?.status?.completed !== undefined) return entry;
    await new Promise((done) => setTimeout(done, 100));
  }
  return undefined;
}

async function estimate(): Promise<{ jobs: unknown[]; existing: { nodeId: string; status: string; jobKey?: string; usd?: number }[] }> {
  const response = await postJson(port, '/api/reelgraph/estimate', { prompt }, auth);
  expect(response.status).toBe(200);
  return response.json();
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reelgraph-submit-again-'));
  emulator = await startEmulator({ timing: { queuedMs: 100, runningMs: 300 } });
  const env = { ...emulatorEnv(emulator.url), REELGRAPH_STATE_DIR: join(root, 'state'), REELGRAPH_CACHE_DIR: join(root, 'cache') };
  server = await startServer({ port: 0, host: '127.0.0.1', inputDir: join(root, 'input'), outputDir: join(root, 'output'), env, authToken: TOKEN });
  port = Number(new URL(server.url).port);
  await copyFile(resolve('examples/images/sunset.jpg'), join(root, 'input', 'sunset.jpg'));
});

afterAll(async () => {
  await server?.close();
  await emulator?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('POST /reelgraph/jobs/submit-again', () => {
  it('forgets only the job whose outcome is unknown, once, for the node named, and creates nothing itself', async () => {
    emulator.setFaults({ rules: [{ provider: 'runway', kind: 'create', nth: 1, action: { type: 'status', status: 500, afterCommit: true } }] });
    const queued = await postJson(port, '/api/prompt', { prompt }, auth);
    expect(queued.status).toBe(200);
    const entry = await historyOf(queued.json<{ prompt_id: string }>().prompt_id);
    expect(entry?.status?.status_str).toBe('error');
    expect(emulator.creates()).toBe(1);

    const before = await estimate();
    expect(before.jobs).toEqual([]);
    expect(before.existing).toEqual([expect.objectContaining({ nodeId: '3', status: 'unknown', usd: 0.25 })]);
    const jobKey = before.existing[0]!.jobKey!;
    const body = { prompt, node_id: '3', job_key: jobKey };

    // The same checks as every route: the token, and no other site's page.
    expect((await postJson(port, '/api/reelgraph/jobs/submit-again', body)).status).toBe(403);
    expect((await postJson(port, '/api/reelgraph/jobs/submit-again', body, { ...auth, origin: 'https://evil.example' })).status).toBe(403);
    expect((await postJson(port, '/api/reelgraph/jobs/submit-again', body, { ...auth, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    // Only that node's unknown job, and only the one the user saw.
    expect((await postJson(port, '/api/reelgraph/jobs/submit-again', { ...body, node_id: '4' }, auth)).status).toBe(409);
    expect((await postJson(port, '/api/reelgraph/jobs/submit-again', { ...body, job_key: '0'.repeat(24) }, auth)).status).toBe(409);
    expect((await postJson(port, '/api/reelgraph/jobs/submit-again', { prompt }, auth)).status).toBe(400);
    expect((await estimate()).existing).toHaveLength(1);

    const decided = await postJson(port, '/api/reelgraph/jobs/submit-again', body, auth);
    expect(decided.status).toBe(200);
    expect(decided.json()).toEqual({ node_id: '3', job_key: jobKey, forgotten: true });
    const after = await estimate();
    expect([after.jobs.length, after.existing]).toEqual([1, []]);
    // Decided once: a second call has nothing to decide.
    expect((await postJson(port, '/api/reelgraph/jobs/submit-again', body, auth)).status).toBe(409);
    expect(emulator.creates()).toBe(1);
  });
});
