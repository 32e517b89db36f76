/**
 * Parameters whose values Redis parses itself rather than as a plain int/bool/string: the
 * value is normalised to what CONFIG GET shows (Redis stores these parsed and prints them
 * back), and errors use Redis's config.c wording.
 */
import { eventsToFlags, flagsToEvents } from '../commands/notify-flags.ts';
import { mergeLimits } from '../server/obuf-limits.ts';

export type ValueParser = (
  raw: string,
  current: unknown,
) => { ok: true; value: string } | { ok: false; message: string };

/** notify-keyspace-events: class letters, shown canonically ("KEA" → "AKE"). */
const notifyKeyspaceEvents: ValueParser = (raw) => {
  const flags = eventsToFlags(raw);
  if (flags < 0) return { ok: false, message: "Invalid event class character. Use 'Ag$lshzxeKEtmdn'." };
  return { ok: true, value: flagsToEvents(flags) };
};

/** client-output-buffer-limit: the classes given replace theirs in the current value. */
const clientOutputBufferLimit: ValueParser = (raw, current) => {
  const r = mergeLimits(raw, current as string);
  return typeof r === 'string' ? { ok: true, value: r } : { ok: false, message: r.error };
};

export const VALUE_PARSERS: Readonly<Record<string, ValueParser>> = {
  'notify-keyspace-events': notifyKeyspaceEvents,
  'client-output-buffer-limit': clientOutputBufferLimit,
};
