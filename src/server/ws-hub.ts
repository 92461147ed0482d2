import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { RunEvent } from '../engine/events.js';

/**
 * The /ws endpoint, routing messages exactly as ComfyUI's server does (docs/comfyui.md "Subgraphs…" §4):
 * - `?clientId=X` makes X the socket's sid and replaces an older socket with that sid; without one the server makes one;
 * - on connect the socket hears `status` with its sid, and, if its client queued the running prompt, the current `executing`;
 * - a message for a sid goes to that socket only (nowhere when it is not connected); a message for no sid goes to every socket;
 * - a prompt's lifecycle (`execution_start`, `execution_cached`, `executing`, `executed`, `execution_success`,
 *   `execution_error`) goes to the client that queued it, and is not sent at all when it was queued without a client id;
 * - `execution_interrupted`, `progress`, `progress_state` and queue `status` go to every socket.
 */

/** Events ComfyUI sends to every socket, whoever queued the prompt. */
const BROADCAST = new Set(['progress', 'progress_state', 'execution_interrupted', 'status']);

/** Where ComfyUI sends an event of a prompt queued by `clientId`: every socket, that client's socket, or nowhere. */
export function routeOf(type: string, clientId: string | undefined): { to: 'everyone' } | { to: 'client'; clientId: string } | { to: 'nobody' } {
  if (BROADCAST.has(type)) return { to: 'everyone' };
  return clientId === undefined ? { to: 'nobody' } : { to: 'client', clientId };
}

export class WsHub {
  private readonly server = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  /** One socket per sid: a newer connection with the same clientId takes over. */
  private readonly sockets = new Map<string, WebSocket>();
  /** The running prompt's client and node, replayed to that client when it reconnects. */
  private current: { clientId: string; data: unknown } | undefined;

  constructor(private readonly queueRemaining: () => Promise<number>) {}

  /** Completes an upgrade that the caller has already checked. */
  accept(request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    const sid = url.searchParams.get('clientId') || randomUUID().replaceAll('-', '');
    // The status is read first (a queue in Redis answers asynchronously), so that the socket is
    // registered and hears its status in one step: `status` is always its first message.
    void this.status().then((status) => this.server.handleUpgrade(request, socket, head, (ws) => {
      this.sockets.set(sid, ws);
      const forget = () => {
        if (this.sockets.get(sid) === ws) this.sockets.delete(sid);
      };
      ws.on('close', forget);
      ws.on('error', forget);
      // Clients may send feature_flags first; we have nothing to negotiate, so input is ignored.
      ws.on('message', () => undefined);
      this.sendTo(ws, { type: 'status', data: { status, sid } });
      if (this.current?.clientId === sid) this.sendTo(ws, { type: 'executing', data: this.current.data });
    }));
  }

  /** A run event from the queue, for the prompt queued by `clientId`. */
  publish(event: RunEvent, clientId: string | undefined): void {
    if (event.type === 'executing' && clientId !== undefined) {
      this.current = event.data.node === null ? undefined : { clientId, data: event.data };
    }
    this.send({ type: event.type, data: event.data }, routeOf(event.type, clientId));
  }

  /** The queue length changed: everyone hears it. */
  statusChanged(): void {
    void this.status().then((status) => this.send({ type: 'status', data: { status } }, routeOf('status', undefined)));
  }

  async close(): Promise<void> {
    for (const ws of this.sockets.values()) ws.terminate();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private send(message: unknown, route: ReturnType<typeof routeOf>): void {
    if (route.to === 'everyone') for (const ws of this.sockets.values()) this.sendTo(ws, message);
    if (route.to === 'client') {
      const ws = this.sockets.get(route.clientId);
      if (ws) this.sendTo(ws, message);
    }
  }

  private async status(): Promise<{ exec_info: { queue_remaining: number } }> {
    // A queue in Redis that cannot be read right now still owes the socket its status.
    const remaining = await this.queueRemaining().catch(() => 0);
    return { exec_info: { queue_remaining: remaining } };
  }

  private sendTo(ws: WebSocket, message: unknown): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  }
}
