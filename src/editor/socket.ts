/**
 * The /ws event stream, reconnecting when the server restarts. Messages are ComfyUI's
 * `{type, data}` frames.
 */

export interface ServerMessage {
  type: string;
  data: Record<string, unknown>;
}

export function connectEvents(clientId: string, onMessage: (message: ServerMessage) => void, onState: (connected: boolean) => void): void {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?clientId=${encodeURIComponent(clientId)}`;
  const socket = new WebSocket(url);
  socket.addEventListener('open', () => onState(true));
  socket.addEventListener('message', (event) => {
    if (typeof event.data !== 'string') return;
    try {
      onMessage(JSON.parse(event.data) as ServerMessage);
    } catch {
      // Not one of ours; ignore.
    }
  });
  socket.addEventListener('close', () => {
    onState(false);
    setTimeout(() => connectEvents(clientId, onMessage, onState), 1500);
  });
}
