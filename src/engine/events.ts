/**
 * Run events use ComfyUI's websocket message names and payloads, so the CLI (NDJSON),
 * the server (websocket) and the editor all speak the same stream.
 */

export type RunEvent =
  | { type: 'execution_start'; data: { prompt_id: string; timestamp: number } }
  | { type: 'execution_cached'; data: { prompt_id: string; nodes: string[]; timestamp: number } }
  | { type: 'executing'; data: { prompt_id: string; node: string | null; display_node?: string | null } }
  | {
      type: 'progress';
      data: {
        prompt_id: string;
        node: string;
        value: number;
        max: number;
        /** Our additions: the remote job's phase, and queued/running time so far. */
        phase?: 'queued' | 'running' | 'downloading';
        note?: string;
        elapsed_ms?: number;
      };
    }
  | {
      /** ComfyUI's newer per-node state message; sent whenever a node starts, finishes or fails. */
      type: 'progress_state';
      data: {
        prompt_id: string;
        nodes: Record<string, { node_id: string; state: 'pending' | 'running' | 'finished' | 'error'; value: number; max: number }>;
      };
    }
  | { type: 'executed'; data: { prompt_id: string; node: string; display_node?: string; output: Record<string, unknown> } }
  | { type: 'execution_success'; data: { prompt_id: string; timestamp: number } }
  | {
      type: 'execution_error';
      data: {
        prompt_id: string;
        node_id: string;
        node_type: string;
        executed: string[];
        exception_message: string;
        exception_type: string;
        traceback: string[];
        timestamp: number;
      };
    }
  | {
      type: 'execution_interrupted';
      data: { prompt_id: string; node_id: string | null; node_type: string | null; executed: string[]; timestamp: number };
    };

export type RunEventType = RunEvent['type'];
export type EventListener = (event: RunEvent) => void;
