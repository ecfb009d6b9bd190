// No container engine runs here, so this checks what can be checked from the text: the image
// starts the same built output the tests run, as a numeric non-root user, with production
// dependencies only, from a build context that holds nothing else.
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import t from 'tap';
import { repoRoot } from './support/manifests.ts';

interface Instruction {
  readonly op: string;
  readonly args: string;
}
interface Stage {
  readonly from: string;
  readonly name?: string;
  readonly instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const logical = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  for (const line of logical) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { op: op.toUpperCase(), args };
    if (instruction.op === 'FROM') {
      const [, from = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push(name === undefined ? { from, instructions: [] } : { from, name, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (stage === undefined) throw new Error(`${op} before FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const final = stages.at(-1)!;
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
const buildConfig = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.build.json'), 'utf8'));
const all = (stage: Stage, op: string): string[] => stage.instructions.filter((i) => i.op === op).map((i) => i.args);
const stageNamed = (name: string): Stage | undefined => stages.find((s) => s.name === name);
const copiesFrom = (target: string): Stage | undefined => {
  const copy = all(final, 'COPY').find((a) => a.startsWith('--from=') && a.trim().split(/\s+/).at(-1)?.replace(/^\.\//, '') === target);
  return copy === undefined ? undefined : stageNamed(/^--from=(\S+)/.exec(copy)![1]!);
};

t.test('every stage is Node.js 24; the runtime is multi-stage and shell-less', async (t) => {
  t.ok(stages.length >= 2, 'multi-stage');
  for (const s of stages) t.match(s.from, /(^node:24[.-]|nodejs24)/, `${s.name ?? 'final'} stage runs Node.js 24`);
  t.same(all(final, 'RUN'), [], 'the runtime stage runs nothing (distroless has no shell)');
});

t.test('the entrypoint is the CLI that npm run build emits, running serve', async (t) => {
  const entrypoint: string[] = JSON.parse(all(final, 'ENTRYPOINT').at(-1) ?? 'null');
  t.ok(Array.isArray(entrypoint), 'exec form, so signals reach node directly');
  const workdir = all(final, 'WORKDIR').at(-1) ?? '/';
  const bin: string = pkg.bin['hybrid-secrets'];
  const script = entrypoint.find((a) => a.endsWith('.js'));
  t.equal(script && posix.relative(workdir, posix.resolve(workdir, script)), posix.normalize(bin), 'entrypoint script is package.json bin');
  t.equal(entrypoint.at(-1), 'serve');
  t.match(entrypoint[0], /node$/);

  // bin must be what tsc emits: outDir/<path under rootDir> with .ts → .js.
  const { outDir, rootDir } = buildConfig.compilerOptions;
  t.ok(bin.startsWith(`${outDir}/`), `bin lives in the build output ${outDir}/`);
  const source = join(rootDir, posix.relative(outDir, bin).replace(/\.js$/, '.ts'));
  t.ok(existsSync(join(repoRoot, source)), `${source} exists and compiles to ${bin}`);

  const builder = copiesFrom(outDir);
  t.ok(builder, `${outDir}/ is copied from a build stage`);
  t.ok(builder && all(builder, 'RUN').some((r) => r.includes('npm run build')), 'that stage runs npm run build');
  t.equal(pkg.scripts.build, 'tsc -p tsconfig.build.json', 'npm run build is the tsc build checked above');
  t.ok(all(final, 'COPY').some((a) => /^package\.json\s/.test(a)), 'package.json is present (it declares ESM)');
});

t.test('runs as a numeric non-root user', async (t) => {
  const user = all(final, 'USER').at(-1);
  t.match(user, /^\d+(:\d+)?$/, 'numeric, so the kubelet can enforce runAsNonRoot');
  t.not(Number(user?.split(':')[0]), 0, 'not root');
  t.equal(user?.split(':')[0], '65532', 'the uid the Deployment sets in runAsUser');
});

t.test('production dependencies only in the runtime', async (t) => {
  const deps = copiesFrom('node_modules');
  t.ok(deps, 'node_modules is copied from a stage');
  const installs = deps ? all(deps, 'RUN').filter((r) => /npm (ci|install)/.test(r)) : [];
  t.ok(installs.length > 0 && installs.every((r) => r.includes('--omit=dev')), 'that stage installs with --omit=dev only');
  const copies = all(final, 'COPY');
  t.notOk(copies.some((a) => /\bsrc\b|tsconfig|test|certs/.test(a)), 'no sources, tests or certificates in the runtime');
  t.equal(copies.length, 3, 'exactly node_modules, dist and package.json');
});

t.test('the build context is deny-by-default', async (t) => {
  const lines = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  t.equal(lines[0], '*', 'everything excluded first');
  const allowed = lines.slice(1).map((l) => {
    t.ok(l.startsWith('!'), `${l} only re-includes`);
    return l.slice(1).replace(/\/$/, '');
  });
  t.same(allowed.sort(), ['package-lock.json', 'package.json', 'src', 'tsconfig.build.json', 'tsconfig.json']);
  for (const stage of stages) {
    for (const copy of all(stage, 'COPY').filter((a) => !a.startsWith('--from='))) {
      for (const source of copy.split(/\s+/).slice(0, -1)) t.ok(allowed.includes(source.replace(/\/$/, '')), `${source} is in the build context`);
    }
  }
});
