/**
 * The cost of tracing on the order workload (POST /orders, the whole saga), side by side in
 * one run: the same monolith on one Postgres database with tracing off, and on (every request
 * sampled, exported over OTLP/HTTP to a sink process). BENCH_BIN runs a compiled binary instead
 * of the source; BENCH_BASELINE_BIN adds another binary, e.g. one built before tracing existed,
 * to show what "off" costs.
 *
 *   BENCH_BIN=dist/bunshop bun bench/tracing-overhead.ts [--seconds=10] [--runs=3] [--connections=16]
 *     [--workload=orders|item]   orders: POST /orders (default); item: GET /inventory/items/{sku}
 */
import { join } from 'node:path';
import postgres from 'postgres';
import { closedLoop, type LoadResult, median } from './support/load.ts';
import { freePort, until200 } from './support/processes.ts';

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const seconds = arg('seconds', 10);
const runs = arg('runs', 3);
const connections = arg('connections', 16);
const workload = process.argv.find((a) => a.startsWith('--workload='))?.split('=')[1] ?? 'orders';
const root = join(import.meta.dir, '..');
const adminUrl = process.env.BENCH_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test';
const secret = 'bench-secret-that-is-long-enough-for-hs256-000000';
const admin = { email: 'bench-admin@example.com', password: 'bench-admin-password' };

const dbName = `bunshop_bench_${Date.now().toString(36)}`;
const server = postgres(adminUrl, { max: 1, onnotice: () => {} });
await server.unsafe(`create database ${dbName}`);
const dbUrl = adminUrl.replace(/\/[^/]*$/, `/${dbName}`);

const sink = Bun.spawn([process.execPath, join(import.meta.dir, 'support', 'otlp-sink.ts')], {
  stdout: 'pipe',
  stderr: 'inherit',
});
const sinkPort = await firstLine(sink.stdout).then((l) => l.split(' ')[1]);

interface Target {
  name: string;
  command: string[];
  env: Record<string, string>;
  url?: string;
  proc?: ReturnType<typeof Bun.spawn>;
}
// BENCH_BIN (a compiled binary) for a like-for-like comparison with BENCH_BASELINE_BIN.
const source = process.env.BENCH_BIN
  ? [process.env.BENCH_BIN]
  : [process.execPath, join(root, 'src', 'main.ts')];
const targets: Target[] = [
  { name: 'tracing off', command: source, env: {} },
  {
    name: 'tracing on (OTLP/HTTP)',
    command: source,
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}` },
  },
];
if (process.env.BENCH_BASELINE_BIN)
  targets.push({ name: 'baseline binary', command: [process.env.BENCH_BASELINE_BIN], env: {} });

try {
  for (const t of targets) {
    const port = freePort();
    t.proc = Bun.spawn(t.command, {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: dbUrl,
        JWT_SECRET: secret,
        ADMIN_EMAIL: admin.email,
        ADMIN_PASSWORD: admin.password,
        // Access logs off for every target: this measures tracing, not stdout.
        LOG_LEVEL: 'warn',
        ...t.env,
      },
      stdout: 'ignore',
      stderr: 'inherit',
      cwd: root,
    });
    t.url = `http://127.0.0.1:${port}`;
    await until200(`${t.url}/health/ready`, t.proc, performance.now(), 60_000, 100);
  }
  const { tokens, skus } = await seed(targets[0]!.url!);
  const order = (url: string) => (i: number) =>
    fetch(`${url}/orders`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens[i % tokens.length]}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ items: [{ sku: skus[(i * 7) % skus.length], qty: 1 }] }),
    });
  const item = (url: string) => (i: number) =>
    fetch(`${url}/inventory/items/${skus[i % skus.length]}`);
  const load = workload === 'item' ? item : order;
  const ok = (res: Response) => res.status === (workload === 'item' ? 200 : 201);
  const results = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
  for (const t of targets) await closedLoop({ connections, seconds: 3, request: load(t.url!) });
  // Round-robin: each round measures every target once, so drift hits them all alike.
  for (let r = 0; r < runs; r++) {
    for (const t of targets) {
      const result = await closedLoop({ connections, seconds, request: load(t.url!), ok });
      results.get(t.name)!.push(result);
      console.log(
        `run ${r + 1} ${t.name.padEnd(24)} ${result.rps.toFixed(0)} req/s  p50 ${result.p50Ms.toFixed(1)} ms  p99 ${result.p99Ms.toFixed(1)} ms  errors ${result.errors}`,
      );
    }
  }
  const off = median(results.get(targets[0]!.name)!.map((r) => r.rps));
  console.log(
    `\n${workload === 'item' ? 'GET /inventory/items/{sku}' : 'POST /orders'}, ${connections} connections, ${seconds} s x ${runs} runs (median), one Postgres database`,
  );
  console.log('| target | req/s | p50 ms | p99 ms | errors | req/s vs off |');
  console.log('|---|---|---|---|---|---|');
  for (const t of targets) {
    const rs = results.get(t.name)!;
    const rps = median(rs.map((r) => r.rps));
    console.log(
      `| ${t.name} | ${rps.toFixed(0)} | ${median(rs.map((r) => r.p50Ms)).toFixed(1)} | ${median(rs.map((r) => r.p99Ms)).toFixed(1)} | ${rs.reduce((n, r) => n + r.errors, 0)} | ${(rps / off).toFixed(3)} |`,
    );
  }
} finally {
  for (const t of targets) t.proc?.kill('SIGTERM');
  await Promise.all(targets.map((t) => t.proc?.exited));
  sink.kill('SIGTERM');
  await sink.exited;
  await server.unsafe(`drop database if exists ${dbName} with (force)`);
  await server.end();
}

/** 200 customers with ample balance, 100 skus with ample stock; returns their tokens and skus. */
async function seed(url: string) {
  const call = async (method: string, path: string, body: unknown, token?: string) => {
    const res = await fetch(url + path, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const signIn = async (email: string, password: string) =>
    (await call('POST', '/auth/token', { email, password })).accessToken as string;
  const adminToken = await signIn(admin.email, admin.password);
  const skus = Array.from({ length: 100 }, (_, i) => `BENCH-${i}`);
  for (const sku of skus)
    await call(
      'PUT',
      `/inventory/items/${sku}`,
      { name: sku, priceCents: 10, available: 10_000_000 },
      adminToken,
    );
  const tokens: string[] = [];
  for (let i = 0; i < 200; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: 10 }, async (_, j) => {
        const email = `bench-${i + j}@example.com`;
        await call('POST', '/users', {
          name: `Bench ${i + j}`,
          email,
          password: 'bench-password-1',
        });
        const token = await signIn(email, 'bench-password-1');
        await call('POST', '/accounts/me/deposits', { amountCents: 100_000_000 }, token);
        return token;
      }),
    );
    tokens.push(...batch);
  }
  return { tokens, skus };
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return new TextDecoder().decode(value).trim();
}
