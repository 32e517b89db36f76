/**
 * A RESP2/RESP3 test client that decodes replies into trees, so differential tests can compare
 * them exactly or modulo what Redis leaves unspecified: element order (sorted), pair order
 * (HGETALL of a hashtable), or only the shape (random picks: types and counts, not contents).
 */
import net from 'node:net';
import { encode, type Arg } from './resp-client.ts';

/** A decoded reply: type byte and either the line/bulk text (latin1) or the children. */
export interface Reply {
  t: string;
  v: string | Reply[];
}

function decode(b: Buffer, off: number): [Reply, number] | null {
  const eol = b.indexOf('\r\n', off);
  if (eol < 0) return null;
  const t = String.fromCharCode(b[off]!);
  const line = b.toString('latin1', off + 1, eol);
  const next = eol + 2;
  if ('$=!'.includes(t)) {
    const n = Number(line);
    if (n < 0) return [{ t: '_', v: '' }, next];
    if (b.length < next + n + 2) return null;
    return [{ t, v: b.toString('latin1', next, next + n) }, next + n + 2];
  }
  if ('*~%>'.includes(t)) {
    const n = Number(line);
    if (n < 0) return [{ t: '_', v: '' }, next];
    const kids: Reply[] = [];
    let p = next;
    for (let i = 0; i < (t === '%' ? 2 * n : n); i++) {
      const r = decode(b, p);
      if (r === null) return null;
      kids.push(r[0]);
      p = r[1];
    }
    return [{ t, v: kids }, p];
  }
  return [{ t, v: t === '_' ? '' : line }, next];
}

export class TreeClient {
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiting: ((r: Reply) => void)[] = [];

  private readonly sock: net.Socket;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      let off = 0;
      for (;;) {
        const r = decode(this.buf, off);
        if (r === null) break;
        off = r[1];
        this.waiting.shift()?.(r[0]);
      }
      this.buf = this.buf.subarray(off);
    });
  }

  static connect(port: number): Promise<TreeClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new TreeClient(s)));
      s.once('error', reject);
    });
  }

  pipeline(cmds: Arg[][]): Promise<Reply[]> {
    const out = cmds.map(() => new Promise<Reply>((r) => this.waiting.push(r)));
    this.sock.write(Buffer.concat(cmds.map(encode)));
    return Promise.all(out);
  }

  async call(...cmd: Arg[]): Promise<Reply> {
    return (await this.pipeline([cmd]))[0]!;
  }

  close(): void {
    this.sock.destroy();
  }
}

export function render(r: Reply): string {
  if (typeof r.v === 'string') return r.t + JSON.stringify(r.v);
  return `${r.t}[${r.v.map(render).join(', ')}]`;
}

/** Top-level elements in sorted order. */
export function sortedRender(r: Reply): string {
  if (typeof r.v === 'string') return render(r);
  return `${r.t}[${r.v.map(render).sort().join(', ')}]`;
}

/** Top-level elements taken two by two (field, value), pairs in sorted order. */
export function pairsRender(r: Reply): string {
  if (typeof r.v === 'string') return render(r);
  const pairs: string[] = [];
  for (let i = 0; i + 1 < r.v.length; i += 2) pairs.push(`${render(r.v[i]!)}: ${render(r.v[i + 1]!)}`);
  return `${r.t}{${pairs.sort().join(', ')}}`;
}

/** Types and counts only: bulk contents become "?". */
export function shapeRender(r: Reply): string {
  if (typeof r.v !== 'string') return `${r.t}[${r.v.map(shapeRender).join(', ')}]`;
  return r.t === '$' ? '$?' : render(r);
}

/** The bulk strings of a flat reply (a single bulk counts as one). */
export function bulks(r: Reply): string[] {
  if (typeof r.v === 'string') return r.t === '$' ? [r.v] : [];
  return r.v.filter((x) => x.t === '$').map((x) => x.v as string);
}
