import { describe, expect, test } from 'bun:test';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { parseConfig } from '../../src/config.ts';
import { allModules } from '../../src/main.ts';
import {
  copyPaths,
  ignoredBy,
  instructionsOf,
  parseDockerfile,
  type Stage,
} from '../support/dockerfile.ts';
import { readFly, repoRoot } from '../support/fly.ts';

/** The Dockerfile read instruction by instruction; no image is built here (no Docker daemon). */
const stages = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const dockerignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8');
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
const fly = readFly();
const build = stages.find((s) => s.name === 'build')!;
const runtime = stages.at(-1)!;
const runs = (stage: Stage) => instructionsOf(stage, 'RUN').map((i) => i.args);
const workdir = (stage: Stage) => instructionsOf(stage, 'WORKDIR').at(-1)?.args ?? '/';
/** The build script's output, e.g. dist/bunshop, from `--outfile`. */
const outfile = /--outfile[ =](\S+)/.exec(pkg.scripts.build)?.[1];
/** The runtime's COPY of the binary out of the build stage. */
const binaryCopy = instructionsOf(runtime, 'COPY').find((c) => c.flags.from === build.name)!;
/** Where a COPY puts one source: into the directory when dest ends in /, else at dest. */
const landing = (source: string, dest: string, cwd: string) =>
  posix.resolve(cwd, dest.endsWith('/') ? posix.join(dest, posix.basename(source)) : dest);

