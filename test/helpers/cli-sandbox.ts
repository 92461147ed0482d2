import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ALL_FORMATS, BufferSource, Input } from 'mediabunny';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { emulatorEnv } from '../../src/cli/emulator-env.js';
import type { Workflow } from './make-bad-corpus.js';

/**
 * Spawning the real built CLI (`node dist/cli/main.js`) against a loopback emulator, in a
 * sandbox of temp dirs (work, output, cache, state) that is removed afterwards.
 */

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cli/main.js');
export const EXAMPLES = join(ROOT, 'examples');

export function requireBuiltCli(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does it).`);
}

export interface Sandbox {
  root: string;
  work: string;
  output: string;
  cache: string;
  state: string;
  env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

/** Temp dirs plus an environment pointing every provider at the emulator. */
export async function makeSandbox(emulatorUrl: string, extraEnv: Record<string, string> = {}): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), 'reelgraph-it-'));
  const dirs = { work: join(root, 'work'), output: join(root, 'output'), cache: join(root, 'cache'), state: join(root, 'state') };
  await Promise.all(Object.values(dirs).map((dir) => mkdir(dir, { recursive: true })));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: root,
    TMPDIR: join(root, 'tmp'),
    ...emulatorEnv(emulatorUrl),
    REELGRAPH_CACHE_DIR: dirs.cache,
    REELGRAPH_STATE_DIR: dirs.state,
    ...extraEnv,
  };
  await mkdir(join(root, 'tmp'), { recursive: true });
  return { root, ...dirs, env, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export async function readExample(name: string): Promise<Workflow> {
  return JSON.parse(await readFile(join(EXAMPLES, name), 'utf8')) as Workflow;
}

/** Poll quickly: the emulator runs jobs in well under a second. */
export function fastPoll(workflow: Workflow, intervalS = 0.05, timeoutS = 120): Workflow {
  const copy = structuredClone(workflow);
  for (const node of copy.nodes) if (node.type === 'Poll') node.widgets_values = [intervalS, timeoutS];
  return copy;
}

/** Writes a workflow (object or raw content) into the sandbox with the example image beside it. */
export async function placeWorkflow(box: Sandbox, name: string, content: Workflow | string | Buffer, images: Record<string, string> = {}): Promise<string> {
  await mkdir(join(box.work, 'images'), { recursive: true });
  await copyFile(join(EXAMPLES, 'images/sunset.jpg'), join(box.work, 'images/sunset.jpg'));
  for (const [target, source] of Object.entries(images)) await copyFile(source, join(box.work, target));
  const path = join(box.work, name);
  await writeFile(path, typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content, null, 1));
  return path;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  child: ChildProcess;
  done: Promise<CliResult>;
  /** Resolves with the first stdout line that satisfies `match`. */
  waitForLine(match: (line: string) => boolean): Promise<string>;
}

const KILL_AFTER_MS = 90_000;

export function startCli(args: string[], box: Sandbox, env: NodeJS.ProcessEnv = box.env): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: box.work, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      for (const waiter of waiters.splice(0)) (waiter.match(line) ? waiter.resolve(line) : waiters.push(waiter));
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // A hung CLI must not hang the suite.
  const guard = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
  const done = new Promise<CliResult>((resolveDone) => {
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolveDone({ code, signal, stdout, stderr });
    });
  });
  const waitForLine = (match: (line: string) => boolean) =>
    new Promise<string>((resolveLine, reject) => {
      waiters.push({ match, resolve: resolveLine });
      void done.then(() => reject(new Error(`CLI exited before the expected line; stdout:\n${stdout}\nstderr:\n${stderr}`)));
    });
  return { child, done, waitForLine };
}

export function runCli(args: string[], box: Sandbox, env?: NodeJS.ProcessEnv): Promise<CliResult> {
  return startCli(args, box, env).done;
}

/** Every file under dir (recursively), as absolute paths. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** Duration in seconds of an MP4, read by parsing the container; throws for a broken file. */
export async function mp4Duration(path: string): Promise<number> {
  const input = new Input({ source: new BufferSource(await readFile(path)), formats: ALL_FORMATS });
  const track = await input.getPrimaryVideoTrack();
  if (!track) throw new Error(`${path} has no video track`);
  return input.computeDuration();
}

/** Lines of the job journal. */
export async function journalLines(box: Sandbox): Promise<{ type: string; [key: string]: unknown }[]> {
  const text = await readFile(join(box.state, 'jobs.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { type: string });
}

/** Filled in by useCliSandbox's hooks; read it inside tests only. */
export interface CliSandbox {
  emulator: Emulator;
  box: Sandbox;
}

/**
 * Registers the hooks the CLI fault tests share: one emulator for the file (`options`), reset and
 * given `perTest` before each test so no test sees another's faults or jobs, and a fresh sandbox per test.
 */
export function useCliSandbox(options: Partial<EmulatorOptions>, perTest: Partial<EmulatorOptions> = options): CliSandbox {
  const setup = {} as CliSandbox;
  beforeAll(async () => {
    requireBuiltCli();
    setup.emulator = await startEmulator(options);
  });
  afterAll(async () => {
    await setup.emulator?.close();
  });
  beforeEach(async () => {
    setup.emulator.reset();
    setup.emulator.configure(perTest);
    setup.box = await makeSandbox(setup.emulator.url);
  });
  afterEach(async () => {
    await setup.box.cleanup();
  });
  return setup;
}
