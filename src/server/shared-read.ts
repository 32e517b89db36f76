import net from 'node:net';

/**
 * All client sockets read into this one buffer. Node allocates a fresh Buffer for every read
 * of a server-side socket (external memory that drives the main thread's GC: ~40 % of its time
 * with 16 KiB values), and `net.createServer` ignores the `onread` option that avoids it — but a
 * Socket built around an accepted handle honours it. The main thread is single-threaded, so one
 * buffer serves every connection: each read is parsed and dispatched synchronously, and the
 * parser copies out whatever it still needs (RequestParser.detach) before the next read.
 */
const READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * Move an accepted socket's handle into a Socket that reads into the shared buffer, calling
 * `onRead` with a view of each read. The original Socket is destroyed without its handle (so
 * net.Server's connection count drops). Falls back to the socket itself with 'data' events if
 * the handle is not reachable (a Node release that changed the internals).
 */
export function adoptSocket(raw: net.Socket, onRead: (chunk: Buffer) => void): net.Socket {
  const holder = raw as unknown as { _handle: unknown };
  const handle = holder._handle;
  if (handle === null || handle === undefined || process.env['TESSERA_NO_SHARED_READ'] === '1') {
    raw.on('data', onRead);
    raw.resume();
    return raw;
  }
  holder._handle = null;
  const socket = new net.Socket({
    handle,
    onread: {
      buffer: READ_BUFFER,
      callback: (n: number, buf: Uint8Array) => {
        onRead((buf as Buffer).subarray(0, n));
        return true;
      },
    },
  } as unknown as net.SocketConstructorOpts);
  raw.destroy();
  return socket;
}
