import { describe, expect, it } from 'vitest';
import { isQueueableId } from '../../../src/server/redis-prompts.js';

/** A prompt id is its BullMQ job id under `serve --redis`: BullMQ refuses whole numbers and ':'. */
describe('isQueueableId', () => {
  it('accepts the ids clients make (UUIDs, words)', () => {
    expect(isQueueableId('0b9c6f1e-3f7a-4c55-9a43-2a1e4b7d9c10')).toBe(true);
    expect(isQueueableId('my-prompt_7')).toBe(true);
    expect(isQueueableId('12abc')).toBe(true);
  });
  it('refuses what BullMQ would refuse, and ids over 200 characters', () => {
    expect(isQueueableId('42')).toBe(false);
    expect(isQueueableId('a:b')).toBe(false);
    expect(isQueueableId('x'.repeat(201))).toBe(false);
  });
});
