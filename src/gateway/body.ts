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
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError('validation', 'The request body is not valid JSON.');
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
