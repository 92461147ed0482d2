import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { freePort } from '../../../src/http/free-port.js';
import { makeSandbox, requireBuiltCli, ROOT, runCli, startCli, type CliRun, type Sandbox } from '../../helpers/cli-sandbox.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { EventClient, fiveNodePrompt, writeInputImage } from '../../helpers/server-prompts.js';
import { postJson, raw } from '../../helpers/test-server.js';

/**
 * Two `reelgraph serve --redis` processes, one `reelgraph worker --redis` and the emulator, on a real
 * redis-server: a prompt posted to server A is seen, run, streamed and served by server B, as if both
 * were one server behind one address. The worker is started only after the waiting prompts were checked,
 * so "pending" is observed, not raced.
 */

const PROMPT_QUEUE = 'reelgraph-prompts';
const CLIENT = 'client-on-b';

let emulator: Emulator;
let redis: TestRedis;
let box: Sandbox;
let inputDir: string;
let image: string;
let a: number;
let b: number;
let queue: Queue;
let socket: EventClient;
const processes: CliRun[] = [];

beforeAll(async () => {
  requireBuiltCli();
  // Jobs run long enough for "running" to be seen from the outside; Poll asks every 50 ms.
  emulator = await startEmulator({ timing: { queuedMs: 50, runningMs: 1500 }, frameWidth: 64, fps: 2 });
  redis = await startRedis();
  box = await makeSandbox(emulator.url);
  inputDir = join(box.root, 'input');
  await mkdir(inputDir, { recursive: true });
  image = await writeInputImage(inputDir, 'shared.png');
  [a, b] = await Promise.all([startServe(), startServe()]);
  queue = new Queue(PROMPT_QUEUE, { connection: { host: '127.0.0.1', port: redis.port } });
  socket = await EventClient.connect(`http://127.0.0.1:${b}`, CLIENT);
}, 60_000);

afterAll(async () => {
  socket?.close();
  await queue?.close();
  for (const run of processes) if (run.child.exitCode === null) run.child.kill('SIGTERM');
  await Promise.all(processes.map((run) => run.done));
  await redis?.stop();
  await emulator?.close();
  await box?.cleanup();
});

