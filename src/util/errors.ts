/**
 * One error base class for everything Tessera throws internally. `code` is stable and is what
 * tests and callers match on; messages may change. Redis-visible reply strings are NOT here:
 * they live in src/protocol/redis-errors.ts.
 */
export class TesseraError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A configuration value failed validation (file, env, CLI flag or CONFIG SET). */
export class ConfigError extends TesseraError {
  readonly field: string | undefined;
  constructor(message: string, field?: string, options?: { cause?: unknown }) {
    super('TSR_CONFIG_INVALID', message, options);
    this.field = field;
  }
}

/** The client broke the RESP protocol; the connection is answered and closed. */
export class ProtocolError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TSR_PROTOCOL', message, options);
  }
}

/** A shard worker failed or exited unexpectedly. */
export class ShardError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TSR_SHARD', message, options);
  }
}

/** The server could not start (port in use, bad data dir, ...). */
export class StartupError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TSR_STARTUP', message, options);
  }
}

/** tessera-admin: a failure with its one-line message and the CLI's exit status. */
export class AdminError extends TesseraError {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1, options?: { cause?: unknown }) {
    super('TSR_ADMIN', message, options);
    this.exitCode = exitCode;
  }
}

/** tessera-admin could not reach the server or lost the connection. */
export class ConnectionError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TSR_CONNECTION', message, options);
  }
}
