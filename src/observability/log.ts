export const LogLevels = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LogLevels;

type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

const secretKeys = /pass(word)?|secret|token|authorization|cookie|credential/i;

function serialize(value: unknown, key = ''): unknown {
  if (key && secretKeys.test(key)) return '[redacted]';
  if (value instanceof Error) return { message: value.message, stack: value.stack };
  return value;
}

/** JSON lines on stdout (errors on stderr), one object per event. */
export function createLogger(
  level: LogLevel,
  base: Fields = {},
  write: (line: string, isError: boolean) => void = defaultWrite,
): Logger {
  const threshold = LogLevels[level];
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: Fields) => {
    if (LogLevels[lvl] < threshold) return;
    const record: Fields = { time: new Date().toISOString(), level: lvl, msg, ...base };
    for (const [k, val] of Object.entries(fields ?? {})) record[k] = serialize(val, k);
    write(JSON.stringify(record), LogLevels[lvl] >= LogLevels.error);
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger(level, { ...base, ...fields }, write),
  };
}

function defaultWrite(line: string, isError: boolean): void {
  (isError ? process.stderr : process.stdout).write(`${line}\n`);
}
