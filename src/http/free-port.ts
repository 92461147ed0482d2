import { createServer } from 'node:net';

/**
 * A loopback port nothing listens on: bound on 127.0.0.1 port 0, then released. Another
 * process could take it before the caller binds it, which is acceptable for a local demo and tests.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
