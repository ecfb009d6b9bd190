// `npm run test:e2e`: builds (or takes from the cache) the pinned control plane, starts it on
// loopback, installs the upstream CRDs, runs the scenario files with tap against it, and stops
// everything it started — on success, on failure and on SIGINT/SIGTERM.
//
//   npm run test:e2e                          every scenario
//   npm run test:e2e -- test/e2e/scenarios/x.test.ts   some of them
//   HYBRID_SECRETS_E2E_KEEP=1 npm run test:e2e          keep the run directory (logs, kubeconfig)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { startControlPlane, type ClusterState, type ControlPlane } from './harness/control-plane.ts';
import { installCrds, locateCrds } from './harness/crds.ts';
import { run } from './harness/kubectl.ts';
import { killLeftovers, onInterrupt } from './harness/processes.ts';
import { stateEnvVar } from './harness/cluster.ts';

const e2eDir = import.meta.dirname;
const repoRoot = resolve(e2eDir, '..', '..');
const log = (line: string): void => console.error(`e2e: ${line}`);

function elapsed(startMs: number): string {
  return `${((Date.now() - startMs) / 1000).toFixed(1)} s`;
}

/** Runs build.sh (progress on stderr); its last stdout line is the binaries' directory. */
async function buildControlPlane(): Promise<string> {
  const child = spawn('bash', [join(e2eDir, 'cluster', 'build.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  if (code !== 0) throw new Error(`building the control plane failed (exit ${code})`);
  const binDir = stdout.trim().split('\n').at(-1);
  if (binDir === undefined || binDir === '') throw new Error('build.sh printed no binary directory');
  return binDir;
}

async function kubernetesVersion(binDir: string): Promise<string> {
  const result = await run(join(binDir, 'kube-apiserver'), ['--version']);
  return result.stdout.trim().replace(/^Kubernetes\s+/, '');
}

function scenarioFiles(args: readonly string[]): string[] {
  if (args.length > 0) return [...args];
  const dir = join(e2eDir, 'scenarios');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.test.ts'))
    .sort()
    .map((file) => relative(repoRoot, join(dir, file)));
}

/**
 * tap's own closing line is `# { total: N, pass: N, fail: N, skip: N }`; CI reads the plain
 * `N passed, N failed, N skipped` form, so the runner restates it.
 */
function closingLine(tapOutput: string): string {
  const totals = [...tapOutput.matchAll(/^# \{ total: \d+(?<rest>[^}]*)\}$/gm)].at(-1)?.groups?.['rest'] ?? '';
  const count = (key: string): number => Number(new RegExp(`${key}: (\\d+)`).exec(totals)?.[1] ?? 0);
  const failed = count('fail') + (totals === '' ? 1 : 0);
  return `e2e: ${count('pass')} passed, ${failed} failed, ${count('skip') + count('todo')} skipped`;
}

async function main(): Promise<number> {
  const startMs = Date.now();
  const binDir = await buildControlPlane();
  log(`control plane binaries ready in ${elapsed(startMs)} (${binDir})`);
  const version = await kubernetesVersion(binDir);

  const runDir = mkdtempSync(join(tmpdir(), 'hybrid-secrets-e2e-'));
  let controlPlane: ControlPlane | undefined;
  let tap: ChildProcess | undefined;
  onInterrupt(() => {
    tap?.kill('SIGTERM');
    killLeftovers(runDir);
  });

  let exitCode = 1;
  let summary = 'e2e: 0 passed, 1 failed';
  try {
    const startClusterMs = Date.now();
    controlPlane = await startControlPlane({ binDir, runDir, kubernetesVersion: version, log });
    log(`Kubernetes ${version} control plane up in ${elapsed(startClusterMs)} (${controlPlane.state.apiServerUrl})`);

    const crds = await locateCrds(repoRoot);
    log(`CRDs from ${crds.source}`);
    await installCrds(controlPlane.state.adminKubeconfig, crds);

    const state: ClusterState = { ...controlPlane.state, crdSource: crds.source };
    const stateFile = join(runDir, 'cluster.json');
    writeFileSync(stateFile, JSON.stringify(state, null, 2));

    const files = scenarioFiles(process.argv.slice(2));
    log(`running ${files.length} scenario file(s)`);
    // One file at a time: scenarios share one cluster and one MutatingWebhookConfiguration.
    tap = spawn(
      join(repoRoot, 'node_modules', '.bin', 'tap'),
      ['--jobs=1', '--timeout=600', '--disable-coverage', '--allow-empty-coverage', ...files],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, [stateEnvVar]: stateFile } },
    );
    let output = '';
    tap.stdout?.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      output += chunk.toString();
    });
    exitCode = (await new Promise<number | null>((done) => tap?.once('exit', done))) ?? 1;
    summary = closingLine(output);
  } catch (error) {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    exitCode = 1;
  } finally {
    const leftovers = killLeftovers(runDir);
    if (leftovers.length > 0) log(`stopped processes a test file left running: ${leftovers.join(', ')}`);
    await controlPlane?.stop();
    if (exitCode === 0 && process.env['HYBRID_SECRETS_E2E_KEEP'] === undefined) {
      rmSync(runDir, { recursive: true, force: true });
    } else {
      log(`logs, kubeconfigs and the audit log are in ${runDir}`);
    }
    log(`done in ${elapsed(startMs)}`);
  }
  console.log(summary);
  return exitCode;
}

process.exitCode = await main();
