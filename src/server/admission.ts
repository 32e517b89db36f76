import type net from 'node:net';
import type { LiveConfig } from '../config/live.ts';
import { E } from '../protocol/redis-errors.ts';

/**
 * Whether a new connection may be served: maxclients, then protected mode (no password set and
 * the client is not on loopback). Returns Redis's error for a refusal, or null.
 */
export function admissionError(config: LiveConfig, clients: number, socket: net.Socket): string | null {
  if (clients >= config.get('maxclients')) return E.MAX_CLIENTS;
  if (config.get('protected-mode') && config.get('requirepass') === '' && !isLoopback(socket.remoteAddress)) {
    return E.PROTECTED_MODE;
  }
  return null;
}

/**
 * Answer a refused client and drop it once the error is flushed. A bare end() would leave a
 * half-closed socket we never read (it never closes, and it keeps shutdown waiting).
 */
export function rejectClient(socket: net.Socket, error: string): void {
  socket.on('error', () => {});
  socket.end(`-${error}\r\n`, () => socket.destroy());
  setTimeout(() => socket.destroy(), 1000).unref();
}

export function isLoopback(addr: string | undefined): boolean {
  if (addr === undefined) return false;
  return addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.') || addr.startsWith('/');
}
