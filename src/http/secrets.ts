/**
 * The one home for what a secret is: which field names hold credentials, and every form a key
 * can take on its way back to us (a hostile or buggy provider may echo it upper-cased, in hex or
 * base64). Provenance, the prompt route, the HTTP client's debug lines and provider errors all
 * use these, so a new form is caught everywhere at once.
 */

/** Field and header names whose values are credentials. ComfyUI drops `api_key_comfy_org` and `auth_token_comfy_org`; we catch their kin. */
const SECRET_NAME = /^token$|api[_-]?key|auth[_-]?token|access[_-]?token|secret|password|authorization|bearer|^cookie$/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Shorter values would blank innocent text; real keys are long. */
export const MIN_SECRET_LENGTH = 8;

export const REDACTED = '[redacted]';

/** The forms of `key` to look for: as is, upper and lower case, hex, base64 (standard and URL-safe, with and without padding) and percent-encoded. */
export function secretVariants(key: string): string[] {
  if (key.length < MIN_SECRET_LENGTH) return [];
  const bytes = Buffer.from(key, 'utf8');
  const base64 = bytes.toString('base64');
  const hex = bytes.toString('hex');
  const forms = [key, key.toLowerCase(), key.toUpperCase(), hex, hex.toUpperCase(), base64, base64.replace(/=+$/, ''), bytes.toString('base64url'), encodeURIComponent(key)];
  // Longest first, so a form that contains another is replaced whole.
  return [...new Set(forms)].sort((a, b) => b.length - a.length);
}

/** `text` with every variant of every key replaced by [redacted]. */
export function scrubText(text: string, keys: readonly string[]): string {
  return scrubberFor(keys)(text);
}

/**
 * The replacement for a set of keys, with every key's forms worked out once: a workflow of
 * hundreds of strings saved in every row of a batch must not re-derive them per string.
 */
function scrubberFor(keys: readonly string[]): (text: string) => string {
  const steps = keys.map((key) => ({
    forms: secretVariants(key),
    // Case variants beyond all-upper/all-lower (a provider "normalising" a key's case).
    anyCase: key.length >= MIN_SECRET_LENGTH ? new RegExp(escapeRegExp(key), 'gi') : undefined,
  }));
  return (text) => {
    let result = text;
    for (const { forms, anyCase } of steps) {
      for (const form of forms) if (result.includes(form)) result = result.split(form).join(REDACTED);
      if (anyCase) result = result.replace(anyCase, REDACTED);
    }
    return result;
  };
}

/** A deep copy of JSON-like `value`: secret-named fields dropped, every key variant redacted in strings. */
export function scrubValue(value: unknown, keys: readonly string[], options: { dropSecretNames?: boolean } = {}): unknown {
  const scrub = scrubberFor(keys);
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return scrub(node);
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== 'object' || node === null) return node;
    const copy: Record<string, unknown> = {};
    for (const [name, child] of Object.entries(node)) {
      if (options.dropSecretNames !== false && isSecretName(name)) continue;
      copy[name] = walk(child);
    }
    return copy;
  };
  return walk(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
