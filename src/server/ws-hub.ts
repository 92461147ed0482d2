import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { RunEvent } from '../engine/events.js';

/**
 * The /ws endpoint. Like ComfyUI, lifecycle events reach only the socket(s) of the client
 * that queued the prompt; progress and interruptions go to everyone, and every socket
 * hears `status` after each queue change.
 */

/** Events ComfyUI broadcasts whoever queued the prompt. */
const BROADCAST = new Set(['progress', 'progress_state', 'execution_interrupted']);

export class WsHub {
  private readonly server = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly clients = new Map<WebSocket, string>();

  constructor(private readonly queueRemaining: () => number) {}

  /** Completes an upgrade that the caller has already checked. */
  accept(request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    const clientId = url.searchParams.get('clientId') || randomUUID().replaceAll('-', '');
    this.server.handleUpgrade(request, socket, head, (ws) => {
      this.clients.set(ws, clientId);
      ws.on('close', () => this.clients.delete(ws));
      ws.on('error', () => this.clients.delete(ws));
      // Clients may send feature_flags first; we have nothing to negotiate, so input is ignored.
      ws.on('message', () => undefined);
      this.sendTo(ws, { type: 'status', data: { status: this.status(), sid: clientId } });
    });
  }

  /** A run event from the queue. */
  publish(event: RunEvent, clientId: string | undefined): void {
    const message = { type: event.type, data: event.data };
    for (const [ws, id] of this.clients) {
      if (BROADCAST.has(event.type) || (clientId !== undefined && id === clientId)) this.sendTo(ws, message);
    }
  }

  /** The queue length changed: everyone hears it. */
  statusChanged(): void {
    const message = { type: 'status', data: { status: this.status() } };
    for (const ws of this.clients.keys()) this.sendTo(ws, message);
  }

  async close(): Promise<void> {
    for (const ws of this.clients.keys()) ws.terminate();
    this.clients.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private status(): { exec_info: { queue_remaining: number } } {
    return { exec_info: { queue_remaining: this.queueRemaining() } };
  }

  private sendTo(ws: WebSocket, message: unknown): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  }
}
