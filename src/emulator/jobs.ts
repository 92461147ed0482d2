import { randomUUID } from 'node:crypto';
import type { EmulatedProvider } from './limits.js';
import { slotStartTimes } from './throttle.js';
import type { EmulatedJob, EmulatedJobRequest, EmulatorOptions, JobPhase } from './types.js';

/**
 * Emulated jobs. Each job's phase is derived from the time since it was created, on the
 * emulator's clock: queued for timing.queuedMs, then running with rising progress for
 * timing.runningMs, then succeeded (or failed). No timers run in the background. With
 * runwayMaxConcurrent set, a Runway job's timeline starts when it gets a slot (throttle.ts);
 * until then it is queued and throttled.
 */

export interface JobState {
  phase: JobPhase;
  /** 0..1 while running, 1 when finished. */
  progress: number;
  /** When the job reached its current phase (ms on the emulator clock), 0 when queued. */
  startedAt: number;
  finishedAt: number;
  /** Waiting for one of the runwayMaxConcurrent slots (Runway's THROTTLED); phase is 'queued'. */
  throttled: boolean;
}

export class JobStore {
  private readonly jobs = new Map<string, EmulatedJob>();
  /** The input image bytes per job, kept apart so jobs() snapshots stay small. */
  private readonly images = new Map<string, Buffer>();
  private readonly videos = new Map<string, Promise<Buffer>>();

  constructor(private readonly options: () => EmulatorOptions) {}

  create(provider: EmulatedProvider, request: EmulatedJobRequest, image: Buffer): EmulatedJob {
    const options = this.options();
    const prompt = request.promptText ?? '';
    const asked = /\[fail(?::([A-Z0-9_.]+))?\]/.exec(prompt);
    const predicate = options.failJobs?.(request) ?? false;
    const willFail = asked !== null || predicate !== false;
    const job: EmulatedJob = { id: randomUUID(), provider, request, createdAt: options.now(), deleted: false, willFail, polls: 0 };
    if (willFail) job.failureCode = asked?.[1] ?? (typeof predicate === 'string' ? predicate : 'INTERNAL.BAD_OUTPUT');
    if (prompt.includes('[slow]')) job.slow = true;
    this.jobs.set(job.id, job);
    this.images.set(job.id, image);
    return job;
  }

  get(id: string): EmulatedJob | undefined {
    return this.jobs.get(id);
  }

  image(id: string): Buffer | undefined {
    return this.images.get(id);
  }

  /** The rendered video per job: rendered once, on first need. */
  video(id: string, render: () => Promise<Buffer>): Promise<Buffer> {
    let video = this.videos.get(id);
    if (!video) {
      video = render();
      this.videos.set(id, video);
      // A failed render must not stick; the next download tries again.
      video.catch(() => this.videos.delete(id));
    }
    return video;
  }

  /** The job's queued and running durations ("[slow]" jobs take slowMultiplier times longer). */
  private timingOf(job: EmulatedJob): { queuedMs: number; runningMs: number } {
    const { timing, slowMultiplier } = this.options();
    const factor = job.slow ? (slowMultiplier ?? 10) : 1;
    return { queuedMs: timing.queuedMs * factor, runningMs: timing.runningMs * factor };
  }

  state(job: EmulatedJob): JobState {
    const { now } = this.options();
    const timing = this.timingOf(job);
    const at = job.cancelledAt ?? now();
    const beginAt = this.timelineStart(job);
    const elapsed = Math.max(0, at - beginAt);
    const startedAt = beginAt + timing.queuedMs;
    const finishedAt = startedAt + timing.runningMs;
    const waiting = { progress: 0, startedAt: 0, finishedAt: 0 };
    if (job.cancelledAt !== undefined) return { phase: 'cancelled', progress: 0, startedAt, finishedAt: job.cancelledAt, throttled: false };
    if (at < beginAt) return { phase: 'queued', ...waiting, throttled: true };
    if (elapsed < timing.queuedMs) return { phase: 'queued', ...waiting, throttled: false };
    if (elapsed < timing.queuedMs + timing.runningMs) {
      const progress = timing.runningMs > 0 ? (elapsed - timing.queuedMs) / timing.runningMs : 1;
      return { phase: 'running', progress: Math.min(0.99, Math.round(progress * 100) / 100), startedAt, finishedAt: 0, throttled: false };
    }
    return { phase: job.willFail ? 'failed' : 'succeeded', progress: 1, startedAt, finishedAt, throttled: false };
  }

  /** When the job's own queued→running timeline starts: creation, or later if it waits for a Runway slot. */
  private timelineStart(job: EmulatedJob): number {
    const { runwayMaxConcurrent } = this.options();
    if (job.provider !== 'runway' || !runwayMaxConcurrent) return job.createdAt;
    // Map order is creation order, which is the FIFO order Runway serves throttled tasks in.
    const runwayJobs = [...this.jobs.values()].filter((other) => other.provider === 'runway');
    const starts = slotStartTimes(runwayJobs, runwayMaxConcurrent, (other) => {
      const timing = this.timingOf(this.jobs.get(other.id)!);
      return timing.queuedMs + timing.runningMs;
    });
    return starts.get(job.id) ?? job.createdAt;
  }

  /** Marks a job cancelled; only queued or running jobs can be. */
  cancel(job: EmulatedJob): boolean {
    const phase = this.state(job).phase;
    if (phase !== 'queued' && phase !== 'running') return false;
    job.cancelledAt = this.options().now();
    return true;
  }

  /** How many jobs were queued before this one and are still queued (RunComfy's queue_position). */
  queuePosition(job: EmulatedJob): number {
    let ahead = 0;
    for (const other of this.jobs.values()) {
      if (other.createdAt < job.createdAt && this.state(other).phase === 'queued') ahead++;
    }
    return ahead;
  }

  list(): EmulatedJob[] {
    return [...this.jobs.values()].map((job) => {
      const state = this.state(job);
      const snapshot: EmulatedJob = { ...job, request: { ...job.request }, phase: state.phase, progress: state.progress };
      if (state.throttled) snapshot.throttled = true;
      return snapshot;
    });
  }

  clear(): void {
    this.jobs.clear();
    this.images.clear();
    this.videos.clear();
  }
}
