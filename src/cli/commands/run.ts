import { resolve } from 'node:path';
import { allowPrivateUrls, maxJobsOption, parse, positiveInt, requirePositional, UsageError } from '../args.js';
import { loadWorkflow } from '../load.js';
import { TerminalView } from '../render.js';
import { printValidation } from './validate.js';
import { dryRun, enforceMaxCost, maxCostOption, providerOption } from './dry-run.js';
import { runWorkflow, type RunResult } from '../../app/run.js';
import { createHttpClient } from '../../http/client.js';
import type { RunEvent } from '../../engine/events.js';
import { CancelledError, RuntimeError } from '../../engine/errors.js';
import type { Logger } from '../../engine/define-node.js';
import { IMAGE_OPTIONS, IMAGE_USAGE, imageOptions } from '../image-options.js';

const USAGE =
  `reelgraph run <workflow> [--output-dir DIR] [--input-dir DIR] [--json] [--concurrency N] [--no-cache] [--verbose]\n                           ${IMAGE_USAGE}\n                           [--max-jobs PROVIDER=N]... [--retry-failed] [--fail-fast]\n                           [--dry-run [--prices FILE]] [--provider runway|cometapi|runcomfy] [--no-metadata] [--allow-private-urls] [--max-cost USD]\n                           [--embedded opened|mapped] (a video: the workflow the user opened, or the mapped one that ran)`;

/** `reelgraph run`: validate, then execute; exit 0 ok, 1 failed, 2 invalid, 130 interrupted. */
export async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      'output-dir': { type: 'string' },
      'input-dir': { type: 'string' },
      json: { type: 'boolean' },
      concurrency: { type: 'string' },
      'no-cache': { type: 'boolean' },
      ...IMAGE_OPTIONS,
      verbose: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      prices: { type: 'string' },
      provider: { type: 'string' },
      'no-metadata': { type: 'boolean' },
      'max-jobs': { type: 'string', multiple: true },
      'retry-failed': { type: 'boolean' },
      'fail-fast': { type: 'boolean' },
      embedded: { type: 'string' },
      'allow-private-urls': { type: 'boolean' },
      'max-cost': { type: 'string' },
    },
    USAGE,
  );
  const file = requirePositional(positionals, 'the workflow file', USAGE);
  allowPrivateUrls(values['allow-private-urls']);
  const concurrency = positiveInt(values.concurrency, 'concurrency', 8);
  const maxJobs = maxJobsOption(values['max-jobs']);
  const images = imageOptions(values);
  if (values.embedded !== undefined && values.embedded !== 'opened' && values.embedded !== 'mapped') {
    throw new UsageError(`--embedded must be "opened" or "mapped".\nUsage: ${USAGE}`);
  }
  const workflow = await loadWorkflow(file, { provider: providerOption(values.provider), embedded: values.embedded });
  const json = values.json === true || !process.stderr.isTTY;
  const outputDir = resolve(values['output-dir'] ?? 'output');
  if (values['dry-run']) {
    const files = { inputDir: resolve(values['input-dir'] ?? workflow.folder), outputDir, ...images };
    return dryRun(workflow, { files, cache: !values['no-cache'], prices: values.prices, json: values.json === true }).finally(() => workflow.cleanup?.());
  }
  const maxCost = maxCostOption(values['max-cost'], process.env);
  if (maxCost !== undefined) {
    const files = { inputDir: resolve(values['input-dir'] ?? workflow.folder), outputDir, ...images };
    await enforceMaxCost(workflow, maxCost, { files, cache: !values['no-cache'], prices: values.prices }).catch(async (error: unknown) => {
      await workflow.cleanup?.();
      throw error;
    });
  }
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new CancelledError('Interrupted by Ctrl-C'));
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  const nodes = [...workflow.parsed.graph.nodes.values()].map((node) => ({ id: node.id, type: node.type }));
  const view = json ? undefined : new TerminalView(nodes, outputDir);
  const emit = (event: RunEvent) => (view ? view.handle(event) : process.stdout.write(`${JSON.stringify(event)}\n`));
  view?.start();
  // One HTTP client for the process, closed on the way out.
  const http = createHttpClient();
  try {
    const result = await runWorkflow(workflow.parsed, {
      inputDir: resolve(values['input-dir'] ?? workflow.folder),
      outputDir,
      ...images,
      // Always shown: the user should know their image was sent as a smaller copy.
      notice: (line) => process.stderr.write(`${line}\n`),
      concurrency,
      cache: values['no-cache'] ? false : true,
      signal: controller.signal,
      workflowPath: workflow.path,
      metadata: values['no-metadata'] ? false : true,
      maxJobs,
      retryFailed: values['retry-failed'] === true,
      failFast: values['fail-fast'] === true,
      onEvent: emit,
      http,
      log: values.verbose ? stderrLogger : undefined,
    });
    view?.stop();
    return report(result, json, view, values.verbose === true);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await http.close();
    await workflow.cleanup?.();
  }
}

/** Machine output goes to stdout in --json mode; the human sentence always goes to stderr. */
function report(result: RunResult, json: boolean, view: TerminalView | undefined, verbose: boolean): number {
  if (result.status === 'invalid') {
    if (json) printValidation(result.validation, true);
    printValidation(result.validation, false);
    return 2;
  }
  if (result.status === 'success') {
    const outputs = view?.summary() ?? [];
    if (view) process.stderr.write(`Done.${outputs.length ? ` Outputs:\n${outputs.map((path) => `  ${path}`).join('\n')}` : ''}\n`);
    return 0;
  }
  if (result.status === 'interrupted') {
    process.stderr.write('Interrupted: running provider jobs were cancelled where the provider allows it.\n');
    return 130;
  }
  // Every failed node with its one sentence; independent branches ran to the end.
  const failures = result.failures.length > 0 ? result.failures.map((failure) => failure.error) : [result.error];
  if (failures.length === 1) process.stderr.write(`Failed: ${failures[0]?.message ?? 'unknown error'}\n`);
  else process.stderr.write(`Failed: ${failures.length} nodes:\n${failures.map((error) => `  ${error?.message}`).join('\n')}\n`);
  if (result.skipped.length > 0) process.stderr.write(`Not run because of the failure${failures.length === 1 ? '' : 's'}: ${result.skipped.join(', ')}\n`);
  for (const error of failures) {
    // The stack of what the node threw, for bug reports; users get the sentences above.
    const cause = error?.cause instanceof Error ? error.cause : error;
    if (verbose && cause?.stack) process.stderr.write(`${cause.stack}\n`);
  }
  const error = result.error;
  return error instanceof RuntimeError ? error.exitCode : 1;
}

const stderrLogger: Logger = {
  debug: (message) => process.stderr.write(`debug: ${message}\n`),
  info: (message) => process.stderr.write(`${message}\n`),
  warn: (message) => process.stderr.write(`warning: ${message}\n`),
};
