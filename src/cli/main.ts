#!/usr/bin/env node
import { RuntimeError } from '../runtime/errors.js';
import { UsageError } from './args.js';
import { convertCommand } from './commands/convert.js';
import { demoCommand } from './commands/demo.js';
import { emulateCommand } from './commands/emulate.js';
import { extractCommand } from './commands/extract.js';
import { jobsCommand } from './commands/jobs.js';
import { nodesCommand } from './commands/nodes.js';
import { packCommand } from './commands/pack.js';
import { runCommand } from './commands/run.js';
import { serveCommand } from './commands/serve.js';
import { validateCommand } from './commands/validate.js';

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  run: runCommand,
  validate: validateCommand,
  convert: convertCommand,
  nodes: nodesCommand,
  serve: serveCommand,
  emulate: emulateCommand,
  demo: demoCommand,
  extract: extractCommand,
  pack: packCommand,
  jobs: jobsCommand,
};

const HELP = `reelgraph — run Runway image-to-video node graphs (ComfyUI workflow format)

Usage:
  reelgraph run <workflow> [--output-dir DIR] [--input-dir DIR] [--json] [--concurrency N] [--no-cache]
                           [--public-url URL] [--listen HOST:PORT] [--verbose]
  reelgraph validate <workflow> [--json]
  reelgraph convert <workflow> --to api|ui [-o FILE]
  reelgraph nodes [--json]
  reelgraph serve [--port 8188] [--host 127.0.0.1]
  reelgraph emulate [--port 8189]
  reelgraph demo
  reelgraph extract <video.mp4> [--prompt] [-o FILE]   (the workflow a SaveVideo embedded)
  reelgraph pack <workflow> -o bundle.zip              (workflow + images; run it with reelgraph run bundle.zip)

<workflow> may be a .json file (ours or ComfyUI's), a video with an embedded workflow, or a bundle .zip.
  reelgraph jobs [list|resume|cancel <id>|forget <key>] [--json]

Exit codes: 0 success, 1 execution failure, 2 invalid workflow or input, 130 interrupted.
Keys come from the environment: RUNWAYML_API_SECRET, COMETAPI_KEY, RUNCOMFY_API_TOKEN.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${HELP}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`Unknown command "${name}". Run "reelgraph --help" for the list.`);
  return command(args);
}

const verbose = process.argv.includes('--verbose');
main(process.argv.slice(2)).then(
  // Exit explicitly: keep-alive sockets and timers must not hold a finished run open.
  // (stdout and stderr are synchronous for files and pipes on Linux, so nothing is lost.)
  (code) => process.exit(code),
  (error: unknown) => {
    // Users get one sentence; --verbose adds the stack.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`reelgraph: ${message}\n`);
    if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exit(error instanceof RuntimeError ? error.exitCode : 1);
  },
);
