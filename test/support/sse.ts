// A Server-Sent Events client for tests and benchmarks: one GET over fetch, its body read as it
// arrives and parsed by the text/event-stream rules (event, id, data lines; `:` comments; a
// blank line ends an event).

export interface SseEvent {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: string;
  /** When it was read (performance.timeOrigin + performance.now(): comparable across threads). */
  readonly receivedAtMs: number;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  /** Called with each event as it is parsed. */
  onEvent: ((event: SseEvent) => void) | undefined;
  #ended = false;
  #abort = new AbortController();
  #done: Promise<void> = Promise.resolve();

  readonly status: number;
  readonly contentType: string | null;

  private constructor(status: number, contentType: string | null) {
    this.status = status;
    this.contentType = contentType;
  }

  /** Opens the stream; a non-200 answer is returned with its body in `errorBody` and no stream. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient & { errorBody?: string }> {
    const abort = new AbortController();
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
    const client = new SseClient(response.status, response.headers.get('content-type')) as SseClient & { errorBody?: string };
    client.#abort = abort;
    if (response.status !== 200 || !response.body) {
      client.errorBody = await response.text();
      client.#ended = true;
      return client;
    }
    client.#done = client.#read(response.body);
    return client;
  }

  /** The stream ended (the server closed it, or close()). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Events of one type, their data parsed. */
  data<T = Record<string, unknown>>(event: string): T[] {
    return this.events.filter((e) => e.event === event).map((e) => JSON.parse(e.data) as T);
  }

  get lastEventId(): string | undefined {
    return this.events.findLast((e) => e.id !== undefined)?.id;
  }

  /** Drops the connection (as a browser tab closing) and waits for the reader to stop. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    let event = 'message';
    let id: string | undefined;
    let data: string[] = [];
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline = buffer.search(/\r\n|\r|\n/);
        while (newline !== -1) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
          if (line === '') {
            if (data.length > 0) {
              const parsed: SseEvent = {
                event,
                id,
                data: data.join('\n'),
                receivedAtMs: performance.timeOrigin + performance.now(),
              };
              this.events.push(parsed);
              this.onEvent?.(parsed);
            }
            event = 'message';
            id = undefined;
            data = [];
          } else if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
          else {
            const colon = line.indexOf(':');
            const field = colon === -1 ? line : line.slice(0, colon);
            const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') event = value;
            else if (field === 'id') id = value;
            else if (field === 'data') data.push(value);
          }
          newline = buffer.search(/\r\n|\r|\n/);
        }
      }
    } catch {
      // aborted by close(), or the server went away
    } finally {
      this.#ended = true;
    }
  }
}
