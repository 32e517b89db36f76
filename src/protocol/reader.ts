/**
 * Decodes RESP that our own shards produced into JS values, for the few main-thread commands
 * that merge structured replies (SLOWLOG, LATENCY). Not for client input: the RequestParser
 * handles that with limits; this trusts its input.
 */
export type RespValue = null | number | string | Buffer | RespError | RespValue[];

export class RespError {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

export function readResp(b: Buffer, off = 0): RespValue {
  return read(b, { p: off });
}

function line(b: Buffer, st: { p: number }): string {
  const eol = b.indexOf(13, st.p);
  const s = b.toString('latin1', st.p, eol);
  st.p = eol + 2;
  return s;
}

function read(b: Buffer, st: { p: number }): RespValue {
  const t = b[st.p++];
  switch (t) {
    case 43: // +
      return line(b, st);
    case 45: // -
      return new RespError(line(b, st));
    case 58: // :
      return Number(line(b, st));
    case 44: // ,
      return Number(line(b, st).replace('inf', 'Infinity'));
    case 95: // _
      line(b, st);
      return null;
    case 36: {
      // $
      const n = Number(line(b, st));
      if (n < 0) return null;
      const v = b.subarray(st.p, st.p + n);
      st.p += n + 2;
      return v;
    }
    case 42:
    case 126:
    case 62:
    case 37: {
      // * ~ > %
      let n = Number(line(b, st));
      if (n < 0) return null;
      if (t === 37) n *= 2;
      const out: RespValue[] = [];
      for (let i = 0; i < n; i++) out.push(read(b, st));
      return out;
    }
    default:
      throw new Error(`unexpected RESP type byte ${t}`);
  }
}
