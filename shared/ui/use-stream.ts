import { streamEventSchema, streamEventTypes, type StreamEvent } from '@wa-bridge/shared/api/stream';
import { useEffect, useRef, useState } from 'react';
import { useSession } from './api-context.js';

export type StreamState = 'connecting' | 'live' | 'offline';

const retryMs = 3000;

/**
 * Follows the API's server-sent events (all visible conversations, or one). EventSource cannot
 * send a header, so each (re)connection asks the client for a URL with a fresh token; after an
 * error it waits a little and reconnects, and the caller reloads what it may have missed.
 */
export function useStream(conversationId: number | undefined, onEvent: (event: StreamEvent) => void): StreamState {
  const { api } = useSession();
  const [state, setState] = useState<StreamState>('connecting');
  const handler = useRef(onEvent);
  handler.current = onEvent;

  useEffect(() => {
    let source: EventSource | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let closed = false;
    let failed = false;
    const connect = async () => {
      setState('connecting');
      let url: string;
      try {
        // EventSource cannot say why it was refused. After a failure, one ordinary call first: if
        // the token is no longer accepted (a restarted sandbox bridge) it renews it, and if the
        // bridge is still down it fails here instead of opening a stream bound to fail.
        if (failed) await api.me();
        url = await api.streamUrl(conversationId);
      } catch {
        setState('offline');
        timer = setTimeout(() => void connect(), retryMs);
        return;
      }
      if (closed) return;
      source = new EventSource(url);
      for (const type of streamEventTypes) {
        source.addEventListener(type, (message) => {
          const parsed = streamEventSchema.safeParse(JSON.parse((message as MessageEvent<string>).data));
          if (!parsed.success) return;
          if (parsed.data.type === 'ready') {
            failed = false;
            setState('live');
          }
          handler.current(parsed.data);
        });
      }
      source.onerror = () => {
        source?.close();
        if (closed) return;
        failed = true;
        setState('offline');
        timer = setTimeout(() => void connect(), retryMs);
      };
    };
    void connect();
    return () => {
      closed = true;
      source?.close();
      if (timer) clearTimeout(timer);
    };
  }, [api, conversationId]);

  return state;
}
