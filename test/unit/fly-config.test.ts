import { describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Config, ConfigError, parseConfig } from '../../src/config.ts';
import type { Api } from '../../src/gateway/api.ts';
import { mountOps } from '../../src/gateway/ops.ts';
import { allModules } from '../../src/main.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { type Option, options } from '../../src/options.ts';
import { argv, durationMs, flySecrets, killTimeoutMs, readFly, repoRoot } from '../support/fly.ts';

/** fly.toml read as Fly would, every command checked by the real CLI parser. */
const fly = readFly();
const known = allModules.map((m) => m.contract.name);
/** What a Machine of this group sees: fly.toml's [env], the secrets, and the command. */
const parse = (command: string, env: Record<string, string> = { ...fly.env, ...flySecrets }) =>
  parseConfig(argv(command), env, known);
const parsed = Object.entries(fly.processes).map(([name, command]) => {
  try {
    return { name, config: parse(command) };
  } catch (err) {
    return { name, error: `${name}: ${command}: ${(err as Error).message}` };
  }
});
const groups = parsed.flatMap((p): [string, Config][] => (p.config ? [[p.name, p.config]] : []));
const group = (name: string) => groups.find(([n]) => n === name)?.[1];

/** The routes every node mounts (health, metrics, docs), recorded without starting anything. */
function operationsRoutes() {
  const routes: { method: string; path: string; auth: string }[] = [];
  const recorder = { route: (def: (typeof routes)[number]) => routes.push(def) };
  mountOps(recorder as unknown as Api, {
    metrics: createMetrics(),
    checks: {},
    version: 'test',
    routes: () => [],
  });
  return routes;
}

describe('fly.toml process groups', () => {
  test('every command is one the CLI accepts with [env] and the secrets: serve, over NATS', () => {
    expect(parsed.flatMap((p) => p.error ?? [])).toEqual([]);
    expect(groups.map(([name]) => name).sort()).toEqual(
      ['gateway', 'inventory', 'order', 'payment', 'user'].sort(),
    );
    for (const [name, config] of groups) {
      expect({ name, command: config.command }).toEqual({ name, command: 'serve' });
      expect({ name, transport: config.transport }).toEqual({ name, transport: 'nats' });
    }
  });

  test('the parser the check relies on rejects a bad flag, module or value', () => {
    for (const bad of [
      'serve --modules=user --no-such-flag',
      'serve --modules=usr --transport=nats',
      'serve --modules=user --transport=grpc',
    ])
      expect(() => parse(bad)).toThrow(ConfigError);
    // And without the JWT_SECRET secret, no NATS node starts (so the README must set it).
    const { JWT_SECRET: _, ...noSecret } = { ...fly.env, ...flySecrets };
    expect(() => parse(fly.processes.order!, noSecret)).toThrow(/JWT_SECRET/);
  });

  test('every module is hosted by exactly one process group', () => {
    for (const module of known) {
      const hosts = groups.filter(([, c]) => c.modules.includes(module)).map(([n]) => n);
      expect({ module, hosts }).toEqual({ module, hosts: [module] });
    }
  });

  test('exactly one group serves the gateway, and only it is behind the http_service', () => {
    const gateways = groups.filter(([, c]) => c.gateway).map(([n]) => n);
    expect(gateways).toEqual(['gateway']);
    expect(group('gateway')?.modules).toEqual([]);
    expect(fly.http_service?.processes).toEqual(gateways);
    expect(fly.http_service?.force_https).toBe(true);
  });

  test('[env] leaves per-Machine and per-group settings to the commands and the default', () => {
    // One NODE_ID for every Machine would let two order nodes drive the same sagas.
    for (const name of ['NODE_ID', 'MODULES', 'GATEWAY'])
      expect(Object.keys(fly.env)).not.toContain(name);
    expect(group('gateway')?.trustProxy).toBe(true);
    expect(group('gateway')?.logFormat).toBe('json');
  });

  test('no secret is in [env]: environment-only settings, credential URLs, OTLP headers', () => {
    const envOnly = (Object.values(options) as Option[]).filter((o) => !o.flag).map((o) => o.env);
    const secrets = [...envOnly, 'DATABASE_URL', 'NATS_URL', 'OTEL_EXPORTER_OTLP_HEADERS'];
    for (const name of Object.keys(fly.env)) {
      expect({ name, secret: secrets.includes(name) || name.startsWith('DATABASE_URL_') }).toEqual({
        name,
        secret: false,
      });
    }
    expect(envOnly).toEqual(expect.arrayContaining(['JWT_SECRET', 'ADMIN_PASSWORD', 'NATS_CREDS']));
    for (const value of Object.values(fly.env)) expect(value).not.toMatch(/\/\/[^/@\s]+:[^/@\s]+@/);
  });
});

