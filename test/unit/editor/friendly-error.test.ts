import { describe, expect, it } from 'vitest';
import { friendlyError } from '../../../src/editor/friendly-error.js';

describe('friendlyError', () => {
  it('turns a retried connection failure into one sentence and keeps the message as details', () => {
    const message = 'Node "4" (Poll): GET http://127.0.0.1:39103/v1/tasks/a6ec1 failed after 6 attempts: connect ECONNREFUSED 127.0.0.1:39103';
    expect(friendlyError(message)).toEqual({ sentence: 'The provider did not answer (tried 6 times): check your connection, then Run again.', details: message });
  });

  it('points at the provider, not at a CLI command, when a job may exist already', () => {
    const message = `Node "3" (RunwayI2V): the create request's outcome is unknown; ${'x'.repeat(500)} run \`reelgraph jobs forget 3\``;
    const { sentence } = friendlyError(message);
    expect(sentence).toContain('check the provider');
    expect(sentence).not.toContain('reelgraph jobs');
  });

  it('keeps the first sentence of anything else, without the node prefix, at most 180 characters', () => {
    expect(friendlyError('Node "3" (RunwayI2V): Runway refused the image. It is too small.').sentence).toBe('Runway refused the image.');
    expect(friendlyError('y'.repeat(400)).sentence).toHaveLength(180);
  });
});
