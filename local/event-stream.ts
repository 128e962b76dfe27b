import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { InProcessEventBus } from '../adapters/local/in-process-event-bus.ts';
import type { EventEnvelope } from '../core/events/envelope.ts';
import { principalOf } from '../functions/auth/principal-context.ts';
import { sseMessage, StreamQuery, streamFilterOf, streamSelects } from '../functions/http/event-stream.ts';
import type { HttpResponse } from '../functions/middleware/envelope.ts';
import type { RouteName } from '../functions/routes.ts';

/**
 * Live Server-Sent Events on the local server (functions/http/event-stream.ts says what the route answers
 * everywhere). For a client that accepts text/event-stream, the server subscribes to the in-process bus with
 * the request's filter BEFORE the handler reads the history, buffers what is published meanwhile, writes the
 * handler's catch-up, then the buffered events it did not already hold, then every new event as it comes,
 * with a comment line every 15 s so that proxies keep the connection; it ends when the client goes, or after
 * an hour (the EventSource reconnects with its Last-Event-ID).
 */
export interface LiveStreams {
  /** The stream route's name in the route table. */
  readonly route: RouteName;
  /**
   * Subscribes for one request before its handler runs; undefined when the request is not for a live stream
   * (no `Accept: text/event-stream`, or a query the handler will refuse).
   */
  prepare(request: IncomingMessage, event: APIGatewayProxyEvent): PreparedStream | undefined;
  /** Ends every open stream (the server is closing: open streams would keep it waiting). */
  closeAll(): void;
}

export interface PreparedStream {
  /** Writes the handler's answer and follows live; false (nothing written) when the answer is not a 200 stream. */
  start(response: ServerResponse, answer: HttpResponse): boolean;
  cancel(): void;
}

const KEEP_ALIVE_MS = 15_000;
const MAX_STREAM_MS = 3_600_000;
/** Events buffered while the handler catches up, or while the client reads slowly; past it the stream ends (the client resumes). */
const MAX_BUFFERED = 10_000;

export function createLiveStreams(bus: InProcessEventBus, route: RouteName): LiveStreams {
  const open = new Set<() => void>();
  return {
    route,
    closeAll: () => {
      for (const end of [...open]) end();
    },
    prepare(request, event) {
      if (!/text\/event-stream/i.test(request.headers.accept ?? '')) return undefined;
      const query = StreamQuery.safeParse(event.queryStringParameters ?? {});
      if (!query.success) return undefined;
      let filter;
      try {
        filter = streamFilterOf(query.data, principalOf(event));
      } catch {
        return undefined;
      }
      const buffered: EventEnvelope[] = [];
      let write: ((event: EventEnvelope) => void) | undefined;
      let overflowed = false;
      const unsubscribe = bus.subscribe({
        name: `stream ${event.requestContext.requestId}`,
        attempts: 1,
        deliver: (published) => {
          if (!streamSelects(filter, published)) return;
          if (write) write(published);
          else if (buffered.length < MAX_BUFFERED) buffered.push(published);
          else overflowed = true;
        },
      });
      return {
        cancel: unsubscribe,
        start(response, answer) {
          if (answer.statusCode !== 200 || !/text\/event-stream/.test(answer.headers['content-type'] ?? '')) {
            unsubscribe();
            return false;
          }
          response.writeHead(200, { ...answer.headers, connection: 'keep-alive', 'x-accel-buffering': 'no' });
          response.write(answer.body);
          let ended = false;
          const end = () => {
            if (ended) return;
            ended = true;
            open.delete(end);
            clearInterval(keepAlive);
            clearTimeout(limit);
            unsubscribe();
            response.end();
          };
          write = (published) => {
            // A client that does not read: end the stream rather than buffer without bound (it resumes from its last id).
            if (response.writableLength > 8 * 1024 * 1024) end();
            else response.write(sseMessage(published));
          };
          if (overflowed) response.write(': events were published faster than this stream could be prepared; reconnect with Last-Event-ID to catch up\n\n');
          for (const published of buffered) if (!answer.body.includes(published.event_id)) write(published);
          buffered.length = 0;
          const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
          const limit = setTimeout(end, MAX_STREAM_MS);
          open.add(end);
          request.once('close', end);
          response.once('close', end);
          return true;
        },
      };
    },
  };
}