describe('Dockerfile', () => {
  test('two stages: a Node build stage and a Debian (glibc) runtime, each on a pinned tag', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    expect(build.image).toMatch(/^node:\d+[^:]*-bookworm-slim$/);
    expect(runtime.image).toMatch(/^debian:(bookworm|12)[\w.-]*$/);
    for (const s of stages) {
      const [, tag] = s.image.split(':');
      expect({ image: s.image, tagged: !!tag && tag !== 'latest' }).toEqual({
        image: s.image,
        tagged: true,
      });
    }
  });

  test('npm ci runs on package.json, the lock and patches/ alone, then the build script', () => {
    const steps = build.instructions.map((i) =>
      i.keyword === 'COPY' ? `COPY ${copyPaths(i).sources.join(' ')}` : `${i.keyword} ${i.args}`,
    );
    const ci = steps.findIndex((s) => /^RUN npm ci\b/.test(s));
    const buildRun = steps.indexOf('RUN npm run build');
    expect(ci).toBeGreaterThan(0);
    expect(buildRun).toBeGreaterThan(ci);
    const before = build.instructions.slice(0, ci).filter((i) => i.keyword === 'COPY');
    const early = before.flatMap((c) => copyPaths(c).sources);
    expect(early.sort()).toEqual(['package-lock.json', 'package.json', 'patches']);
    expect(pkg.scripts.postinstall).toContain('patch-package');
  });

  test('every file the build stage copies exists and is not kept out by .dockerignore', () => {
    const sources = instructionsOf(build, 'COPY').flatMap((c) => copyPaths(c).sources);
    expect(sources).toEqual(expect.arrayContaining(['src', 'modules', 'migrations']));
    for (const source of sources) {
      expect({ source, exists: existsSync(join(repoRoot, source)) }).toEqual({
        source,
        exists: true,
      });
      expect({ source, ignored: ignoredBy(dockerignore, source) }).toEqual({
        source,
        ignored: false,
      });
    }
    for (const kept of ['node_modules', 'dist', 'data', '.git', '.tmp', 'bench/results'])
      expect({ kept, ignored: ignoredBy(dockerignore, kept) }).toEqual({ kept, ignored: true });
  });

  test("the build stage's copies are all the entry point needs: its bundle resolves", () => {
    // Replays the COPYs into an empty directory, with the repository's node_modules standing
    // in for `npm ci`, and bundles the build script's entry point (no --compile: seconds, not a minute).
    const entry = pkg.scripts.build.split(/\s+/).find((w: string) => /\.ts$/.test(w));
    const dir = mkdtempSync(join(tmpdir(), 'bunshop-docker-build-'));
    try {
      const cwd = workdir(build);
      for (const copy of instructionsOf(build, 'COPY')) {
        const { sources, dest } = copyPaths(copy);
        for (const source of sources) {
          const target = join(dir, posix.relative(cwd, landing(source, dest, cwd)));
          cpSync(join(repoRoot, source), target, { recursive: true });
        }
      }
      symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
      const bundled = Bun.spawnSync(
        [process.execPath, 'build', '--target=bun', '--format=esm', entry, '--outdir', 'out'],
        { cwd: dir, stdout: 'pipe', stderr: 'pipe' },
      );
      const result = { exit: bundled.exitCode, stderr: bundled.stderr.toString() };
      expect(result).toEqual({ exit: 0, stderr: expect.any(String) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the runtime copies the build output and its entrypoint is that file', () => {
    expect(outfile).toBe('dist/bunshop');
    const { sources, dest } = copyPaths(binaryCopy);
    expect(sources).toEqual([posix.join(workdir(build), outfile!)]);
    const entrypoint = instructionsOf(runtime, 'ENTRYPOINT').at(-1)?.exec;
    expect(entrypoint).toEqual([landing(sources[0]!, dest, workdir(runtime))]);
    // Nothing else of the build reaches the image.
    expect(instructionsOf(runtime, 'COPY')).toHaveLength(1);
  });

  test('CMD is the default command the CLI knows, which fly.toml process commands replace', () => {
    const cmd = instructionsOf(runtime, 'CMD').at(-1)?.exec ?? [];
    const env = { DATA_DIR: '/data' };
    const known = allModules.map((m) => m.contract.name);
    expect(parseConfig(cmd, env, known).command).toBe('serve');
  });

  test('a non-root user owns DATA_DIR; ca-certificates for TLS; port and signal match fly.toml', () => {
    const user = instructionsOf(runtime, 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user!.split(':')[0]);
    const dataDir = instructionsOf(runtime, 'ENV')
      .map((e) => /^DATA_DIR=(\S+)$/.exec(e.args)?.[1])
      .find(Boolean);
    expect(dataDir).toBe('/data');
    const setup = runs(runtime).join('\n');
    expect(setup).toContain(`chown ${user}:${user} ${dataDir}`);
    expect(setup).toMatch(/apt-get install [^\n]*\bca-certificates\b/);
    const exposed = instructionsOf(runtime, 'EXPOSE').map((e) => Number(e.args));
    expect(exposed).toEqual([fly.http_service!.internal_port]);
    expect(exposed).toEqual([Number(fly.env.PORT)]);
    expect(instructionsOf(runtime, 'STOPSIGNAL').at(-1)?.args).toBe(fly.kill_signal);
  });
});

// The runtime base must have every library the binary links; CI builds it before `npm test`.
const binary = join(repoRoot, outfile ?? 'dist/bunshop');
const noBinary = !existsSync(binary) && !process.env.CI;
if (noBinary)
  console.warn(
    `${'!'.repeat(78)}\nSKIPPING the linkage check: no dist/bunshop (npm run build)\n${'!'.repeat(78)}`,
  );

describe('the compiled binary', () => {
  test.skipIf(noBinary)('links only glibc libraries, which debian:bookworm-slim has', () => {
    const ldd = Bun.spawnSync(['ldd', binary], { stdout: 'pipe', stderr: 'pipe' });
    expect(ldd.exitCode).toBe(0);
    const libraries = ldd.stdout
      .toString()
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0] ?? '')
      .filter((name) => name && !name.startsWith('linux-vdso'))
      .map((name) => name.split('/').at(-1)!);
    const glibc = /^(libc|libm|libpthread|libdl|librt|ld-linux-[\w-]+)\.so\.\d+$/;
    expect(libraries.filter((l) => !glibc.test(l))).toEqual([]);
    expect(libraries).toContain('libc.so.6');
  });

  // Switching to an unprivileged uid needs root (as CI is) and util-linux's setpriv.
  const setpriv = Bun.which('setpriv');
  const asRoot = process.getuid?.() === 0 && !!setpriv;
  test.skipIf(noBinary || !asRoot)(
    "runs as the image runs it: another uid, only the image's ENV, ENTRYPOINT + CMD, SIGTERM",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bunshop-image-'));
      const nobody = 65534;
      try {
        chmodSync(dir, 0o755);
        const entrypoint = instructionsOf(runtime, 'ENTRYPOINT').at(-1)!.exec!;
        const cmd = instructionsOf(runtime, 'CMD').at(-1)!.exec!;
        const app = join(dir, entrypoint[0]!);
        mkdirSync(dirname(app), { recursive: true });
        cpSync(binary, app);
        // The image's ENV, with its DATA_DIR moved under this directory, owned by that uid alone.
        const env: Record<string, string> = { PATH: '/usr/bin:/bin' };
        for (const e of instructionsOf(runtime, 'ENV')) {
          const [name, value] = e.args.split('=');
          env[name!] = name === 'DATA_DIR' ? join(dir, value!) : value!;
        }
        mkdirSync(env.DATA_DIR!, { recursive: true });
        chownSync(env.DATA_DIR!, nobody, nobody);
        const port = Bun.serve({ port: 0, fetch: () => new Response() });
        env.PORT = String(port.port);
        port.stop(true);
        const proc = Bun.spawn(
          [setpriv!, `--reuid=${nobody}`, `--regid=${nobody}`, '--clear-groups', app, ...cmd],
          { cwd: env.DATA_DIR, env, stdout: 'ignore', stderr: 'pipe' },
        );
        let status = 0;
        for (const until = Date.now() + 30_000; status !== 200 && Date.now() < until; ) {
          await Bun.sleep(250);
          status =
            (await fetch(`http://127.0.0.1:${env.PORT}/health/ready`).catch(() => null))?.status ??
            0;
        }
        proc.kill('SIGTERM');
        const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
        expect({ status, code, stderr }).toEqual({ status: 200, code: 0, stderr: '' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
