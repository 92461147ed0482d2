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

/**
 * Applies one change to a record (and indexes its task id). KEYS[1]: the record, or with ARGV[4] set
 * the task's index entry, looked up here so a change named by task id is one round trip.
 * ARGV: kind, change as JSON, task index prefix, record prefix when KEYS[1] is a task index entry.
 */
const UPDATE = `
local key = KEYS[1]
if ARGV[4] ~= '' then
  local jobKey = redis.call('GET', key)
  if not jobKey then return 0 end
  key = ARGV[4] .. jobKey
end
local current = redis.call('GET', key)
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
redis.call('SET', key, cjson.encode(job))
return 1`;

/** The scripts as commands: ioredis sends them by SHA (EVALSHA), the body only when Redis lacks it. */
interface ScriptedRedis {
  reelgraphJobClaim(key: string, record: string): Promise<string | null>;
  reelgraphJobUpdate(key: string, kind: string, change: string, taskPrefix: string, jobPrefix: string): Promise<number>;
}

function scripted(redis: Redis): ScriptedRedis {
  const commands = redis as unknown as Partial<ScriptedRedis>;
  if (!commands.reelgraphJobClaim) redis.defineCommand('reelgraphJobClaim', { numberOfKeys: 1, lua: CLAIM });
  if (!commands.reelgraphJobUpdate) redis.defineCommand('reelgraphJobUpdate', { numberOfKeys: 1, lua: UPDATE });
  return redis as unknown as ScriptedRedis;
}

/** Another worker holds a live intent for this key: this one must not create. */
export class JobClaimedError extends Error {
  override name = 'JobClaimedError';
}

export class RedisJournal implements JournalPort {
  private readonly scripts: ScriptedRedis;

  constructor(
    private readonly redis: Redis,
    readonly origin?: JobOrigin,
  ) {
    this.scripts = scripted(redis);
  }

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
    const holder = await this.scripts.reelgraphJobClaim(PREFIX + input.jobKey, JSON.stringify(record));
    if (holder) throw new JobClaimedError(`another worker already sent the create for job ${input.jobKey}; this row re-attaches to it when retried`);
  }

  async recordSubmitted(jobKey: string, taskId: string): Promise<void> {
    await this.update({ jobKey }, 'submitted', { taskId, at: Date.now() });
  }

  async recordState(ref: JobRef, state: JobState, extra: { reason?: string; output?: string } = {}): Promise<void> {
    await this.update(ref, 'state', { state, ...extra, at: Date.now() });
  }

  async recordCancel(ref: JobRef, outcome: string): Promise<void> {
    await this.update(ref, 'cancel', { outcome, at: Date.now() });
  }

  /** A change to the job `ref` names; by task id, the script finds the job (nothing happens for an unknown task). */
  private async update(ref: JobRef, kind: string, change: Record<string, unknown>): Promise<void> {
    const [key, jobPrefix] = 'jobKey' in ref ? [PREFIX + ref.jobKey, ''] : [taskKey(ref.provider, ref.taskId), PREFIX];
    await this.scripts.reelgraphJobUpdate(key, kind, JSON.stringify(change), TASK_PREFIX, jobPrefix);
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
