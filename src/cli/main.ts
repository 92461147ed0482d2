#!/usr/bin/env node
import { RuntimeError } from '../engine/errors.js';
import { UsageError } from './args.js';

type Command = (args: string[]) => Promise<number>;

/**
 * Loaded on demand: `run` should not load the emulator's video encoder, whose WebAssembly
 * runtime installs process-wide handlers and slows start-up.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.js')).runCommand,
  validate: async () => (await import('./commands/validate.js')).validateCommand,
  convert: async () => (await import('./commands/convert.js')).convertCommand,
  nodes: async () => (await import('./commands/nodes.js')).nodesCommand,
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  emulate: async () => (await import('./commands/emulate.js')).emulateCommand,
  demo: async () => (await import('./commands/demo.js')).demoCommand,
  extract: async () => (await import('./commands/extract.js')).extractCommand,
  pack: async () => (await import('./commands/pack.js')).packCommand,
  jobs: async () => (await import('./commands/jobs.js')).jobsCommand,
  batch: async () => (await import('./commands/batch.js')).batchCommand,
  worker: async () => (await import('./commands/worker.js')).workerCommand,
};

const HELP = `reelgraph — run Runway image-to-video node graphs (ComfyUI workflow format)

Usage:
  reelgraph run <workflow> [--output-dir DIR] [--input-dir DIR] [--json] [--concurrency N] [--no-cache]
                           [--public-url URL] [--listen HOST:PORT] [--provider P] [--no-metadata]
                           [--dry-run [--prices FILE]] [--max-cost USD] [--allow-private-urls] [--verbose]
  reelgraph validate <workflow> [--json] [--output-dir DIR] [--allow-private-urls]
  reelgraph convert <workflow> --to api|ui [-o FILE]
  reelgraph nodes [--json]
  reelgraph serve [--port 8188] [--host 127.0.0.1] [--output-dir DIR] [--input-dir DIR]
                  [--auth-token T] [--allow-host NAME]... [--allow-private-urls]   (a non-loopback --host needs a token)
                  [--redis URL]   (queue and history in Redis; workers run the prompts)
  reelgraph emulate [--port 8189]
  reelgraph demo [--output-dir DIR]
  reelgraph extract <video.mp4> [--prompt] [-o FILE]   (the workflow a SaveVideo embedded)
  reelgraph pack <workflow> -o bundle.zip              (workflow + images; run it with reelgraph run bundle.zip)
  reelgraph jobs [list|resume|cancel <id>|forget <key>] [--json]
  reelgraph batch <workflow> --inputs <folder|rows.csv|rows.jsonl> [--dry-run] [--max-cost USD] [--parallel N] [--redis URL]
  reelgraph worker --redis URL [--concurrency N] [--rate N] [--output-dir DIR]   (runs batch rows and serve --redis prompts)

<workflow> may be a .json file (ours or ComfyUI's), a video with an embedded workflow, or a bundle .zip.
Exit codes: 0 success, 1 execution failure, 2 invalid workflow or input, 130 interrupted.
Keys come from the environment: RUNWAYML_API_SECRET, COMETAPI_KEY, RUNCOMFY_API_TOKEN.
REELGRAPH_MAX_COST caps a run's estimated cost in USD; REELGRAPH_AUTH_TOKEN is serve's token.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${HELP}\n`);
    return name ? 0 : 2;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) throw new UsageError(`Unknown command "${name}". Run "reelgraph --help" for the list.`);
  return (await load())(args);
}

const verbose = process.argv.includes('--verbose');
main(process.argv.slice(2)).then(
  (code) => finish(code),
  (error: unknown) => {
    // Users get one sentence; --verbose adds the stack.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`reelgraph: ${message}\n`);
    if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    finish(error instanceof RuntimeError ? error.exitCode : 1);
  },
);

/**
 * Ends the process once stdout and stderr are flushed: a pipe to a slow reader is asynchronous,
 * and process.exit() would cut `validate --json | slow-reader` short. Keep-alive sockets and
 * timers must not hold a finished run open, so exit explicitly after the drain.
 */
function finish(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}
