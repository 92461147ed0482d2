/**
 * The https rule for addresses handed to providers: RunComfy and Runway fetch images by https URL only.
 * Plain http is allowed for loopback addresses, which only local tests and emulators use.
 */

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Throws a sentence when --public-url is not a URL providers can fetch from. */
export function checkPublicUrl(value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`--public-url ${JSON.stringify(value)} is not a URL; give the https address of your tunnel, e.g. https://abc.trycloudflare.com`);
  }
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return;
  throw new Error(`--public-url ${value} must be https: RunComfy and Runway fetch images by https URL only (give your tunnel's https address; plain http is allowed only for loopback addresses in tests)`);
}
