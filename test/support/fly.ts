import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** fly.toml as the deploy tests read it: the keys bunshop's file uses, in Fly's names. */
export interface FlyConfig {
  app: string;
  kill_signal?: string;
  kill_timeout?: number | string;
  build?: { dockerfile?: string };
  deploy?: { release_command?: string };
  env: Record<string, string>;
  processes: Record<string, string>;
  http_service?: {
    processes?: string[];
    internal_port: number;
    force_https?: boolean;
    checks?: FlyCheck[];
  };
  checks?: Record<string, FlyCheck & { type: string; port: number; processes?: string[] }>;
  metrics?: { port: number; path: string; processes?: string[] }[];
}

export interface FlyCheck {
  path?: string;
  method?: string;
  interval?: string | number;
  timeout?: string | number;
  grace_period?: string | number;
}

export const repoRoot = join(import.meta.dir, '..', '..');

export function readFly(): FlyConfig {
  const fly = Bun.TOML.parse(readFileSync(join(repoRoot, 'fly.toml'), 'utf8')) as FlyConfig;
  // `[metrics]` (one table) and `[[metrics]]` (a list) are both Fly syntax.
  if (fly.metrics && !Array.isArray(fly.metrics)) fly.metrics = [fly.metrics];
  return fly;
}

/**
 * A command string as Fly turns it into argv (shell-like splitting, no shell): plain words only
 * here, so a quote, escape or `$` (which no shell would expand) fails loudly instead.
 */
export function argv(command: string): string[] {
  if (/["'\\$`]/.test(command)) throw new Error(`not a plain command: ${command}`);
  return command.trim().split(/\s+/);
}

/** Fly's durations: a number of milliseconds, or a string such as "5s", "1m30s", "250ms". */
export function durationMs(value: string | number): number {
  if (typeof value === 'number') return value;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== value)
    throw new Error(`not a duration: ${value}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0);
}

/** kill_timeout: seconds as a number, or a duration string. */
export const killTimeoutMs = (fly: FlyConfig) =>
  typeof fly.kill_timeout === 'number'
    ? fly.kill_timeout * 1000
    : durationMs(fly.kill_timeout ?? '5s');

/** The secrets the README's `fly secrets set` names, with throwaway values of the right shape. */
export const flySecrets = {
  DATABASE_URL: 'postgres://bunshop:secret@db.internal:5432/bunshop',
  NATS_URL: 'nats://bunshop:secret@nats.internal:4222',
  JWT_SECRET: 'a-secret-that-is-long-enough-for-hs256-0123456789',
  ADMIN_EMAIL: 'admin@example.com',
  ADMIN_PASSWORD: 'change-me-please',
};
