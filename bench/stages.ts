// What each step of a hot review costs in process, without HTTP: the JSON body parse, the review
// decoding, planning, the answer, and the whole review pipeline (recovery, metrics, log line).
// Each stage runs in a process of its own and includes the stages before it. Prints numbers;
// asserts nothing (docs/performance.md).
//   node bench/stages.ts              CPU µs per review (noisy: compare stages of one run)
//   node bench/stages.ts --callgrind  instructions per review under valgrind (repeatable, slow)
// Node 24: `export PATH=$PWD/node_modules/.bin:$PATH` first.
import { execFileSync, spawnSync } from 'node:child_process';
import { openSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openServeLogger } from '../src/cli/logger.ts';
import { planInjection } from '../src/core/plan.ts';
import { createMetrics } from '../src/metrics.ts';
import { DEFAULT_CSI_PROVIDER_NAMES } from '../src/providers/index.ts';
import { createAdmissionHandler } from '../src/server/admission.ts';
import { parseJsonBody } from '../src/server/json-body.ts';
import { decodeReview, reviewBody, type AdmissionRequest, type ReviewHandler } from '../src/server/review.ts';
import { withLogging } from '../src/server/with-logging.ts';
import { withMetrics } from '../src/server/with-metrics.ts';
import { withRecovery } from '../src/server/with-recovery.ts';
import { loadStoreCatalogFile } from '../src/stores/catalog.ts';
import { generateCorpus, loadTemplates, STORES_FILE } from './corpus.ts';

const STAGES = ['json-parse', 'body-parse', 'decode', 'plan', 'answer', 'pipeline'] as const;
type Stage = (typeof STAGES)[number];
const WARMUP = 1_000;
/** callgrind counts two runs that differ only in this many reviews; the difference is theirs. */
const CALLGRIND_RUNS = [1_000, 4_000] as const;

const { values } = parseArgs({
  options: {
    stage: { type: 'string' },
    iterations: { type: 'string', default: '20000' },
    callgrind: { type: 'boolean', default: false },
  },
});

if (values.stage === undefined) {
  for (const stage of STAGES) console.log(values.callgrind ? instructionsPerReview(stage) : cpuPerReview(stage));
} else {
  await runStage(values.stage as Stage, Number(values.iterations));
}

function cpuPerReview(stage: Stage): string {
  return execFileSync(process.execPath, [import.meta.filename, '--stage', stage, '--iterations', values.iterations], { encoding: 'utf8' }).trim();
}

function instructionsPerReview(stage: Stage): string {
  const counts = CALLGRIND_RUNS.map((iterations) => {
    const args = ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, import.meta.filename, '--stage', stage, '--iterations', String(iterations)];
    const run = spawnSync('valgrind', args, { encoding: 'utf8' });
    if (run.error !== undefined) throw new Error(`cannot run valgrind (is it installed?): ${run.error.message}`, { cause: run.error });
    // valgrind reports on stderr: "Collected : <instructions>".
    const collected = /Collected : (\d+)/.exec(run.stderr)?.[1];
    if (run.status !== 0 || collected === undefined) throw new Error(`valgrind exited with ${run.status}:\n${run.stderr}`);
    return Number(collected);
  });
  const perReview = (counts[1]! - counts[0]!) / (CALLGRIND_RUNS[1] - CALLGRIND_RUNS[0]);
  return `${stage.padEnd(12)} ${Math.round(perReview / 1000)}k instructions per review`;
}

async function runStage(stage: Stage, iterations: number): Promise<void> {
  const bodies = generateCorpus(loadTemplates(), 'hot', { seed: 20260115, workloads: 48, podsPerWorkload: 4 }).map((entry) => entry.body);
  const catalog = await loadStoreCatalogFile(STORES_FILE, { defaultNamespace: 'default' });
  const config = { csiProviderNames: DEFAULT_CSI_PROVIDER_NAMES };
  // Generated objects count as present, as on the benchmark's hot path.
  const admit = createAdmissionHandler({
    plan: (target) => planInjection(target, catalog, config),
    writer: { isCurrent: () => true, ensure: async () => {} },
    isReady: () => true,
    apiDeadlineMs: 10_000,
  });
  const logger = openServeLogger('info', openSync('/dev/null', 'w'));
  const log = logger.log.child({ reqId: 'req-1' });
  const now = () => performance.now();
  const pipeline: ReviewHandler = withLogging(
    withMetrics(withRecovery(async ({ decoded }) => admit((decoded as { request: AdmissionRequest }).request, { log })), createMetrics(), now),
    now,
  );

  const review = async (index: number): Promise<unknown> => {
    const body = bodies[index % bodies.length]!;
    if (stage === 'json-parse') return JSON.parse(body);
    const parsed = parseJsonBody(body);
    if (stage === 'body-parse') return parsed;
    const decoded = decodeReview(parsed);
    if (!decoded.ok) throw decoded.error;
    if (stage === 'decode') return decoded;
    const { request } = decoded;
    if (stage === 'plan') return planInjection({ pod: request.object!, namespace: request.namespace! }, catalog, config);
    if (stage === 'answer') return JSON.stringify(reviewBody(await admit(request, { log })));
    return JSON.stringify(reviewBody(await pipeline({ decoded, log })));
  };
  for (let i = 0; i < WARMUP; i++) await review(i);
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) await review(i);
  const used = process.cpuUsage(start);
  logger.close();
  console.log(`${stage.padEnd(12)} ${((used.user + used.system) / iterations).toFixed(1)} µs CPU per review`);
}

