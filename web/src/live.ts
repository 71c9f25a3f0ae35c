import { useEffect, useState } from 'preact/hooks';
import { API, LIVE_EVENTS, type LiveEvent } from './api.ts';

// The signed-in person's live events (GET /api/v1/events, Server-Sent Events): one connection
// for the whole app, opened after sign-in; the browser reconnects by itself and sends the last
// id it saw (Last-Event-ID), so nothing of the last minutes is missed. Pages subscribe to it.

type Listener = (event: LiveEvent) => void;
const listeners = new Set<Listener>();
const stateListeners = new Set<(open: boolean) => void>();
let source: EventSource | undefined;
let open = false;

function setOpen(value: boolean) {
  open = value;
  for (const listener of stateListeners) listener(value);
}

export function connectLive(): void {
  if (source || typeof EventSource === 'undefined') return;
  source = new EventSource(`${API}/events`, { withCredentials: true });
  source.onopen = () => setOpen(true);
  source.onerror = () => setOpen(false);
  for (const name of LIVE_EVENTS) {
    source.addEventListener(name, (message) => {
      let data: unknown;
      try {
        data = JSON.parse((message as MessageEvent<string>).data);
      } catch {
        return;
      }
      const event = { event: name, data } as LiveEvent;
      for (const listener of listeners) listener(event);
    });
  }
}

export function disconnectLive(): void {
  source?.close();
  source = undefined;
  setOpen(false);
}

/** Calls `handler` for each live event while the component is mounted. */
export function useLiveEvents(handler: Listener, deps: readonly unknown[]): void {
  // The handler is named again whenever `deps` change.
  useEffect(() => {
    listeners.add(handler);
    return () => {
      listeners.delete(handler);
    };
  }, deps);
}

export function useLiveState(): boolean {
  const [value, setValue] = useState(open);
  useEffect(() => {
    stateListeners.add(setValue);
    // The stream may have opened (or failed) between the render that read `open` and this effect.
    setValue(open);
    return () => {
      stateListeners.delete(setValue);
    };
  }, []);
  return value;
}