describe('fly.toml ports, checks and metrics', () => {
  const routes = operationsRoutes();
  const isPublicGet = (path: string | undefined) =>
    routes.some((r) => r.path === path && r.method === 'get' && r.auth === 'public');

  test('the http_service and its checks reach the gateway on PORT, at its readiness route', () => {
    const gateway = group('gateway')!;
    expect(fly.http_service?.internal_port).toBe(gateway.port);
    expect(fly.http_service?.checks?.length).toBeGreaterThan(0);
    for (const check of fly.http_service?.checks ?? []) {
      expect(check.path).toBe('/health/ready');
      expect(isPublicGet(check.path)).toBe(true);
      expect(check.method?.toLowerCase() ?? 'get').toBe('get');
    }
  });

  test('every other group has a top-level http check on its own PORT and readiness route', () => {
    const checked = new Set<string>();
    for (const [name, check] of Object.entries(fly.checks ?? {})) {
      expect({ name, type: check.type }).toEqual({ name, type: 'http' });
      expect(isPublicGet(check.path)).toBe(true);
      for (const p of check.processes ?? []) {
        expect({ name, process: p, port: check.port }).toEqual({
          name,
          process: p,
          port: group(p)!.port,
        });
        checked.add(p);
      }
    }
    const behindProxy = fly.http_service?.processes ?? [];
    expect([...checked, ...behindProxy].sort()).toEqual(Object.keys(fly.processes).sort());
  });

  test('[[metrics]] scrapes every group on its METRICS_PORT at /metrics', () => {
    const scraped = (fly.metrics ?? []).flatMap((m) => {
      expect(m.path).toBe('/metrics');
      expect(isPublicGet(m.path)).toBe(true);
      const names = m.processes ?? Object.keys(fly.processes);
      for (const p of names)
        expect({ p, port: m.port }).toEqual({ p, port: group(p)?.metricsPort ?? -1 });
      return names;
    });
    expect(scraped.sort()).toEqual(Object.keys(fly.processes).sort());
    // The scrape port is not the public one.
    for (const [, config] of groups) expect(config.metricsPort).not.toBe(config.port);
  });

  test('check timings fit the node: past its 2 s readiness timeout, under the shutdown delay', () => {
    const gateway = group('gateway')!;
    for (const check of [...(fly.http_service?.checks ?? []), ...Object.values(fly.checks ?? {})]) {
      expect(durationMs(check.timeout ?? '2s')).toBeGreaterThan(2_000);
      expect(durationMs(check.grace_period ?? '0s')).toBeGreaterThan(0);
    }
    // The proxy's check must see readiness 503 before the node stops accepting.
    for (const check of fly.http_service?.checks ?? [])
      expect(gateway.shutdownDelayMs).toBeGreaterThan(durationMs(check.interval ?? '15s'));
  });
});

describe('fly.toml deploy and shutdown', () => {
  test('release_command is `bunshop migrate` of every module', () => {
    const release = parse(fly.deploy?.release_command ?? '');
    expect(release.command).toBe('migrate');
    expect(release.modules).toEqual(known);
  });

  test('SIGTERM, and kill_timeout past the shutdown delay plus a request deadline', () => {
    expect(fly.kill_signal).toBe('SIGTERM');
    const timeout = killTimeoutMs(fly);
    expect(timeout).toBeLessThanOrEqual(300_000); // Fly's maximum
    for (const [name, c] of groups) {
      const needed = c.shutdownDelayMs + c.requestTimeoutMs + 5_000; // 5 s to close the rest
      expect({ name, enough: timeout >= needed }).toEqual({ name, enough: true });
    }
  });

  test('the image is built from the repository Dockerfile', () => {
    expect(existsSync(join(repoRoot, fly.build?.dockerfile ?? 'Dockerfile'))).toBe(true);
  });
});
