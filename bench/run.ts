// `npm run bench [-- options]`: the admission benchmark (docs/performance.md).
// Forks the baseline and the webhook as separate server processes, checks that each corpus
// class takes the path it is named for, loads every (class, concurrency, server) phase with
// autocannon, then measures memory with large caches and (full mode) soaks. Prints a table and
// writes everything to bench/results/<timestamp>.json.
//   --quick (default) | --full    plan: quick is under two minutes; full adds rounds and a soak
//   --profile                     one 10 s hot-path phase per server under `node --cpu-prof`
//   --targets a,b  --classes a,b  --connections 1,8  --no-memory    narrow a run while iterating
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createWebhookCertificates } from '../src/tls/certificates.ts';
import { CORPUS_CLASSES, STORES_FILE, generateCorpus, loadTemplates, type CorpusClass, type CorpusEntry } from './corpus.ts';
import { runLoad, sendReview } from './load.ts';
import { runMemoryBenchmark, type MemoryResult } from './memory.ts';
import { formatTable, formatVerdicts, median, type PhaseResult, type Target } from './report.ts';
import { ServerProcess } from './server-process.ts';
import { runSoak, type SoakResult } from './soak.ts';

export const RESULTS_DIR = join(import.meta.dirname, 'results');

interface Plan {
  readonly mode: 'quick' | 'full';
  readonly targets: readonly Target[];
  /** Concurrency levels per class. */
  readonly connections: Readonly<Record<CorpusClass, readonly number[]>>;
  readonly phaseSeconds: number;
  readonly warmupSeconds: number;
  /** Each phase runs this many times, interleaved; the table shows the median round. */
  readonly rounds: number;
  readonly memoryItems: number;
  readonly soakSeconds: number;
}

const PLANS: Record<Plan['mode'], Plan> = {
  quick: {
    mode: 'quick',
    targets: ['baseline', 'app', 'app+kube-writer'],
    connections: { hot: [1, 8, 32], invalid: [8], unselected: [8] },
    phaseSeconds: 3,
    warmupSeconds: 2,
    rounds: 1,
    memoryItems: 10_000,
    soakSeconds: 0,
  },
  full: {
    mode: 'full',
    targets: ['baseline', 'app', 'app+kube-writer'],
    connections: { hot: [1, 8, 32, 64], invalid: [1, 8, 32], unselected: [1, 8, 32] },
    phaseSeconds: 8,
    warmupSeconds: 5,
    rounds: 3,
    memoryItems: 10_000,
    soakSeconds: 300,
  },
};

const CORPUS_OPTIONS = { seed: 20260115, workloads: 48, podsPerWorkload: 4 } as const;

interface Check {
  readonly target: Target;
  readonly class: CorpusClass;
  readonly reviews: number;
  readonly mismatches: readonly string[];
}

