import { parseArgs, type ParseArgsConfig } from 'node:util';
import { RuntimeError } from '../engine/errors.js';
import { parseJobLimits, type JobLimits } from '../jobs/slots.js';
import { PROVIDER_IDS } from '../providers/catalog.js';
import { ALLOW_PRIVATE_URLS_ENV } from '../nodes/url-guard.js';

/** A mistake on the command line: exit 2, with the usage hint. */
export class UsageError extends RuntimeError {
  override name = 'UsageError';
  override exitCode = 2;
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs, with its errors turned into one-sentence usage errors. */
export function parse<T extends Options>(args: string[], options: T, usage: string) {
  try {
    return parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]}\nUsage: ${usage}`);
  }
}

export function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a whole number of at least 1, got "${value}"`);
  return n;
}

/** `--max-jobs runway=4` (repeatable, or comma-separated): per-provider limits on jobs in flight. */
export function maxJobsOption(values: string[] | undefined): JobLimits {
  try {
    return parseJobLimits(values ?? [], PROVIDER_IDS);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function requirePositional(positionals: string[], what: string, usage: string): string {
  const value = positionals[0];
  if (!value) throw new UsageError(`Missing ${what}.\nUsage: ${usage}`);
  return value;
}

/** --allow-private-urls: LoadImage may fetch loopback, private and plain-http URLs (tests, intranets). Runs read it from the environment. */
export function allowPrivateUrls(flag: boolean | undefined): void {
  if (flag) process.env[ALLOW_PRIVATE_URLS_ENV] = '1';
}
