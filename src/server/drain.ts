import type { Connection } from './connection.ts';

export interface DrainResult {
  clients: number;
  inFlight: number;
  answered: number;
  unanswered: number;
  cutOff: number;
  ms: number;
}

/**
 * The drain of a clean shutdown: no further commands are dispatched (every connection is
 * marked closing), the ones in flight finish and their replies reach the socket, and each
 * connection is ended once it owes nothing — for at most `timeoutMs`; then every client left
 * is closed. `flush` writes a connection's pending output (and ends it when it owes nothing).
 */
export async function drainClients(
  conns: Map<number, Connection>,
  flush: (conn: Connection) => void,
  timeoutMs: number,
  onStart: (clients: number, inFlight: number) => void,
): Promise<DrainResult> {
  const t0 = performance.now();
  for (const conn of conns.values()) conn.closing = true;
  // Let the current command finish first (SHUTDOWN's own, empty, reply is written after it).
  await new Promise((r) => setImmediate(r));
  let inFlight = 0;
  for (const conn of conns.values()) inFlight += conn.outstanding;
  const clients = conns.size;
  onStart(clients, inFlight);
  const pending = (): Connection[] => {
    const left: Connection[] = [];
    for (const conn of conns.values()) {
      if (conn.closed) continue;
      if (conn.outstanding === 0 && !conn.socket.writableEnded) flush(conn); // ends it
      if (conn.outstanding > 0 || !conn.socket.writableFinished) left.push(conn);
    }
    return left;
  };
  let left = pending();
  while (left.length > 0 && performance.now() - t0 < timeoutMs) {
    await new Promise((r) => setTimeout(r, 5));
    left = pending();
  }
  let unanswered = 0;
  for (const conn of left) unanswered += conn.outstanding;
  for (const conn of conns.values()) {
    flush(conn);
    conn.socket.destroy();
  }
  return {
    clients,
    inFlight,
    answered: inFlight - unanswered,
    unanswered,
    cutOff: left.length,
    ms: Math.round(performance.now() - t0),
  };
}
