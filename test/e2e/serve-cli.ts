import { spawn, type ChildProcess } from 'node:child_process';

/**
 * The built CLI's `reelgraph serve`, as a user starts it (port 0: the OS picks one), with the
 * URL read from what it prints. Stopped with SIGTERM, like Ctrl-C.
 */

const cliPath = new URL('../../dist/cli/main.js', import.meta.url).pathname;

export interface ServeProcess {
  url: string;
  stderr(): string;
  stop(): Promise<void>;
}

export async function startServe(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<ServeProcess> {
  const child: ChildProcess = spawn(process.execPath, [cliPath, 'serve', '--port', '0', ...args], { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no URL in 20 s:\n${stderr}`)), 20_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /editor and API at (http:\/\/\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${stderr}`));
    });
  });
  return {
    url,
    stderr: () => stderr,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
