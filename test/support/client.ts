import { admin } from './target.ts';

export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
  /** A raw body string, sent as is (for malformed JSON and the like). */
  raw?: string | Uint8Array;
}

/** A small HTTP client for the API suites: JSON in, parsed JSON (or problem) out. */
export function client(baseUrl: string) {
  async function request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    o: RequestOptions = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let payload: string | Uint8Array | undefined = o.raw;
    if (body !== undefined && payload === undefined) payload = JSON.stringify(body);
    if (
      payload !== undefined &&
      !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')
    ) {
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(baseUrl + path, { method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  let seq = 0;
  const api = {
    request,
    get: <T = any>(path: string, o?: RequestOptions) => request<T>('GET', path, undefined, o),
    post: <T = any>(path: string, body?: unknown, o?: RequestOptions) =>
      request<T>('POST', path, body, o),
    put: <T = any>(path: string, body?: unknown, o?: RequestOptions) =>
      request<T>('PUT', path, body, o),

    /** Registers a new customer and signs them in. */
    async newUser(prefix = 'user') {
      const email = `${prefix}-${Date.now().toString(36)}-${seq++}-${Math.random().toString(36).slice(2, 6)}@example.com`;
      const password = 'correct-horse-1';
      const created = await api.post('/users', { name: `Test ${prefix}`, email, password });
      if (created.status !== 201)
        throw new Error(`sign-up failed: ${created.status} ${created.text}`);
      const token = await api.signIn(email, password);
      return { id: created.body.id as string, email, password, token };
    },

    async signIn(email: string, password: string): Promise<string> {
      const res = await api.post('/auth/token', { email, password });
      if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${res.text}`);
      return res.body.accessToken;
    },

    adminToken: () => api.signIn(admin.email, admin.password),

    async stock(adminToken: string, sku: string, priceCents: number, available: number) {
      const res = await api.put(
        `/inventory/items/${sku}`,
        { name: `Item ${sku}`, priceCents, available },
        { token: adminToken },
      );
      if (res.status !== 200 && res.status !== 201)
        throw new Error(`stocking failed: ${res.status} ${res.text}`);
      return res.body;
    },

    async deposit(token: string, amountCents: number) {
      const res = await api.post('/accounts/me/deposits', { amountCents }, { token });
      if (res.status !== 201) throw new Error(`deposit failed: ${res.status} ${res.text}`);
      return res.body;
    },

    /** Polls an order until it leaves PENDING. */
    async settled(token: string, orderId: string, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const res = await api.get(`/orders/${orderId}`, { token });
        if (res.body?.status && res.body.status !== 'PENDING') return res.body;
        if (Date.now() > until)
          throw new Error(`order ${orderId} still ${res.body?.status} after ${timeoutMs} ms`);
        await Bun.sleep(100);
      }
    },
  };
  return api;
}

export type Client = ReturnType<typeof client>;

/** Asserts the shape every error shares: an RFC 9457 problem document. */
export function isProblem(reply: Reply, status: number): boolean {
  return (
    reply.status === status &&
    (reply.headers.get('content-type') ?? '').startsWith('application/problem+json') &&
    typeof reply.body?.type === 'string' &&
    typeof reply.body?.title === 'string' &&
    reply.body?.status === status &&
    typeof reply.body?.detail === 'string'
  );
}

/** A unique sku per call, so suites sharing one server never collide. */
export const uniqueSku = (prefix = 'SKU') =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
