import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { skus } from './seed.ts';

/** One wrk run's outcome, read from the Lua `done` hook (exact counts, not wrk's rounded text). */
export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Socket errors plus non-2xx answers. */
  errors: number;
}

export type Workload = 'W0' | 'W1' | 'W1a' | 'W2';

export const workloads: Record<Workload, string> = {
  W0: 'GET /health/live',
  W1: 'GET /inventory/items/{sku}',
  W1a: 'GET /users/me',
  W2: 'POST /orders (one line, the whole saga)',
};

/** One fixed path per workload, for the tools that aim wrk at a single URL (cpu.ts, pair.ts). */
export const workloadPaths: Record<Workload, string> = {
  W0: '/health/live',
  W1: '/inventory/items/SKU-0001',
  W1a: '/users/me',
  W2: '/orders',
};

const done = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests":%d,"us":%d,"p50":%d,"p99":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
`;

/** Writes the Lua scripts: random skus for W1, random users' tokens for W1a and W2. */
export function writeScripts(dir: string, tokens: readonly string[]): Record<Workload, string> {
  mkdirSync(dir, { recursive: true });
  const tokenTable = `local tokens = {${tokens.map((t) => `"${t}"`).join(',')}}\n`;
  const sku = `string.format("SKU-%04d", math.random(1, ${skus}))`;
  const scripts: Record<Workload, string> = {
    W0: `${done}`,
    W1: `request = function() return wrk.format("GET", "/inventory/items/" .. ${sku}) end\n${done}`,
    W1a: `${tokenTable}request = function()
  return wrk.format("GET", "/users/me", { ["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)] })
end\n${done}`,
    W2: `${tokenTable}request = function()
  local body = '{"items":[{"sku":"' .. ${sku} .. '","qty":1}]}'
  return wrk.format("POST", "/orders", { ["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)],
    ["Content-Type"] = "application/json" }, body)
end\n${done}`,
  };
  const paths = {} as Record<Workload, string>;
  for (const [w, text] of Object.entries(scripts) as [Workload, string][]) {
    paths[w] = join(dir, `${w}.lua`);
    writeFileSync(paths[w], text);
  }
  return paths;
}

/** Runs wrk once: one thread (the server gets the other core), fixed connections and duration. */
export async function wrk(o: {
  url: string;
  path: string;
  script: string;
  connections: number;
  seconds: number;
}): Promise<WrkResult> {
  const proc = Bun.spawn(
    [
      'wrk',
      '-t1',
      `-c${o.connections}`,
      `-d${o.seconds}s`,
      '--timeout',
      '10s',
      '-s',
      o.script,
      `${o.url}${o.path}`,
    ],
    { stdout: 'pipe', stderr: 'pipe' },
  );
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const line = /WRK_JSON (\{.*\})/.exec(out)?.[1];
  if (!line)
    throw new Error(`wrk printed no result:\n${out}\n${await new Response(proc.stderr).text()}`);
  const r = JSON.parse(line) as {
    requests: number;
    us: number;
    p50: number;
    p99: number;
    errors: number;
  };
  const seconds = r.us / 1e6;
  return {
    requests: r.requests,
    seconds,
    rps: r.requests / seconds,
    p50Ms: r.p50 / 1000,
    p99Ms: r.p99 / 1000,
    errors: r.errors,
  };
}

/** wrk from Debian's package; installed when missing and this process may (root). */
export function ensureWrk(): void {
  if (Bun.which('wrk')) return;
  if (process.getuid?.() === 0) {
    Bun.spawnSync(['apt-get', 'install', '-y', '-qq', 'wrk'], {
      stdout: 'inherit',
      stderr: 'inherit',
    });
    if (Bun.which('wrk')) return;
    Bun.spawnSync(['sh', '-c', 'apt-get update -qq && apt-get install -y -qq wrk'], {
      stdout: 'inherit',
      stderr: 'inherit',
    });
  }
  if (!Bun.which('wrk')) throw new Error('wrk is needed: sudo apt-get install wrk');
}
