// How many bytes a Segment message gains when the request's `context` / `integrations` are merged
// into it, known from sizes measured once per request: the limits (32 KB a message, MAX_BODY_BYTES a
// request) hold after the merge, and a message that would break them is never built. Without
// this, 2,500 tiny messages sharing one 45 KB context became 112 MB of queued JSON.

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** UTF-8 bytes of a value's JSON; Infinity when it cannot be serialized (nested too deep). */
function jsonBytes(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '');
  } catch {
    return Infinity;
  }
}

/** One merged field: the bytes of each of its top-level entries (`"key":value,`) and of the whole. */
interface MergedField {
  name: 'context' | 'integrations';
  entries: Map<string, number>;
  /** Σ entries: what a message with its own object of that name gains at most. */
  entriesTotal: number;
  /** `"name":{…},`: what a message without its own object gains. */
  whole: number;
}

function measureField(name: MergedField['name'], value: Record<string, unknown>): MergedField {
  const entries = new Map<string, number>();
  let entriesTotal = 0;
  for (const key of Object.keys(value)) {
    const bytes = jsonBytes(key) + 1 + jsonBytes(value[key]) + 1;
    entries.set(key, bytes);
    entriesTotal += bytes;
  }
  return { name, entries, entriesTotal, whole: name.length + 3 + jsonBytes(value) + 1 };
}

/**
 * The request-level values merged into each message, measured once. `extra(message)` is an upper
 * bound of the bytes the merge adds to that message (it never undercounts: a key the message's own
 * object overrides is not counted, nothing else is subtracted).
 */
export class MergedSize {
  private readonly fields: MergedField[] = [];
  private readonly sentAtBytes: number;
  /** What a message without a context, integrations or sentAt of its own gains: the most any does. */
  readonly maxExtra: number;

  constructor(
    context: Record<string, unknown> | undefined,
    integrations: Record<string, unknown> | undefined,
    sentAt: unknown,
  ) {
    if (context) this.fields.push(measureField('context', context));
    if (integrations) this.fields.push(measureField('integrations', integrations));
    this.sentAtBytes = sentAt === undefined ? 0 : '"sentAt":,'.length + jsonBytes(sentAt);
    this.maxExtra = this.fields.reduce((n, f) => n + f.whole, this.sentAtBytes);
  }

  /** Bytes the merge adds to `m` at most; walks the message's own context keys, not the batch's. */
  extra(m: Record<string, unknown>): number {
    let extra = m.sentAt === undefined ? this.sentAtBytes : 0;
    for (const f of this.fields) {
      const own = m[f.name];
      if (!isObject(own)) {
        extra += f.whole;
        continue;
      }
      let gain = f.entriesTotal;
      for (const key in own) {
        const b = f.entries.get(key);
        if (b !== undefined) gain -= b;
      }
      extra += gain;
    }
    return extra;
  }
}

/**
 * Bytes of the messages of a request once merged, where each one over `maxMessageBytes` counts as
 * sent (it is quarantined without the merge). Serializes each message once: linear in the body.
 */
export function mergedBytes(messages: unknown[], merge: MergedSize, maxMessageBytes: number): number {
  let total = 0;
  for (const m of messages) {
    const own = jsonBytes(m);
    // Too deep to serialize: quarantined with its top-level scalars only, fewer bytes than its text.
    if (own === Infinity) continue;
    const merged = isObject(m) ? own + merge.extra(m) : own;
    total += merged > maxMessageBytes ? own : merged;
  }
  return total;
}