/** A server on a free port sharing the input and output folders (the shared folder of a real setup). */
async function startServe(): Promise<number> {
  const port = await freePort();
  const run = startCli(['serve', '--port', String(port), '--input-dir', inputDir, '--output-dir', box.output, '--redis', redis.url], box);
  processes.push(run);
  for (let attempt = 0; attempt < 300; attempt++) {
    const ready = await raw(port, 'GET', '/prompt').then((response) => response.status === 200, () => false);
    if (ready) return port;
    if (run.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const ended = await Promise.race([run.done, new Promise((resolve) => setTimeout(() => resolve(undefined), 100))]);
  throw new Error(`serve --redis did not answer on ${port}: ${JSON.stringify(ended)}`);
}

async function queueOf(port: number): Promise<{ queue_running: unknown[][]; queue_pending: unknown[][] }> {
  return (await raw(port, 'GET', '/queue')).json();
}

const idsOf = (tuples: unknown[][]) => tuples.map((tuple) => tuple[1]);

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never: ${what}`);
}

/** Names the step that never came, instead of a bare test timeout. */
function step<T>(label: string, promise: Promise<T>, ms = 25_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`waited ${ms} ms for: ${label}`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('serve --redis: two servers, one queue and history in Redis, one worker', () => {
  let first: string;

  it('a prompt with a validation error is refused 400 and nothing is enqueued', async () => {
    const response = await postJson(a, '/prompt', { prompt: fiveNodePrompt('missing.png'), client_id: CLIENT });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.json())).toContain('missing.png');
    // BullMQ's job ids may hold no ':': such a prompt_id is refused, never half-queued.
    expect((await postJson(a, '/prompt', { prompt: fiveNodePrompt(image), prompt_id: 'mine:1' })).status).toBe(400);
    const counts = await queue.getJobCounts();
    expect(Object.values(counts).reduce((sum, count) => sum + count, 0)).toBe(0);
    expect(await queueOf(b)).toEqual({ queue_running: [], queue_pending: [] });
    expect(emulator.creates()).toBe(0);
  });

  it('prompts posted to A wait in B\'s queue; B cancels one of them', async () => {
    const posted = await postJson(a, '/prompt', { prompt: fiveNodePrompt(image, { prefix: 'redis/first' }), client_id: CLIENT });
    expect(posted.status, posted.body.toString()).toBe(200);
    first = posted.json<{ prompt_id: string }>().prompt_id;
    const second = (await postJson(a, '/prompt', { prompt: fiveNodePrompt(image, { prefix: 'redis/second' }), client_id: CLIENT })).json<{ prompt_id: string }>().prompt_id;

    const seen = await queueOf(b);
    expect(idsOf(seen.queue_pending)).toEqual([first, second]);
    expect(seen.queue_running).toEqual([]);
    expect((await raw(b, 'GET', '/prompt')).json()).toEqual({ exec_info: { queue_remaining: 2 } });
    const jobs = (await raw(b, 'GET', '/api/jobs?status=pending')).json<{ jobs: { id: string }[] }>();
    expect(jobs.jobs.map((job) => job.id).sort()).toEqual([first, second].sort());
    // B's socket heard the queue grow, though the prompts were posted to A.
    await socket.next((m) => m.type === 'status' && (m.data.status as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining === 2);

    expect((await postJson(b, '/queue', { delete: [second] })).status).toBe(200);
    expect(idsOf((await queueOf(a)).queue_pending)).toEqual([first]);
    expect(await queue.getJob(second)).toBeUndefined();
  });

  it('a worker runs it: B\'s socket hears the run, B shows it running then in history with the MP4, /view on B serves it, one create', async () => {
    const worker = startCli(['worker', '--redis', redis.url, '--concurrency', '4', '--json'], box);
    processes.push(worker);
    await worker.waitForLine((line) => line.includes('"worker_ready"'));

    const ended = worker.waitForLine((line) => line.includes('"prompt_end"') && line.includes(first) && line.includes('"success"'));
    await socket.next((m) => m.type === 'executing' && m.data.prompt_id === first && m.data.node === '4');
    expect(idsOf((await queueOf(b)).queue_running)).toEqual([first]);
    const running = (await raw(b, `GET`, `/api/jobs/${first}`)).json<{ status: string }>();
    expect(running.status).toBe('in_progress');

    await socket.finished(first);
    await ended;
    const types = socket.of(first).map((m) => m.type);
    expect(types).toEqual(expect.arrayContaining(['execution_start', 'executing', 'executed', 'execution_success']));
    expect(types.at(-1)).toBe('executing');

    // Written before the last event, so it is there as soon as the client hears the end.
    const history = (await raw(b, 'GET', `/history/${first}`)).json<Record<string, { status: { status_str: string }; outputs: Record<string, { images: { filename: string; subfolder: string; type: string }[] }> }>>();
    expect(history[first]!.status.status_str).toBe('success');
    const video = history[first]!.outputs['5']!.images[0]!;
    expect(video.filename).toMatch(/\.mp4$/);
    const view = await raw(b, 'GET', `/view?${new URLSearchParams({ filename: video.filename, subfolder: video.subfolder, type: video.type })}`);
    expect(view.status).toBe(200);
    expect(view.body.subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(view.body.equals(await readFile(join(box.output, video.subfolder, video.filename)))).toBe(true);

    expect(Object.keys((await raw(a, 'GET', '/history')).json())).toEqual([first]);
    expect((await raw(a, 'GET', `/api/jobs/${first}`)).json<{ status: string }>().status).toBe('completed');
    expect(emulator.creates()).toBe(1);
    await until(() => queueOf(b), (q) => q.queue_running.length === 0 && q.queue_pending.length === 0, 'B\'s queue empties');
  });

  it('an interrupt sent to B stops the prompt that server A queued, on the worker running it', async () => {
    const id = (await postJson(a, '/prompt', { prompt: fiveNodePrompt(image, { prefix: 'redis/stopped', prompt: 'a slow pan, stopped halfway' }), client_id: CLIENT })).json<{ prompt_id: string }>().prompt_id;
    await socket.next((m) => m.type === 'executing' && m.data.prompt_id === id && m.data.node === '4');
    expect((await postJson(b, '/interrupt', { prompt_id: id })).status).toBe(200);
    await socket.next((m) => m.type === 'execution_interrupted' && m.data.prompt_id === id);
    await socket.finished(id);
    expect((await raw(a, 'GET', `/api/jobs/${id}`)).json<{ status: string }>().status).toBe('cancelled');
    expect(emulator.creates()).toBe(2);
    // Stopped as the user asked: the provider job was cancelled by the worker, as Ctrl-C does.
    expect(emulator.log.filter((entry) => entry.kind === 'cancel')).toHaveLength(1);
  });

  it('a worker SIGKILLed after its create: the prompt is delivered to another worker, which creates nothing (one create, the MP4 in history)', async () => {
    // Workers with short locks, so the dead one's prompt is delivered again within seconds.
    const first = processes.find((run) => run.child.spawnargs.includes('worker'))!;
    first.child.kill('SIGTERM');
    await step('the first worker stops on SIGTERM', first.done);
    const shortLock = ['worker', '--redis', redis.url, '--concurrency', '4', '--lock-ms', '3000', '--stalled-check-ms', '1000', '--json'];
    const pair = [startCli(shortLock, box), startCli(shortLock, box)];
    processes.push(...pair);
    await step('two workers ready', Promise.all(pair.map((worker) => worker.waitForLine((line) => line.includes('"worker_ready"')))));

    const before = emulator.creates();
    const cancelsBefore = emulator.log.filter((entry) => entry.kind === 'cancel').length;
    // Every waiter is registered before the prompt is posted, so no line can pass unseen.
    const said = (worker: CliRun, text: string) => {
      const heard = worker.waitForLine((line) => line.includes(text)).then(() => worker);
      heard.catch(() => undefined);
      return heard;
    };
    const submitted = pair.map((worker) => said(worker, 'submitted runway'));
    const id = (await postJson(a, '/prompt', { prompt: fiveNodePrompt(image, { prefix: 'redis/redelivered', prompt: 'its first worker dies' }), client_id: CLIENT })).json<{ prompt_id: string }>().prompt_id;
    const victim = await step('a worker submits', Promise.race(submitted));
    const survivor = pair.find((worker) => worker !== victim)!;
    // Registered before the kill: the survivor only gets the prompt once the victim's lock has run out.
    const survivorEnds = said(survivor, `"promptId":"${id}","status":"success"`);
    let survivorSubmitted = false;
    void submitted[pair.indexOf(survivor)]!.then(() => (survivorSubmitted = true));
    // Either way its log says why it created nothing: a re-attach, or RunwayI2V named among the cached nodes.
    const explained = survivor.waitForLine((line) => line.includes('re-attached to runway') || (line.includes('taken from the output cache') && line.includes('(RunwayI2V)')));
    explained.catch(() => undefined);
    victim.child.kill('SIGKILL');
    expect((await victim.done).signal).toBe('SIGKILL');

    // The other worker runs the prompt to the end without a second create: RunwayI2V re-attaches through the journal,
    // or, when the victim lived long enough to store RunwayI2V's output (the task), the run takes it from the output
    // cache and Poll follows the same task. Which one depends on microseconds between the log line and the kill.
    expect(await step('the other worker finishes the prompt', survivorEnds)).toBe(survivor);
    expect(survivorSubmitted).toBe(false);
    await step('the other worker\'s log says why it created nothing', explained);
    await step('B\'s socket hears success', socket.next((m) => m.type === 'execution_success' && m.data.prompt_id === id));
    await socket.finished(id);
    const history = (await raw(b, 'GET', `/history/${id}`)).json<Record<string, { status: { status_str: string }; outputs: Record<string, { images: { filename: string }[] }> }>>();
    expect(history[id]!.status.status_str).toBe('success');
    expect(history[id]!.outputs['5']!.images[0]!.filename).toMatch(/\.mp4$/);
    expect(emulator.creates() - before).toBe(1);
    expect(emulator.log.filter((entry) => entry.kind === 'cancel').length).toBe(cancelsBefore);
  });

  it('the Python client (ComfyUI\'s protocol) runs a prompt through server A and fetches the MP4', async () => {
    const promptPath = join(box.root, 'prompt.json');
    await writeFile(promptPath, JSON.stringify(fiveNodePrompt(image, { prefix: 'redis/py', prompt: 'a python client asks for this one' })));
    const out = join(box.root, 'downloads');
    await mkdir(out, { recursive: true });
    const before = emulator.creates();
    const { stdout } = await promisify(execFile)('/usr/bin/python3', [join(ROOT, 'test/clients/comfy_client.py'), `127.0.0.1:${a}`, promptPath, out], { timeout: 120_000 });
    const summary = JSON.parse(stdout) as { status: string; messages: string[]; saved: { path: string; bytes: number }[] };
    expect(summary.status).toBe('success');
    expect(summary.messages).toEqual(expect.arrayContaining(['execution_start', 'executing', 'executed', 'execution_success']));
    expect(summary.saved).toHaveLength(1);
    expect((await readFile(summary.saved[0]!.path)).subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(emulator.creates() - before).toBe(1);
  });
});

describe('serve --redis refuses what it cannot do', () => {
  it('--emulator and --max-jobs concern prompts run in the server\'s process: exit 2, naming the option', async () => {
    const emulated = await runCli(['serve', '--port', '0', '--redis', redis.url, '--emulator'], box);
    expect(emulated.code).toBe(2);
    expect(emulated.stderr).toContain('--emulator');
    const limited = await runCli(['serve', '--port', '0', '--redis', redis.url, '--max-jobs', 'runway=2'], box);
    expect(limited.code).toBe(2);
    expect(limited.stderr).toContain('--max-jobs');
  });

  it('a Redis that does not answer stops serve with one sentence instead of a server that hangs on every request', async () => {
    const nobody = await freePort();
    const result = await runCli(['serve', '--port', '0', '--redis', `redis://127.0.0.1:${nobody}`], box);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`reelgraph: Redis at redis://127.0.0.1:${nobody} did not answer within 5 s`);
  });
});
