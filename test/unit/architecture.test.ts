import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dir, '..', '..');

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

/** Relative import targets of a file, resolved to paths under the repository root. */
function imports(file: string, text = readFileSync(file, 'utf8')): string[] {
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((s) => relative(root, resolve(file, '..', s)));
}

/** Breaks of DESIGN.md's dependency rule: modules import only other modules' contract.ts; src imports no module. */
export function violationsOf(file: string, targets: string[]): string[] {
  const from = relative(root, file);
  const own = /^modules\/([^/]+)\//.exec(from)?.[1];
  return targets.filter((to) => {
    const other = /^modules\/([^/]+)\/(.+)$/.exec(to);
    if (!other) return false;
    if (from.startsWith('src/')) return from !== 'src/main.ts';
    return other[1] !== own && other[2] !== 'contract.ts';
  });
}

describe('dependency rule', () => {
  test('the checker catches a module importing another module internals, and src importing a module', () => {
    const fake = join(root, 'modules', 'order', 'service.ts');
    expect(violationsOf(fake, imports(fake, "import { x } from '../payment/ledger.ts';"))).toEqual([
      'modules/payment/ledger.ts',
    ]);
    expect(
      violationsOf(fake, imports(fake, "import { y } from '../payment/contract.ts';")),
    ).toEqual([]);
    const kernel = join(root, 'src', 'node.ts');
    expect(
      violationsOf(kernel, imports(kernel, "import { z } from '../modules/user/contract.ts';")),
    ).toHaveLength(1);
  });

  test('no module imports another module except its contract.ts; src/ imports no module but main.ts', () => {
    const broken: string[] = [];
    for (const dir of ['src', 'modules']) {
      for (const file of sources(join(root, dir))) {
        for (const v of violationsOf(file, imports(file)))
          broken.push(`${relative(root, file)} -> ${v}`);
      }
    }
    expect(broken).toEqual([]);
  });

  test('every module folder has the same shape', () => {
    for (const module of readdirSync(join(root, 'modules'))) {
      const files = readdirSync(join(root, 'modules', module));
      for (const required of ['contract.ts', 'schema.ts', 'service.ts', 'routes.ts', 'index.ts']) {
        expect(files).toContain(required);
      }
    }
  });
});
