import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunEvent } from '../../../src/engine/events.js';
import { WsHub, routeOf } from '../../../src/server/ws-hub.js';

/** ComfyUI's websocket routing (docs/comfyui.md "Subgraphs…" §4), one test per rule, over real loopback sockets. */

let server: Server;
let hub: WsHub;
let base: string;
beforeAll(async () => {
  hub = new WsHub(async () => 0);
  server = createServer();
  server.on('upgrade', (request, socket, head) => hub.accept(request, socket, head, new URL(request.url ?? '/', 'http://127.0.0.1')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`;
});
afterAll(async () => {
  await hub.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface Client {
  ws: WebSocket;
  messages: { type: string; data: Record<string, unknown> }[];
}

async function connect(clientId?: string): Promise<Client> {
  const ws = new WebSocket(clientId === undefined ? base : `${base}?clientId=${clientId}`);
  const client: Client = { ws, messages: [] };
  ws.on('message', (text) => client.messages.push(JSON.parse(String(text)) as Client['messages'][number]));
  await new Promise((resolve) => ws.once('open', resolve));
  await until(() => client.messages.length > 0);
  return client;
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** A marker broadcast after the events under test: once everyone has it, anything routed earlier has arrived. */
async function settle(...clients: Client[]): Promise<void> {
  const statuses = (c: Client) => c.messages.filter((m) => m.type === 'status').length;
  const counts = clients.map(statuses);
  hub.statusChanged();
  await until(() => clients.every((c, i) => statuses(c) > counts[i]!));
}

const types = (client: Client) => client.messages.map((m) => m.type).filter((type) => type !== 'status');
const event = (type: string, data: Record<string, unknown> = {}) => ({ type, data: { prompt_id: 'p1', ...data } }) as unknown as RunEvent;
const close = (...clients: Client[]) => clients.forEach((c) => c.ws.close());

describe('websocket routing as ComfyUI does it', () => {
  it('on connect a socket hears status with its clientId as sid', async () => {
    const a = await connect('alpha');
    expect(a.messages[0]).toEqual({ type: 'status', data: { status: { exec_info: { queue_remaining: 0 } }, sid: 'alpha' } });
    close(a);
  });

  it('without a clientId the server makes a sid (uuid4 hex)', async () => {
    const a = await connect();
    expect(a.messages[0]!.data.sid).toMatch(/^[0-9a-f]{32}$/);
    close(a);
  });

  it("a prompt's lifecycle goes to the socket of the client that queued it, and to no other", async () => {
    const [a, b] = [await connect('owner1'), await connect('other1')];
    const lifecycle = ['execution_start', 'execution_cached', 'executing', 'executed', 'execution_success', 'execution_error'];
    for (const type of lifecycle) hub.publish(event(type, { node: '5', nodes: [] }), 'owner1');
    await settle(a, b);
    expect(types(a)).toEqual(lifecycle);
    expect(types(b)).toEqual([]);
    close(a, b);
  });

  it('a prompt queued without a client id sends no lifecycle event to anyone', async () => {
    const a = await connect('watcher2');
    for (const type of ['execution_start', 'execution_cached', 'executing', 'executed', 'execution_success', 'execution_error']) hub.publish(event(type), undefined);
    await settle(a);
    expect(types(a)).toEqual([]);
    close(a);
  });

  it('progress, progress_state and execution_interrupted go to every socket', async () => {
    const [a, b] = [await connect('owner3'), await connect('other3')];
    for (const type of ['progress', 'progress_state', 'execution_interrupted']) hub.publish(event(type), 'owner3');
    hub.publish(event('progress'), undefined);
    await settle(a, b);
    expect(types(a)).toEqual(['progress', 'progress_state', 'execution_interrupted', 'progress']);
    expect(types(b)).toEqual(['progress', 'progress_state', 'execution_interrupted', 'progress']);
    close(a, b);
  });

  it('queue status goes to every socket', async () => {
    const [a, b] = [await connect('s4a'), await connect()];
    hub.statusChanged();
    await until(() => a.messages.length > 1 && b.messages.length > 1);
    expect(a.messages[1]).toEqual({ type: 'status', data: { status: { exec_info: { queue_remaining: 0 } } } });
    expect(b.messages[1]).toEqual(a.messages[1]);
    close(a, b);
  });

  it('a newer socket with the same clientId replaces the older one', async () => {
    const old = await connect('same5');
    const newer = await connect('same5');
    hub.publish(event('execution_start'), 'same5');
    await settle(newer);
    expect(types(newer)).toEqual(['execution_start']);
    expect(types(old)).toEqual([]);
    close(old, newer);
  });

  it('a client that reconnects while its prompt runs hears the current executing', async () => {
    hub.publish(event('executing', { node: '7', display_node: '7' }), 'back6');
    const again = await connect('back6');
    await until(() => again.messages.length > 1);
    expect(again.messages[1]).toEqual({ type: 'executing', data: { prompt_id: 'p1', node: '7', display_node: '7' } });
    hub.publish(event('executing', { node: null }), 'back6');
    close(again);
  });

  it('an event for a client that is not connected goes nowhere', async () => {
    const a = await connect('present7');
    hub.publish(event('executed', { node: '3' }), 'absent7');
    await settle(a);
    expect(types(a)).toEqual([]);
    expect(routeOf('executed', 'absent7')).toEqual({ to: 'client', clientId: 'absent7' });
    close(a);
  });
});
