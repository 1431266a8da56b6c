/**
 * A small Dockerfile reader for the deploy tests: instructions (continuations joined, comments
 * dropped) grouped into stages, and the .dockerignore rules. It reads the subset of the syntax
 * the repository's files use, and throws on what it does not know rather than guess.
 */

export interface Instruction {
  keyword: string;
  /** The text after the keyword, continuations joined. */
  args: string;
  /** Exec form (`["a", "b"]`) parsed, else undefined. */
  exec?: string[];
  /** `--name=value` options in front of the arguments (COPY --from, --chown). */
  flags: Record<string, string>;
  /** The arguments after the flags, split on whitespace (shell form). */
  words: string[];
}

export interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const line of logical) {
    const match = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) throw new Error(`Dockerfile: cannot read line: ${line}`);
    const keyword = match[1]!.toUpperCase();
    const args = match[2]!.trim();
    const exec = args.startsWith('[') ? (JSON.parse(args) as string[]) : undefined;
    const words = args.split(/\s+/);
    const flags: Record<string, string> = {};
    while (words[0]?.startsWith('--')) {
      const [name, value = ''] = words.shift()!.slice(2).split('=');
      flags[name!] = value;
    }
    const instruction = { keyword, args, exec, flags, words };
    if (keyword === 'FROM') {
      const [image, as, name] = words;
      if (!image || (as !== undefined && (as.toUpperCase() !== 'AS' || !name)))
        throw new Error(`Dockerfile: cannot read FROM ${args}`);
      stages.push({ image, name, instructions: [] });
    } else if (!stages.length) {
      throw new Error(`Dockerfile: ${keyword} before the first FROM`);
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return stages;
}

/** The instructions of one kind in a stage. */
export const instructionsOf = (stage: Stage, keyword: string) =>
  stage.instructions.filter((i) => i.keyword === keyword);

/** COPY's sources and destination (shell form; the repository uses no exec-form COPY). */
export function copyPaths(copy: Instruction): { sources: string[]; dest: string } {
  if (copy.exec) throw new Error('Dockerfile: exec-form COPY is not read here');
  return { sources: copy.words.slice(0, -1), dest: copy.words.at(-1)! };
}

/** Whether .dockerignore keeps `path` (repository-relative) out of the build context. */
export function ignoredBy(dockerignore: string, path: string): boolean {
  const rules = dockerignore
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  // A rule excludes a path and everything under it; the last matching rule wins, as in Docker.
  const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    const negated = rule.startsWith('!');
    const pattern = globToRegExp(negated ? rule.slice(1) : rule);
    if (prefixes.some((p) => pattern.test(p))) ignored = !negated;
  }
  return ignored;
}

function globToRegExp(glob: string): RegExp {
  if (/[[\]\\]/.test(glob)) throw new Error(`.dockerignore: pattern not read here: ${glob}`);
  const body = glob
    .replace(/^\/+|\/+$/g, '')
    .split('**/')
    .map((part) =>
      part
        .split('')
        .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|]/g, '\\$&')))
        .join(''),
    )
    .join('(?:.*/)?');
  return new RegExp(`^${body}$`);
}
