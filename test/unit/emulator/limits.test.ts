import { describe, expect, it } from 'vitest';
import { EMULATED_LIMITS, RUNWAY_FAILURES } from '../../../src/emulator/limits.js';
import { checkCreateBody } from '../../../src/emulator/validate.js';

/**
 * Issue 11 point 8: the emulator's limits, each checked against the literal value of its document
 * (seeds in /work/shared/seeds, docs/providers.md and its corrections), not against the client's catalog.
 */
describe('emulator limits, from the documents', () => {
  it('Runway gen4_turbo (API reference; providers.md corrections): duration any integer 2–10, six ratios, prompt ≤ 1000, seed ≤ 4294967295', () => {
    const gen4 = EMULATED_LIMITS.runway.gen4_turbo!;
    expect(gen4.durations).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect([...gen4.ratios].sort()).toEqual(['1104:832', '1280:720', '1584:672', '720:1280', '832:1104', '960:960']);
    expect(gen4.promptMaxLength).toBe(1000);
    expect(gen4.seedMax).toBe(4294967295);
    expect(EMULATED_LIMITS.runway.gen3a_turbo).toBeUndefined();
  });

  it('RunComfy gen4_turbo (seed runcomfy-runway-gen4-turbo-i2v.en.txt): duration 5|10, prompt ≤ 1000, default ratio 1280:720', () => {
    const gen4 = EMULATED_LIMITS.runcomfy.gen4_turbo!;
    expect(gen4.durations).toEqual([5, 10]);
    expect(gen4.promptMaxLength).toBe(1000);
    expect(gen4.defaultRatio).toBe('1280:720');
    expect(gen4.seedMax).toBe(4294967295);
  });

  it('RunComfy gen3a_turbo (seed runcomfy-runway-gen3a-turbo-i2v.es.txt): prompt required ≤ 512, ratios 1280:768|768:1280', () => {
    const gen3a = EMULATED_LIMITS.runcomfy.gen3a_turbo!;
    expect(gen3a.promptRequired).toBe(true);
    expect(gen3a.promptMaxLength).toBe(512);
    expect(gen3a.ratios).toEqual(['1280:768', '768:1280']);
  });

  it('CometAPI (seed cometapi-runway-image-to-video.en.txt): eight ratios, prompt optional ≤ 512, seed ≤ 999999999, duration 5|10', () => {
    const comet = EMULATED_LIMITS.cometapi.gen3a_turbo!;
    expect(comet.ratios).toEqual(['1280:720', '720:1280', '1104:832', '832:1104', '960:960', '1584:672', '1280:768', '768:1280']);
    expect(comet.promptRequired).toBe(false);
    expect(comet.promptMaxLength).toBe(512);
    expect(comet.seedMax).toBe(999999999);
    expect(comet.durations).toEqual([5, 10]);
    // "a minimal request with only promptImage and model was accepted".
    expect(checkCreateBody('cometapi', { promptImage: 'https://example.com/a.jpg', model: 'gen3a_turbo' })).toMatchObject({ ok: true, request: { ratio: '1280:720', duration: 5 } });
  });

  it('validates by these tables: Runway takes duration 7, RunComfy does not', () => {
    const body = { promptImage: 'https://example.com/a.jpg', model: 'gen4_turbo', ratio: '1280:720', duration: 7 };
    expect(checkCreateBody('runway', body).ok).toBe(true);
    expect(checkCreateBody('runcomfy', body, 'gen4_turbo').ok).toBe(false);
    expect(checkCreateBody('runway', { ...body, duration: 11 }).ok).toBe(false);
  });

  it('knows the Runway failure codes of the skills reference', () => {
    expect(Object.keys(RUNWAY_FAILURES)).toEqual(expect.arrayContaining(['SAFETY.INPUT.IMAGE', 'SAFETY.OUTPUT.VIDEO', 'INTERNAL.BAD_OUTPUT', 'ASSET.INVALID']));
  });
});
