import type { Redis } from 'ioredis';
import type { IntentInput, JobOrigin, JobRecord, JobRef, JobState } from './journal.js';
import type { JournalPort } from './port.js';

/**
 * The job journal in Redis, shared by every worker of a queue (on any machine). One JSON record
 * per job key, changed only by Lua scripts, so each change is atomic: the intent is the claim
 * (written only when no live job holds the key), and a second worker that loses the race
 * re-attaches instead of creating. The same rules as the JSONL journal (journal.ts): an intent
 * before the create, the task id as soon as the provider answers.
 */

const PREFIX = 'reelgraph:job:';
const TASK_PREFIX = 'reelgraph:task:';

/** Claims the key unless a live job holds it; returns the holder's record (JSON) when refused. */
const CLAIM = `
local current = redis.call('GET', KEYS[1])
if current then
  local state = cjson.decode(current).state
  if state ~= 'rejected' and state ~= 'failed' and state ~= 'cancelled' and state ~= 'saved' then return current end
end
redis.call('SET', KEYS[1], ARGV[1])
return false`;

/** Applies one change to a record (and indexes its task id). ARGV: kind, change as JSON, task index prefix. */
const UPDATE = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local job = cjson.decode(current)
local change = cjson.decode(ARGV[2])
job.updatedAt = change.at
if ARGV[1] == 'submitted' then
  job.taskId = change.taskId
  if job.state == 'intent' then job.state = 'submitted' end
  redis.call('SET', ARGV[3] .. job.provider .. ':' .. change.taskId, job.jobKey)
elseif ARGV[1] == 'state' then
  job.state = change.state
  if change.reason then job.reason = change.reason end
  if change.output then job.output = change.output end
elseif ARGV[1] == 'cancel' then
  if change.outcome == 'cancelled' then job.state = 'cancelled' end
  table.insert(job.cancels, { outcome = change.outcome, at = change.at })
end
redis.call('SET', KEYS[1], cjson.encode(job))
return 1`;

/** Another worker holds a live intent for this key: this one must not create. */
export class JobClaimedError extends Error {
  override name = 'JobClaimedError';
}

export class RedisJournal implements JournalPort {
  constructor(
    private readonly redis: Redis,
    readonly origin?: JobOrigin,
  ) {}

  async find(jobKey: string): Promise<JobRecord | undefined> {
    const text = await this.redis.get(PREFIX + jobKey);
    return text ? parseRecord(text) : undefined;
  }

  async findByTask(provider: string, taskId: string): Promise<JobRecord | undefined> {
    const jobKey = await this.redis.get(taskKey(provider, taskId));
    return jobKey ? this.find(jobKey) : undefined;
  }

  async recordIntent(input: IntentInput): Promise<void> {
    const origin = input.origin ?? this.origin;
    const at = Date.now();
    const record: JobRecord = { ...input, ...(origin ? { origin } : {}), state: 'intent', createdAt: at, updatedAt: at, cancels: [] };
    const holder = (await this.redis.eval(CLAIM, 1, PREFIX + input.jobKey, JSON.stringify(record))) as string | null;
    if (holder) throw new JobClaimedError(`another worker already sent the create for job ${input.jobKey}; this row re-attaches to it when retried`);
  }

  async recordSubmitted(jobKey: string, taskId: string): Promise<void> {
    await this.update(jobKey, 'submitted', { taskId, at: Date.now() });
  }

  async recordState(ref: JobRef, state: JobState, extra: { reason?: string; output?: string } = {}): Promise<void> {
    const jobKey = await this.keyOf(ref);
    if (jobKey) await this.update(jobKey, 'state', { state, ...extra, at: Date.now() });
  }

  async recordCancel(ref: JobRef, outcome: string): Promise<void> {
    const jobKey = await this.keyOf(ref);
    if (jobKey) await this.update(jobKey, 'cancel', { outcome, at: Date.now() });
  }

  private async keyOf(ref: JobRef): Promise<string | undefined> {
    return 'jobKey' in ref ? ref.jobKey : ((await this.redis.get(taskKey(ref.provider, ref.taskId))) ?? undefined);
  }

  private async update(jobKey: string, kind: string, change: Record<string, unknown>): Promise<void> {
    await this.redis.eval(UPDATE, 1, PREFIX + jobKey, kind, JSON.stringify(change), TASK_PREFIX);
  }
}

function taskKey(provider: string, taskId: string): string {
  return `${TASK_PREFIX}${provider}:${taskId}`;
}

function parseRecord(text: string): JobRecord | undefined {
  try {
    const record = JSON.parse(text) as JobRecord;
    // cjson encodes an empty Lua table as {}.
    if (!Array.isArray(record.cancels)) record.cancels = [];
    return record;
  } catch {
    return undefined;
  }
}
