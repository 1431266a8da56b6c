import { activeIds } from './scope.ts';

export const LogLevels = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LogLevels;
export type LogFormat = 'json' | 'pretty';
export type Fields = Record<string, unknown>;
/** Receives one finished line (no newline); `isError` is true for level error. */
export type LogWrite = (line: string, isError: boolean) => void;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(fields: Fields): Logger;
  /** Whether lines at `level` are written: lets a hot path skip building their fields. */
  enabled(level: Level): boolean;
}

type Level = Exclude<LogLevel, 'silent'>;

const secretKey =
  /passw(or)?d|secret|token|authorization|cookie|credential|creds|api[_-]?key|nkey|seed|private[_-]?key/i;
// Cheap pre-check so ordinary strings skip the three replacements below.
const suspicious = /:\/\/|bearer|eyJ/i;
const bearer = /\b(bearer)\s+[^\s"']+/gi;
const jwt = /\beyJ[\w-]+\.[\w-]+\.[\w-]*/g;
// Greedy up to the last '@' of the authority, so an unescaped '@' in a password is covered.
const userinfo = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#]+)@/gi;
const maxDepth = 6;
// Objects made from Errors, so the pretty format can print their stack on separate lines.
const fromError = new WeakSet<object>();

/** Masks URL passwords, bearer tokens and JWTs inside free text. */
function scrubText(s: string): string {
  if (!suspicious.test(s)) return s;
  return s
    .replace(bearer, '$1 [redacted]')
    .replace(jwt, '[redacted jwt]')
    .replace(userinfo, (_, scheme: string, info: string) => {
      const colon = info.indexOf(':');
      return colon < 0 ? `${scheme}***@` : `${scheme}${info.slice(0, colon)}:***@`;
    });
}

function scrubError(err: Error, depth: number, path: Set<object>): Fields {
  const out: Fields = { message: scrubText(err.message) };
  if (err.stack) out.stack = scrubText(err.stack);
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out.code = scrub(code, depth + 1, path);
  fromError.add(out);
  return out;
}

/** A JSON-safe copy with secrets removed; `path` holds the ancestors, to cut cycles. */
function scrub(value: unknown, depth: number, path: Set<object>): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (path.has(value)) return '[circular]';
  if (depth > maxDepth) return '[truncated]';
  path.add(value);
  try {
    if (value instanceof Error) return scrubError(value, depth, path);
    if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1, path));
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return scrub(toJSON.call(value), depth + 1, path);
    return scrubFields(value as Fields, depth + 1, path);
  } finally {
    path.delete(value);
  }
}

function scrubFields(fields: Fields, depth = 0, path = new Set<object>()): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = secretKey.test(k) ? '[redacted]' : scrub(v, depth, path);
  }
  return out;
}

const two = (n: number) => String(n).padStart(2, '0');
const clock = (d: Date) =>
  `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
const colours: Record<Level, string> = { debug: '90', info: '32', warn: '33', error: '31' };

function pretty(record: Fields, time: Date, lvl: Level, msg: string, colour: boolean): string {
  const tag = lvl.toUpperCase().padEnd(5);
  const head = [clock(time), colour ? `\x1b[${colours[lvl]}m${tag}\x1b[0m` : tag];
  for (const k of ['node', 'module']) {
    const v = record[k];
    if (typeof v === 'string') head.push(v);
  }
  let line = `${head.join(' ')}  ${msg}`;
  let stacks = '';
  for (const [k, v] of Object.entries(record)) {
    if (k === 'node' || k === 'module') continue;
    if (v && typeof v === 'object' && fromError.has(v)) {
      const e = v as { message: string; stack?: string; code?: unknown };
      line += ` ${k}=${text(e.message)}${e.code === undefined ? '' : ` ${k}.code=${text(e.code)}`}`;
      stacks += indentStack(e.stack, e.message);
    } else {
      line += ` ${k}=${text(v)}`;
    }
  }
  return line + stacks;
}

/** Bare when unambiguous, JSON otherwise (quoted strings, compact objects). */
function text(v: unknown): string {
  if (typeof v === 'string') return v === '' || /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

function indentStack(stack: string | undefined, message: string): string {
  if (!stack) return '';
  const lines = stack.split('\n');
  // V8 and JSC repeat "Name: message" as the first line(s); the message is already printed.
  const frames = lines.findIndex((l) => /^\s+at\s/.test(l));
  const body =
    frames > 0 && lines.slice(0, frames).join('\n').endsWith(message) ? lines.slice(frames) : lines;
  return body.map((l) => `\n    ${l.trim()}`).join('');
}

const useColour = (stream: NodeJS.WriteStream) => Boolean(stream.isTTY) && !process.env.NO_COLOR;

/**
 * JSON lines (or human-readable lines with `pretty`) on stdout, errors on stderr.
 * Request, trace and span ids come from the active OpenTelemetry context; explicit fields win.
 */
export function createLogger(
  level: LogLevel,
  base: Fields = {},
  write: LogWrite = defaultWrite,
  format: LogFormat = 'json',
): Logger {
  const threshold = LogLevels[level];
  const scrubbedBase = scrubFields(base);
  // Colour only on a real terminal: a custom writer may go to a file or a test.
  const colourOut = format === 'pretty' && write === defaultWrite && useColour(process.stdout);
  const colourErr = format === 'pretty' && write === defaultWrite && useColour(process.stderr);
  const emit = (lvl: Level, msg: string, fields?: Fields) => {
    if (LogLevels[lvl] < threshold) return;
    const isError = LogLevels[lvl] >= LogLevels.error;
    const time = new Date();
    const safeMsg = scrubText(msg);
    const record: Fields = { ...scrubbedBase };
    const ids = activeIds();
    if (ids.requestId && !('requestId' in record)) record.requestId = ids.requestId;
    if (ids.traceId && !('traceId' in record)) record.traceId = ids.traceId;
    if (ids.spanId && !('spanId' in record)) record.spanId = ids.spanId;
    if (fields) Object.assign(record, scrubFields(fields));
    // Spread twice: the three keep their place at the front and a field cannot overwrite them.
    const head = { time: time.toISOString(), level: lvl, msg: safeMsg };
    const line =
      format === 'pretty'
        ? pretty(record, time, lvl, safeMsg, isError ? colourErr : colourOut)
        : JSON.stringify({ ...head, ...record, ...head });
    write(line, isError);
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger(level, { ...base, ...fields }, write, format),
    enabled: (lvl) => LogLevels[lvl] >= threshold,
  };
}

function defaultWrite(line: string, isError: boolean): void {
  (isError ? process.stderr : process.stdout).write(`${line}\n`);
}
