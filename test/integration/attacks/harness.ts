import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { emulatorEnv } from '../../../src/cli/emulator-env.js';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';

/**
 * Shared by the attack suite: the built CLI run in a sandbox folder against the emulator, with
 * its peak RSS recorded (a preload writes `process.resourceUsage().maxRSS` on exit to a file, so
 * stderr stays exactly what a user sees).
 */

export const CLI = resolve('dist/cli/main.js');
const RSS_PRELOAD = `data:text/javascript,${encodeURIComponent(
  "import {writeFileSync} from 'node:fs'; process.on('exit', () => { const f = process.env.ATTACK_RSS_FILE; if (f) writeFileSync(f, String(process.resourceUsage().maxRSS)); });",
)}`;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Peak resident set size of the CLI process, in MiB. */
  rssMb: number;
}

export interface Sandbox {
  /** Everything the CLI may touch lives under here; `work` is its cwd, `tmp` its TMPDIR. */
  root: string;
  work: string;
  emulator: Emulator;
  env: NodeJS.ProcessEnv;
  cli(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<CliResult>;
  /** Every path under root, relative, sorted (to prove nothing landed where it should not). */
  listing(): Promise<string[]>;
  close(): Promise<void>;
}

let runs = 0;

export async function openSandbox(): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), 'reelgraph-attack-'));
  const work = join(root, 'work');
  await mkdir(work);
  await mkdir(join(root, 'tmp'));
  await mkdir(join(root, 'rss'));
  const emulator = await startEmulator({ port: 0, timing: { queuedMs: 0, runningMs: 0 }, cometNotExistPolls: 0 });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...emulatorEnv(emulator.url),
    REELGRAPH_CACHE_DIR: join(root, 'cache'),
    REELGRAPH_STATE_DIR: join(root, 'state'),
    TMPDIR: join(root, 'tmp'),
  };
  const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    new Promise<CliResult>((done) => {
      const rssFile = join(root, 'rss', `${++runs}`);
      execFile(
        process.execPath,
        ['--import', RSS_PRELOAD, CLI, ...args],
        { cwd: work, env: { ...env, ...extraEnv, ATTACK_RSS_FILE: rssFile }, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          readFile(rssFile, 'utf8').then(
            (kb) => done({ code, stdout, stderr, rssMb: Number(kb) / 1024 }),
            () => done({ code, stdout, stderr, rssMb: Number.NaN }),
          );
        },
      );
    });
  const listing = async () => (await readdir(root, { recursive: true })).filter((p) => !p.startsWith('rss')).sort();
  return {
    root,
    work,
    emulator,
    env,
    cli,
    listing,
    close: async () => {
      await emulator.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** The CLI refused the input as a user should see it: exit 2, one sentence on stderr, no stack, bounded memory. */
export function expectRefused(result: CliResult, message?: RegExp): void {
  const lines = result.stderr.trimEnd().split('\n');
  expect(result.code, result.stderr).toBe(2);
  expect(lines, 'one sentence on one line').toHaveLength(1);
  expect(lines[0]).toMatch(/^(reelgraph|Nothing was run|Failed): /);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  if (message) expect(result.stderr).toMatch(message);
  expect(result.rssMb).toBeLessThan(512);
}
