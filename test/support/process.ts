import { join } from 'node:path';
import type { Subprocess } from 'bun';

const root = join(import.meta.dir, '..', '..');

export interface NodeProcess {
  baseUrl: string;
  proc: Subprocess<'ignore', 'pipe', 'pipe'>;
  /** Everything the process printed so far. */
  output(): string;
  exited: Promise<number>;
}

/** The bunshop command line: BUNSHOP_BIN when set, else the source entry point. */
export function bunshopCommand(): string[] {
  return process.env.BUNSHOP_BIN
    ? [process.env.BUNSHOP_BIN]
    : [process.execPath, join(root, 'src', 'main.ts')];
}

/**
 * Runs bunshop as a separate process (the source entry point, or BUNSHOP_BIN when set)
 * and resolves once it prints its listening line.
 */
export async function spawnNode(
  env: Record<string, string>,
  timeoutMs = 60_000,
  cwd = root,
  args: string[] = [],
): Promise<NodeProcess> {
  const proc = Bun.spawn([...bunshopCommand(), ...args], {
    cwd,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  let out = '';
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) out += decoder.decode(chunk, { stream: true });
  };
  void collect(proc.stdout);
  void collect(proc.stderr);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const match = /listening on http:\/\/(?:\[[^\]]+\]|[^:]+):(\d+)/.exec(out);
    if (match) {
      return {
        baseUrl: `http://127.0.0.1:${match[1]}`,
        proc,
        output: () => out,
        exited: proc.exited,
      };
    }
    if (proc.exitCode !== null || Date.now() > until) {
      proc.kill('SIGKILL');
      throw new Error(`bunshop did not start (exit ${proc.exitCode}):\n${out.slice(-3000)}`);
    }
    await Bun.sleep(50);
  }
}

/** A port nothing listens on now: bound by the OS, then released. */
export function freePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const { port } = probe;
  probe.stop(true);
  return port;
}