/** Does the answer show the path the class is named for? An empty string means yes. */
function mismatch(entry: CorpusEntry, answer: Awaited<ReturnType<typeof sendReview>>): string {
  const { statusCode, response } = answer;
  const what = `${entry.class} ${entry.workload}${entry.violation ? ` (${entry.violation})` : ''}`;
  if (statusCode !== 200) return `${what}: HTTP ${statusCode}`;
  if (response.uid !== entry.uid) return `${what}: uid not echoed`;
  switch (entry.class) {
    case 'hot':
      return response.allowed === true && response.patch ? '' : `${what}: expected a patch, got ${JSON.stringify(response)}`;
    case 'invalid':
      return response.allowed === false ? '' : `${what}: expected a denial, got allowed`;
    case 'unselected':
      return response.allowed === true && !response.patch ? '' : `${what}: expected allowed without patch`;
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      targets: { type: 'string' },
      classes: { type: 'string' },
      connections: { type: 'string' },
      'no-memory': { type: 'boolean', default: false },
    },
  });
  const classes = values.classes ? (values.classes.split(',') as CorpusClass[]) : CORPUS_CLASSES;
  const connections = values.connections?.split(',').map(Number);
  let plan: Plan = {
    ...PLANS[values.full ? 'full' : 'quick'],
    // Profiling: one long hot-path phase per server, nothing else.
    ...(values.profile ? { connections: { hot: [8], invalid: [], unselected: [] }, phaseSeconds: 10, memoryItems: 0, soakSeconds: 0 } : {}),
    ...(values.targets ? { targets: values.targets.split(',') as Target[] } : {}),
    ...(values['no-memory'] ? { memoryItems: 0 } : {}),
  };
  if (values.classes || connections) {
    plan = {
      ...plan,
      connections: Object.fromEntries(CORPUS_CLASSES.map((c) => [c, classes.includes(c) ? (connections ?? plan.connections[c]) : []])) as Plan['connections'],
    };
  }
  const startedAt = new Date();
  const machine = {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    totalMemoryBytes: totalmem(),
    loadAverageAtStart: loadavg(),
  };
  console.log(`admission benchmark, ${plan.mode} mode — ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, load average ${machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}`);

  const templates = loadTemplates();
  const corpus = Object.fromEntries(CORPUS_CLASSES.map((c) => [c, generateCorpus(templates, c, CORPUS_OPTIONS)])) as Record<CorpusClass, CorpusEntry[]>;
  const { ca, serving } = await createWebhookCertificates({ service: 'hybrid-secrets', namespace: 'hybrid-secrets', now: startedAt });

  const profileDir = join(RESULTS_DIR, `profile-${stamp(startedAt)}`);
  const servers: ServerProcess[] = [];
  const results: PhaseResult[] = [];
  const checks: Check[] = [];
  let memory: MemoryResult | undefined;
  let soak: SoakResult | undefined;
  try {
    for (const target of plan.targets) {
      const execArgv = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
      servers.push(await ServerProcess.start({ target, serving, storesFile: STORES_FILE, execArgv }));
    }
    for (const server of servers) {
      if (server.target === 'baseline') continue;
      for (const cls of CORPUS_CLASSES) {
        const mismatches: string[] = [];
        for (const entry of corpus[cls]) {
          const problem = mismatch(entry, await sendReview(server.port, ca.certPem, entry.body));
          if (problem) mismatches.push(problem);
        }
        checks.push({ target: server.target, class: cls, reviews: corpus[cls].length, mismatches });
        if (mismatches.length > 0) {
          console.warn(`${server.target}, ${cls}: ${mismatches.length}/${corpus[cls].length} reviews took another path, e.g.\n  ${mismatches.slice(0, 3).join('\n  ')}`);
        }
      }
    }
    for (const server of servers) {
      await runLoad({ port: server.port, bodies: bodiesOf(corpus.hot), connections: 8, durationSeconds: plan.warmupSeconds });
    }

    const firstWebhook = servers.find((s) => s.target !== 'baseline');
    const rounds: PhaseResult[] = [];
    for (let round = 0; round < plan.rounds; round++) {
      for (const cls of CORPUS_CLASSES) {
        for (const connections of plan.connections[cls]) {
          // Alternate the order between rounds so neither server always runs first.
          const ordered = round % 2 === 0 ? servers : [...servers].reverse();
          for (const server of ordered) {
            // The writer only matters on the hot path: other classes run against one webhook.
            if (cls !== 'hot' && server.target !== 'baseline' && server !== firstWebhook) continue;
            const phase = await measurePhase(server, cls, connections, bodiesOf(corpus[cls]), plan.phaseSeconds);
            rounds.push(phase);
            console.log(`  ${cls.padEnd(10)} ${String(connections).padStart(3)} conns  ${server.target.padEnd(18)} ${phase.requestsPerSecond.toFixed(0).padStart(6)} req/s  p99 ${phase.latency.p99Ms.toFixed(2)} ms`);
          }
        }
      }
    }
    results.push(...medianRounds(rounds));

    if (plan.memoryItems > 0) memory = await runMemoryBenchmark({ items: plan.memoryItems });
    if (plan.soakSeconds > 0) {
      const app = servers.find((s) => s.target === 'app');
      const hotMax = Math.max(...results.filter((r) => r.target === 'app' && r.class === 'hot').map((r) => r.requestsPerSecond));
      if (app) soak = await runSoak({ server: app, bodies: bodiesOf(corpus.hot), requestsPerSecond: Math.round(hotMax / 2), durationSeconds: plan.soakSeconds });
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }

  const table = formatTable(results);
  console.log(`\n${table}\n`);
  for (const verdict of formatVerdicts(results)) console.log(verdict);
  if (memory) console.log(formatMemory(memory));
  if (soak) console.log(`soak: ${soak.requestsPerSecond} req/s for ${soak.durationSeconds} s, RSS ${mib(soak.firstMinuteMedianRssBytes)} → ${mib(soak.lastMinuteMedianRssBytes)} MiB (median of first / last minute)`);

  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${stamp(startedAt)}.json`);
  writeFileSync(file, `${JSON.stringify({ startedAt, plan, machine, corpus: corpusSummary(corpus), checks, results, rounds: plan.rounds, memory, soak, table }, null, 2)}\n`);
  console.log(`results: ${file}`);
  if (values.profile) {
    for (const name of readdirSync(profileDir)) {
      console.log(`\nCPU profile ${join(profileDir, name)} (summary: node bench/profile-summary.ts <file>)`);
    }
  }
  const failedChecks = checks.filter((c) => c.mismatches.length > 0);
  return failedChecks.length > 0 ? 1 : 0;
}

async function measurePhase(server: ServerProcess, cls: CorpusClass, connections: number, bodies: readonly string[], seconds: number): Promise<PhaseResult> {
  const before = await server.stats();
  const load = await runLoad({ port: server.port, bodies, connections, durationSeconds: seconds });
  const after = await server.stats();
  return {
    target: server.target,
    class: cls,
    connections,
    ...load,
    serverCpuMs: (after.cpuUserMicros - before.cpuUserMicros + after.cpuSystemMicros - before.cpuSystemMicros) / 1000,
    serverPeakRssBytes: after.peakRssBytes,
  };
}

/** Per (class, connections, target): the round with the median throughput. */
function medianRounds(rounds: readonly PhaseResult[]): PhaseResult[] {
  const groups = new Map<string, PhaseResult[]>();
  for (const r of rounds) {
    const key = `${r.class}/${r.connections}/${r.target}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((group) => {
    const m = median(group.map((r) => r.requestsPerSecond));
    return group.find((r) => r.requestsPerSecond === m) as PhaseResult;
  });
}

function bodiesOf(entries: readonly CorpusEntry[]): string[] {
  return entries.map((e) => e.body);
}

function corpusSummary(corpus: Record<CorpusClass, CorpusEntry[]>) {
  return {
    options: CORPUS_OPTIONS,
    classes: Object.fromEntries(
      CORPUS_CLASSES.map((c) => {
        const bytes = corpus[c].map((e) => e.body.length);
        return [c, { reviews: corpus[c].length, medianBodyBytes: median(bytes), maxBodyBytes: Math.max(...bytes) }];
      }),
    ),
  };
}

function formatMemory(memory: MemoryResult): string {
  return memory.steps.map((s) => `memory: ${s.label}: RSS ${mib(s.rssBytes)} MiB, heap ${mib(s.heapUsedBytes)} MiB`).join('\n');
}

function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

function stamp(date: Date): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

process.exitCode = await main();
