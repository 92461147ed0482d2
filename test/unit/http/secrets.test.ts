import { describe, expect, it } from 'vitest';
import { isSecretName, scrubText, scrubValue } from '../../../src/http/secrets.js';
import { scrub, scrubBody } from '../../../src/providers/requests.js';
import { scrubSecrets } from '../../../src/sharing/provenance.js';

const KEY = 'key_Ab3dEf7hIjK9mNoP';

/** Every form a hostile provider echoed the key in (issue 10 point 8). */
const ECHOES = [
  KEY,
  KEY.toLowerCase(),
  KEY.toUpperCase(),
  'kEY_aB3DeF7HiJk9MnOp',
  Buffer.from(KEY).toString('hex'),
  Buffer.from(KEY).toString('hex').toUpperCase(),
  Buffer.from(KEY).toString('base64'),
  Buffer.from(KEY).toString('base64url'),
  encodeURIComponent(KEY),
];

describe('secrets: one home for names and key forms', () => {
  it.each(ECHOES)('scrubs the echoed form %s from text, provider errors, bodies and provenance', (echo) => {
    const text = `invalid key "${echo}" for this account`;
    for (const scrubbed of [scrubText(text, [KEY]), scrub(text, KEY), JSON.stringify(scrubBody({ error: text }, KEY)), JSON.stringify(scrubSecrets({ note: text }, { RUNWAYML_API_SECRET: KEY }))]) {
      expect(scrubbed).not.toContain(echo);
      expect(scrubbed).toContain('[redacted]');
    }
  });

  it('knows credential field names, and leaves ordinary ones', () => {
    for (const name of ['api_key', 'X-API-Key', 'authorization', 'auth_token_comfy_org', 'api_key_comfy_org', 'client_secret', 'password', 'token', 'Bearer', 'access_token']) expect(isSecretName(name)).toBe(true);
    for (const name of ['seed', 'prompt', 'filename_prefix', 'max_tokens', 'tokenizer', 'image']) expect(isSecretName(name)).toBe(false);
  });

  it('drops secret-named fields from deep values and ignores short keys', () => {
    expect(scrubValue({ a: { api_key: 'x', kept: 'short' } }, ['short'])).toEqual({ a: { kept: 'short' } });
  });
});
