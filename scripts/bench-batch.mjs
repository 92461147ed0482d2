// Batch throughput (issue 15): 1,000 rows through the built CLI against the emulator (jobs of 3 s, no
// provider limit), in-process and on a loopback Redis with 1 and 3 workers. Each wall time is set
// against the ideal computed in the same run, the same way for all three: one row alone, measured
// (its process start, validation and manifest once), plus a row's own time (create → saved video)
// for every further wave of rows (rows ÷ lanes, rounded up). The Poll node keeps the example
// workflow's interval, 5 s, ComfyUI's own default (poll_interval=5.0, docs/comfyui.md): so a 3 s job
// is seen done at the 5 s poll, in the row alone as in the batch. Every process is on loopback and
// stopped at the end.
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/cli/main.js');
const JOB_MS = 3_000;
/** Seconds between two polls of a job: ComfyUI's default, and the value in examples/runway-gen4-turbo.json. */
const POLL_S = 5;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A child process with its stdout lines; `line(match)` waits for one. */
function start(command, args, env) {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const waiters = [];
  let pending = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop();
    for (const line of parts) {
      lines.push(line);
      for (const waiter of waiters.splice(0)) (waiter.match(line) ? waiter.resolve(line) : waiters.push(waiter));
    }
  });
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const done = new Promise((resolve) => child.on('close', (code) => resolve({ code, lines, stderr })));
  const line = (match) =>
    new Promise((resolve, reject) => {
      const found = lines.find(match);
      if (found) return resolve(found);
      waiters.push({ match, resolve });
      done.then(() => reject(new Error(`${args[1]} exited first: ${stderr.slice(-500)}`)));
    });
  return { child, done, line, lines };
}

async function waitForPort(port) {
  for (let i = 0; i < 100; i++) {
    const open = await new Promise((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' }, () => (socket.end(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('redis-server did not start');
}

/** Sum of calls over INFO commandstats, read with a raw RESP request (no client library needed). */
function redisCommandCalls(port) {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk;
      const header = /^\$(\d+)\r\n/.exec(text);
      if (header && text.length >= header[0].length + Number(header[1])) {
        socket.end();
        let calls = 0;
        for (const match of text.matchAll(/cmdstat_[^:]+:calls=(\d+)/g)) calls += Number(match[1]);
        resolve(calls);
      }
    });
    socket.on('error', reject);
    socket.write('*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n');
  });
}

/**
 * Counts the commands clients send (MONITOR tags a command run inside a Lua script "lua", and one
 * sent by a client with its address). A MULTI or a pipeline counts each command it carries.
 */
function redisMonitor(port) {
  const counts = { client: 0, lua: 0 };
  const socket = createConnection({ port, host: '127.0.0.1' }, () => socket.write('*1\r\n$7\r\nMONITOR\r\n'));
  let pending = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    pending += chunk;
    const lines = pending.split('\r\n');
    pending = lines.pop();
    for (const line of lines) {
      if (!line.startsWith('+') || line === '+OK') continue;
      if (/^\+\d+\.\d+ \[\d+ lua\]/.test(line)) counts.lua++;
      else counts.client++;
    }
  });
  socket.on('error', () => {});
  return { counts, stop: () => socket.destroy() };
}

function redisFlush(port) {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => socket.write('*2\r\n$8\r\nFLUSHALL\r\n$4\r\nSYNC\r\n'));
    socket.once('data', () => (socket.end(), resolve()));
    socket.on('error', reject);
  });
}

async function post(url, body) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
}

