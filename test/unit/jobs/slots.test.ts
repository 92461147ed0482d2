import { describe, expect, it } from 'vitest';
import { JobSlots, parseJobLimits } from '../../../src/jobs/slots.js';

// Issue 11 point 6: per-provider limits on jobs in flight, default unlimited.
describe('JobSlots (--max-jobs)', () => {
  it('holds a slot from before the create until the task is released, FIFO, per provider', async () => {
    const slots = new JobSlots({ runway: 2 });
    const a = await slots.acquire('runway');
    slots.bind('runway', a, 'task-a');
    const b = await slots.acquire('runway');
    const waits: string[] = [];
    const order: string[] = [];
    const c = slots.acquire('runway', undefined, (inFlight, limit) => waits.push(`${inFlight}/${limit}`)).then((t) => order.push('c') && t);
    const d = slots.acquire('runway').then((t) => order.push('d') && t);
    // Other providers are unlimited.
    await slots.acquire('cometapi');
    await Promise.resolve();
    expect(order).toEqual([]);
    expect(waits).toEqual(['2/2']);
    slots.release('runway', 'task-a');
    await c;
    expect(order).toEqual(['c']);
    slots.release('runway', b); // the create failed: its token goes back
    await d;
    expect(order).toEqual(['c', 'd']);
    expect(slots.inFlight('runway')).toBe(2);
  });

  it('a waiting create gives up when the run is interrupted', async () => {
    const slots = new JobSlots({ runway: 1 });
    await slots.acquire('runway');
    const controller = new AbortController();
    const waiting = slots.acquire('runway', controller.signal);
    controller.abort(new Error('Interrupted by Ctrl-C'));
    await expect(waiting).rejects.toThrow('Interrupted by Ctrl-C');
  });

  it('parses PROVIDER=N and refuses anything else in one sentence', () => {
    expect(parseJobLimits(['runway=4', 'cometapi=2,runcomfy=1'], ['runway', 'cometapi', 'runcomfy'])).toEqual({ runway: 4, cometapi: 2, runcomfy: 1 });
    expect(() => parseJobLimits(['runway=0'], ['runway'])).toThrow('--max-jobs takes PROVIDER=N with PROVIDER one of runway and N a whole number of at least 1, got "runway=0"');
    expect(() => parseJobLimits(['fal=2'], ['runway'])).toThrow(/got "fal=2"/);
  });
});
