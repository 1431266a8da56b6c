/**
 * `npm test`: runs every suite and ends with one line `N passed, N failed`.
 *
 * - unit suites need no server;
 * - API and recovery suites run against embedded PGlite, then against Postgres
 *   (a fresh database per suite on TEST_POSTGRES_URL, default postgres://root@127.0.0.1:5432/test);
 * - the API suites once more against six processes talking over NATS (Postgres and NATS needed).
 *
 * Without a reachable server a pass is skipped with a loud banner; with CI=true
 * a skipped pass counts as a failure, since CI provides the server.
 */
import { postgresReachable } from './support/database.ts';
import { natsReachable } from './support/nats.ts';

interface Pass {
  name: string;
  paths: string[];
  env: Record<string, string>;
}

const serverless = ['test/unit'];
const databaseSuites = ['test/api', 'test/recovery'];

const binary = process.env.BUNSHOP_BIN ?? '';
// Source passes run src/main.ts even when a binary is given; the binary gets its own pass.
const fromSource = { BUNSHOP_BIN: '' };

const passes: Pass[] = [
  { name: 'unit', paths: serverless, env: fromSource },
  {
    name: 'api on PGlite',
    paths: databaseSuites,
    env: { ...fromSource, BUNSHOP_TEST_DB: 'pglite' },
  },
];

let passed = 0;
let failed = 0;
const skipped: string[] = [];

const postgres = await postgresReachable();
if (postgres) {
  passes.push({
    name: 'api on Postgres',
    paths: databaseSuites,
    env: { ...fromSource, BUNSHOP_TEST_DB: 'postgres' },
  });
} else {
  skipped.push('api on Postgres (no Postgres at TEST_POSTGRES_URL or 127.0.0.1:5432)');
}
// The same API suite against six processes (gateway, user, inventory, payment, two order nodes) over NATS.
if (postgres && (await natsReachable())) {
  passes.push({
    name: `api and faults over NATS, one module per process (${binary || 'src/main.ts'}), on Postgres`,
    paths: ['test/api', 'test/topology', 'test/observability'],
    // With a compiled binary, the topology is made of it: what production runs.
    env: { BUNSHOP_BIN: binary, BUNSHOP_TEST_DB: 'postgres', BUNSHOP_TEST_TOPOLOGY: 'nats' },
  });
} else {
  skipped.push('api over NATS (needs Postgres and a NATS server at NATS_URL or 127.0.0.1:4222)');
}
// With BUNSHOP_BIN (set by .ci/run after `npm run build`), the same suites run once more against
// the compiled binary, each started alone in an empty directory.
if (binary) {
  passes.push({
    name: `api via the compiled binary ${binary} on PGlite`,
    paths: databaseSuites,
    env: { BUNSHOP_BIN: binary, BUNSHOP_TEST_DB: 'pglite' },
  });
}

const extra = process.argv.slice(2);
for (const pass of passes) {
  console.log(`\n=== ${pass.name} ===`);
  const proc = Bun.spawn([process.execPath, 'test', ...pass.paths, ...extra], {
    env: { ...process.env, ...pass.env },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [out, err] = await Promise.all([
    pipe(proc.stdout, process.stdout),
    pipe(proc.stderr, process.stderr),
  ]);
  const code = await proc.exited;
  const text = out + err;
  const p = Number(/^\s*(\d+) pass$/m.exec(text)?.[1] ?? 0);
  const f = Number(/^\s*(\d+) fail$/m.exec(text)?.[1] ?? 0);
  passed += p;
  // A pass that crashed or ran nothing must not look green.
  failed += f > 0 ? f : code !== 0 || p === 0 ? 1 : 0;
}

if (skipped.length) {
  const banner = '!'.repeat(78);
  console.log(
    `\n${banner}\nSKIPPED for want of a server:\n${skipped.map((s) => `  - ${s}`).join('\n')}\n${banner}`,
  );
  if (process.env.CI) {
    console.log('CI=true: a skipped suite is a failure.');
    failed += skipped.length;
  }
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);

async function pipe(stream: ReadableStream<Uint8Array>, to: NodeJS.WriteStream): Promise<string> {
  let all = '';
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    const text = decoder.decode(chunk, { stream: true });
    all += text;
    to.write(text);
  }
  return all;
}
