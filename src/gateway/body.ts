import { AppError } from '../errors.ts';

const jsonType = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;

/**
 * Reads a JSON body, refusing it with 413 before parsing when it is over the limit:
 * first by Content-Length, then by counting the bytes as they stream (chunked bodies).
 */
export async function readJsonBody(request: Request, limit: number): Promise<unknown> {
  const type = request.headers.get('content-type') ?? '';
  if (!jsonType.test(type)) {
    throw new AppError('unsupported_media_type', 'Send the body as application/json.');
  }
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  const bytes = await readLimited(request, limit);
  if (bytes.length === 0)
    throw new AppError('validation', 'The request body is empty; send a JSON object.');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AppError('validation', 'The request body is not valid UTF-8.');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('validation', 'The request body is not valid JSON.');
  }
  checkStrings(text);
  return value;
}

/**
 * Refuses what JSON.parse lets through but I-JSON (RFC 7493) forbids: a key twice in one
 * object (last-wins would let two readers disagree), and escaped NUL or lone surrogates,
 * which Postgres cannot store and UTF-8 cannot encode. Runs on text JSON.parse accepted.
 */
function checkStrings(text: string): void {
  const objects: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x7b) {
      objects.push(new Set());
      expectKey = true;
    } else if (ch === 0x5b) {
      objects.push(null);
    } else if (ch === 0x7d || ch === 0x5d) {
      objects.pop();
      expectKey = false;
    } else if (ch === 0x2c) {
      expectKey = objects.at(-1) != null;
    } else if (ch === 0x22) {
      let end = i + 1;
      let escaped = false;
      for (let c = text.charCodeAt(end); c !== 0x22; c = text.charCodeAt(end)) {
        if (c === 0x5c) {
          escaped = true;
          end += 2;
        } else end += 1;
      }
      // Unescaped text came from strict UTF-8 and JSON forbids raw control characters in it.
      const s = escaped ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
      if (escaped && (s.includes('\u0000') || !s.isWellFormed())) {
        throw new AppError(
          'validation',
          'The request body has a string with a NUL character or a lone surrogate.',
        );
      }
      if (expectKey) {
        const keys = objects.at(-1)!;
        if (keys.has(s)) {
          throw new AppError(
            'validation',
            `The request body names the key ${JSON.stringify(s.slice(0, 64))} twice.`,
          );
        }
        keys.add(s);
        expectKey = false;
      }
      i = end;
    }
  }
}

async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

const tooLarge = (limit: number) =>
  new AppError('payload_too_large', `The request body is over ${limit / 1024} KiB.`);
