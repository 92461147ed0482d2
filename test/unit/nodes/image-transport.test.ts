import { describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../../src/providers/catalog.js';
import { dataUriLength } from '../../../src/nodes/image-limits.js';
import { dataUriBudget, planLocalImage, type TransportOptions } from '../../../src/nodes/image-transport.js';

/** How a local image travels, with the documented limits: 5 MiB data URIs (encoded), 16 MB by URL, 200 MB uploads. */

const MB = 1024 * 1024;
const auto: TransportOptions = { imageHost: false, publicUrl: false, fit: true };
const off: TransportOptions = { ...auto, fit: false };
const phone = { format: 'jpeg' as const, width: 3024, height: 4032, bytes: 5.9 * MB };
const bigPng = { format: 'png' as const, width: 2600, height: 2600, bytes: 20 * MB };
const small = { format: 'jpeg' as const, width: 1280, height: 720, bytes: 300_000 };

describe('planLocalImage', () => {
  it('budgets a data URI on its encoded length, exactly at the limit', () => {
    const budget = dataUriBudget('jpeg', 5 * MB);
    expect(dataUriLength('jpeg', budget)).toBeLessThan(5 * MB);
    expect(dataUriLength('jpeg', budget + 1)).toBeGreaterThanOrEqual(5 * MB);
  });

  it('sends a small image as it is, as a data URI where the provider takes one', () => {
    expect(planLocalImage(small, 'runway', PROVIDERS.runway.limits, auto)).toEqual({ route: 'data-uri', maxBytes: dataUriBudget('jpeg', 5 * MB) });
    expect(planLocalImage(small, 'runcomfy', PROVIDERS.runcomfy.limits, { ...auto, publicUrl: true })).toEqual({ route: 'hosted', maxBytes: 16 * MB - 1 });
  });

  it('fits a phone photo to 2048 px within a data URI for runway and cometapi', () => {
    for (const id of ['runway', 'cometapi'] as const) {
      const plan = planLocalImage(phone, id, PROVIDERS[id].limits, auto);
      expect(plan.route).toBe('data-uri');
      expect(plan.fit).toEqual({ longSide: 2048, maxBytes: dataUriBudget('jpeg', 5 * MB) });
    }
  });

  it('sends a 20 MB PNG to runway through uploads, unchanged', () => {
    expect(planLocalImage(bigPng, 'runway', PROVIDERS.runway.limits, auto)).toEqual({ route: 'upload', maxBytes: 200 * MB - 1 });
    expect(planLocalImage(bigPng, 'runway', PROVIDERS.runway.limits, off)).toEqual({ route: 'upload', maxBytes: 200 * MB - 1 });
  });

  it('fits the bytes (keeping the pixels) of a big PNG for cometapi, which takes data URIs only', () => {
    const plan = planLocalImage(bigPng, 'cometapi', PROVIDERS.cometapi.limits, auto);
    expect(plan).toMatchObject({ route: 'data-uri', fit: { longSide: 2600 } });
    expect(planLocalImage(bigPng, 'cometapi', PROVIDERS.cometapi.limits, off).fit).toBeUndefined();
  });

  it('hosts for every provider when --image-host is set, fitting to the 16 MB URL limit', () => {
    for (const id of ['runway', 'cometapi', 'runcomfy'] as const) {
      expect(planLocalImage(bigPng, id, PROVIDERS[id].limits, { ...auto, imageHost: true })).toMatchObject({ route: 'hosted', fit: { longSide: 2600, maxBytes: 16 * MB - 1 } });
    }
  });

  it('has no route for runcomfy without a host or a public URL', () => {
    expect(planLocalImage(phone, 'runcomfy', PROVIDERS.runcomfy.limits, auto)).toEqual({ route: 'none', maxBytes: 16 * MB - 1 });
  });
});