export async function benchBatch({ rows = 1_000, lanes = 100 } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'reelgraph-bench-batch-'));
  const children = [];
  try {
    const emulator = start(process.execPath, [CLI, 'emulate', '--port', '0'], { ...process.env });
    children.push(emulator);
    const { url } = JSON.parse(await emulator.line((line) => line.startsWith('{"url"')));
    // Jobs of 3 s; tiny frames, so the emulator's encoder is not what is measured.
    await post(`${url}/_emulator/config`, { timing: { queuedMs: 0, runningMs: JOB_MS }, frameWidth: 32, fps: 1 });

    const workflow = JSON.parse(await readFile(join(ROOT, 'examples/runway-gen4-turbo.json'), 'utf8'));
    for (const node of workflow.nodes) if (node.type === 'Poll') node.widgets_values = [POLL_S, 600];
    await mkdir(join(dir, 'images'));
    await copyFile(join(ROOT, 'examples/images/sunset.jpg'), join(dir, 'images/sunset.jpg'));
    await writeFile(join(dir, 'workflow.json'), JSON.stringify(workflow));
    await writeFile(join(dir, 'one.csv'), 'id,3.seed\nsolo,7\n');
    await writeFile(join(dir, 'rows.csv'), ['id,3.seed', ...Array.from({ length: rows }, (_, i) => `r${i + 1},${i + 1}`)].join('\n'));

    const env = (name) => ({
      PATH: process.env.PATH,
      HOME: dir,
      RUNWAYML_BASE_URL: url,
      COMETAPI_BASE_URL: url,
      RUNCOMFY_BASE_URL: url,
      RUNWAYML_API_SECRET: `key_${'0'.repeat(128)}`,
      COMETAPI_KEY: 'bench',
      RUNCOMFY_API_TOKEN: 'bench',
      REELGRAPH_STATE_DIR: join(dir, name, 'state'),
      REELGRAPH_CACHE_DIR: join(dir, name, 'cache'),
    });
    const batch = async (name, inputs, extra = []) => {
      await post(`${url}/_emulator/reset`, {});
      const startedAt = performance.now();
      const run = start(process.execPath, [CLI, 'batch', join(dir, 'workflow.json'), '--inputs', join(dir, inputs), '--output-dir', join(dir, name, 'out'), '--json', ...extra], env(name));
      children.push(run);
      const result = await run.done;
      const wallMs = performance.now() - startedAt;
      const end = JSON.parse(result.lines.find((line) => line.startsWith('{"type":"batch_end"')) ?? 'null');
      if (result.code !== 0 || !end) throw new Error(`${name}: exit ${result.code}: ${result.stderr.slice(-400)}`);
      const log = await (await fetch(`${url}/_emulator/log`)).json();
      const rowMs = result.lines.filter((line) => line.startsWith('{"type":"row_end"')).map((line) => JSON.parse(line).data.seconds * 1000).sort((a, b) => a - b);
      return { wallMs, rowMsMedian: rowMs[Math.floor(rowMs.length / 2)], rowMsMax: rowMs.at(-1), done: end.data.done, cpuMs: end.data.cpuMs, creates: log.log.filter((entry) => entry.kind === 'create' && entry.status === 200).length };
    };

    // The baseline: one row alone, in-process. Its process start, validation and manifest are paid
    // once per batch; its row time (create → saved video, the row's own `seconds`) once per wave.
    const one = await batch('one', 'one.csv');
    const oneRowMs = one.rowMsMedian;
    const ideal = (lanesTotal) => one.wallMs + (Math.ceil(rows / lanesTotal) - 1) * oneRowMs;

    const inProcess = await batch('in-process', 'rows.csv', ['--parallel', String(lanes)]);

    const redisPort = await freePort();
    const redis = start('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], process.env);
    children.push(redis);
    await waitForPort(redisPort);
    const redisUrl = `redis://127.0.0.1:${redisPort}`;

    const onWorkers = async (count) => {
      const name = `workers-${count}`;
      await redisFlush(redisPort);
      const workers = Array.from({ length: count }, () => start(process.execPath, [CLI, 'worker', '--redis', redisUrl, '--concurrency', String(lanes), '--json'], env(name)));
      children.push(...workers);
      await Promise.all(workers.map((worker) => worker.line((line) => line.includes('"worker_ready"'))));
      const before = await redisCommandCalls(redisPort);
      const monitor = redisMonitor(redisPort);
      const run = await batch(name, 'rows.csv', ['--redis', redisUrl]);
      const after = await redisCommandCalls(redisPort);
      monitor.stop();
      for (const worker of workers) worker.child.kill('SIGTERM');
      const stopped = await Promise.all(workers.map((worker) => worker.done));
      const workerCpuMs = stopped.reduce((sum, result) => sum + (JSON.parse(result.lines.find((line) => line.includes('"worker_stopped"')) ?? '{"data":{"cpuMs":0}}').data.cpuMs ?? 0), 0);
      const idealMs = ideal(count * lanes);
      return { ...run, workers: count, idealMs, ratio: run.wallMs / idealMs, cpuPerRowMs: (workerCpuMs + run.cpuMs) / rows, workerCpuMs, redisCallsPerRow: (after - before) / rows, redisSentPerRow: monitor.counts.client / rows, redisInScriptsPerRow: monitor.counts.lua / rows };
    };
    const oneWorker = await onWorkers(1);
    const threeWorkers = await onWorkers(3);
    const inProcessIdeal = ideal(lanes);
    return {
      rows,
      lanes,
      jobMs: JOB_MS,
      pollS: POLL_S,
      oneWallMs: one.wallMs,
      oneRowMs,
      inProcess: { ...inProcess, idealMs: inProcessIdeal, ratio: inProcess.wallMs / inProcessIdeal, cpuPerRowMs: inProcess.cpuMs / rows, overheadPerRowMs: (inProcess.wallMs - inProcessIdeal) / rows },
      oneWorker,
      threeWorkers,
    };
  } finally {
    for (const run of children) if (run.child.exitCode === null) run.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchBatch({ rows: Number(process.argv[2] ?? 1000), lanes: Number(process.argv[3] ?? 100) });
  console.log(JSON.stringify(r, null, 1));
}
