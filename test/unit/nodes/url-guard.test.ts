import { describe, expect, it } from 'vitest';
import { fetchableUrlProblem, isPrivateAddress, urlProblem } from '../../../src/nodes/url-guard.js';

describe('LoadImage URL guard', () => {
  it.each([
    'http://127.0.0.1:8188/x.png',
    'https://127.0.0.1/x.png',
    'https://2130706433/x.png',
    'https://0x7f000001/x.png',
    'https://0177.0.0.1/x.png',
    'https://127.1/x.png',
    'https://169.254.169.254/latest/meta-data',
    'https://10.0.0.1/x.png',
    'https://172.16.5.4/x.png',
    'https://192.168.1.1/x.png',
    'https://100.64.0.1/x.png',
    'https://0.0.0.0/x.png',
    'https://[::1]/x.png',
    'https://[::ffff:127.0.0.1]/x.png',
    'https://[::ffff:7f00:1]/x.png',
    'https://[fe80::1]/x.png',
    'https://[fd00::1]/x.png',
    'https://[64:ff9b::7f00:1]/x.png',
    'https://localhost/x.png',
    'https://printer.local/x.png',
    'https://intranet/x.png',
    'http://example.com/x.png',
    'ftp://example.com/x.png',
    'https://user:pw@example.com/x.png',
  ])('refuses %s by default', (url) => {
    expect(urlProblem(url, false)).toBeDefined();
  });

  it('lets public https URLs through, and private http ones with the flag', () => {
    expect(urlProblem('https://example.com/x.png', false)).toBeUndefined();
    expect(urlProblem('https://93.184.216.34/x.png', false)).toBeUndefined();
    expect(urlProblem('http://127.0.0.1:8188/x.png', true)).toBeUndefined();
    expect(urlProblem('file:///etc/passwd', true)).toBeDefined();
  });

  it('classifies addresses as DNS returns them', () => {
    expect(isPrivateAddress('127.0.0.1')).toBe(true);
    expect(isPrivateAddress('::1')).toBe(true);
    expect(isPrivateAddress('::ffff:10.0.0.1')).toBe(true);
    expect(isPrivateAddress('8.8.8.8')).toBe(false);
    expect(isPrivateAddress('2606:4700::1111')).toBe(false);
  });

  it('refuses a name whose DNS answer is loopback, without saying what answered there', async () => {
    const rebinding = async (host: string) => (host === 'images.example.com' ? [{ address: '93.184.216.34' }, { address: '127.0.0.1' }] : [{ address: '93.184.216.34' }]);
    expect(await fetchableUrlProblem('https://cdn.example.com/x.png', false, rebinding)).toBeUndefined();
    const problem = await fetchableUrlProblem('https://images.example.com/x.png', false, rebinding);
    expect(problem).toMatch(/resolves to a loopback, private or link-local address/);
    expect(problem).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|HTTP/);
  });
});
