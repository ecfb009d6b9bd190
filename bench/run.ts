// `npm run bench [-- options]`: the admission benchmark (docs/performance.md; options in plan.ts).
// Forks the baseline and the webhook as separate server processes, checks that each corpus
// class takes the path it is named for, loads every (class, concurrency, server) phase with
// autocannon, then measures memory with large caches and (full mode) soaks. Prints a table and
// writes everything to bench/results/<timestamp>.json.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createWebhookCertificates } from '../src/tls/certificates.ts';
import { CORPUS_CLASSES, STORES_FILE, generateCorpus, loadTemplates, type CorpusClass, type CorpusEntry } from './corpus.ts';
import { reviewAgent, runLoad, sendReview } from './load.ts';
import { runMemoryBenchmark, type MemoryResult } from './memory.ts';
import { formatTable, formatVerdicts, median, summarizeLatency, type PhaseResult, type Target } from './report.ts';
import { planFromArgs, USAGE, type Plan } from './plan.ts';
import { ServerProcess } from './server-process.ts';
import { runSoak, type SoakResult } from './soak.ts';

export const RESULTS_DIR = join(import.meta.dirname, 'results');

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
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  let plan: Plan;
  try {
    plan = planFromArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (plan.compareWith !== undefined) {
    const checkout = resolve(plan.compareWith);
    if (!existsSync(join(checkout, 'src', 'cli', 'serve.ts')) || !existsSync(join(checkout, 'node_modules'))) {
      console.error(`bench: --compare-with: ${checkout} is not a checkout of this project with its dependencies installed (src/cli/serve.ts, node_modules)`);
      return 2;
    }
    plan = { ...plan, compareWith: checkout };
  }
  const startedAt = new Date();
  const progress = (what: string) => console.log(`[${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s] ${what}`);
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
      const execArgv = plan.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
      const compareWith = plan.compareWith === undefined ? {} : { compareWith: plan.compareWith };
      servers.push(await ServerProcess.start({ target, serving, caPem: ca.certPem, storesFile: STORES_FILE, execArgv, ...compareWith }));
    }
    for (const server of servers) {
      if (server.target !== 'baseline') checks.push(...(await checkCorpus(server, corpus, ca.certPem)));
    }
    progress(`checked every corpus review against ${checks.length / CORPUS_CLASSES.length} webhook server(s)`);
    for (const server of servers) {
      await runLoad({ port: server.port, bodies: bodiesOf(corpus.hot), connections: 8, durationSeconds: plan.warmupSeconds });
    }
    progress('warmed up');

    const firstWebhook = servers.find((s) => s.target !== 'baseline');
    for (const cls of CORPUS_CLASSES) {
      // The writer only matters on the hot path: other classes run against one webhook.
      const phaseServers = servers.filter((s) => cls === 'hot' || s.target === 'baseline' || s === firstWebhook);
      for (const connections of plan.connections[cls]) {
        const phases = await measureInterleaved(phaseServers, cls, connections, bodiesOf(corpus[cls]), plan);
        results.push(...phases);
        for (const phase of phases) {
          console.log(`  ${cls.padEnd(10)} ${String(connections).padStart(3)} conns  ${phase.target.padEnd(16)} ${phase.requestsPerSecond.toFixed(0).padStart(6)} req/s  p99 ${phase.latency.p99Ms.toFixed(2)} ms`);
        }
      }
    }

    if (plan.memoryItems > 0) {
      memory = await runMemoryBenchmark({ items: plan.memoryItems });
      progress('memory measured');
    }
    if (plan.soakSeconds > 0) {
      soak = await soakOne(servers, results, corpus.hot, plan.soakSeconds);
      if (soak) progress('soaked');
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }

  const table = formatTable(results);
  console.log(`\n${table}\n`);
  for (const verdict of formatVerdicts(results)) console.log(verdict);
  if (memory) console.log(formatMemory(memory));
  if (soak) {
    console.log(
      `soak (${soak.target}): ${soak.requestsPerSecond} req/s for ${soak.durationSeconds} s, ` +
        `RSS ${mib(soak.firstMinuteMedianRssBytes)} → ${mib(soak.lastMinuteMedianRssBytes)} MiB (median of first / last minute), ` +
        `lowest heap use per minute ${soak.heapUsedMinimumPerMinuteBytes.map(mib).join(', ')} MiB`,
    );
  }

  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${stamp(startedAt)}.json`);
  writeFileSync(file, `${JSON.stringify({ startedAt, plan, machine, corpus: corpusSummary(corpus), checks, results, memory, soak, table }, null, 2)}\n`);
  console.log(`results: ${file}`);
  if (plan.profile) {
    for (const name of readdirSync(profileDir)) {
      console.log(`\nCPU profile ${join(profileDir, name)} (summary: node bench/profile-summary.ts <file>)`);
    }
  }
  const failedChecks = checks.filter((c) => c.mismatches.length > 0);
  return failedChecks.length > 0 ? 1 : 0;
}

/** Sends every review once and checks it takes the path its class is named for. */
async function checkCorpus(server: ServerProcess, corpus: Record<CorpusClass, CorpusEntry[]>, caPem: string): Promise<Check[]> {
  const agent = reviewAgent(caPem);
  const checks: Check[] = [];
  try {
    for (const cls of CORPUS_CLASSES) {
      const mismatches: string[] = [];
      for (const entry of corpus[cls]) {
        const problem = mismatch(entry, await sendReview(server.port, agent, entry.body));
        if (problem) mismatches.push(problem);
      }
      checks.push({ target: server.target, class: cls, reviews: corpus[cls].length, mismatches });
      if (mismatches.length > 0) {
        console.warn(`${server.target}, ${cls}: ${mismatches.length}/${corpus[cls].length} reviews took another path, e.g.\n  ${mismatches.slice(0, 3).join('\n  ')}`);
      }
    }
  } finally {
    agent.destroy();
  }
  return checks;
}

/**
 * Soaks the cluster writer (it holds the most state: caches, in-flight writes), else the
 * standalone app, at half the hot-path throughput it reached in this run.
 */
async function soakOne(servers: readonly ServerProcess[], results: readonly PhaseResult[], hot: readonly CorpusEntry[], seconds: number): Promise<SoakResult | undefined> {
  const server = servers.find((s) => s.target === 'app+kube-writer') ?? servers.find((s) => s.target === 'app');
  const measured = results.filter((r) => r.target === server?.target && r.class === 'hot').map((r) => r.requestsPerSecond);
  if (!server || measured.length === 0) {
    console.warn('soak skipped: it needs a webhook server and a hot-path phase to set its rate');
    return undefined;
  }
  const requestsPerSecond = Math.max(1, Math.round(Math.max(...measured) / 2));
  return runSoak({ server, bodies: bodiesOf(hot), requestsPerSecond, durationSeconds: seconds });
}

/**
 * One phase per server, measured in `plan.rounds` short slices that alternate between the
 * servers, so a change in the machine's load hits every server alike. Latencies of all slices
 * are pooled before the percentiles are taken.
 */
async function measureInterleaved(
  servers: readonly ServerProcess[],
  cls: CorpusClass,
  connections: number,
  bodies: readonly string[],
  plan: Plan,
): Promise<PhaseResult[]> {
  const totals = new Map(servers.map((s) => [s, { latenciesMs: [] as number[], durationMs: 0, non2xx: 0, errors: 0, timeouts: 0, cpuMs: 0, peakRssBytes: 0 }]));
  for (let round = 0; round < plan.rounds; round++) {
    for (const server of round % 2 === 0 ? servers : [...servers].reverse()) {
      const total = totals.get(server) as NonNullable<ReturnType<typeof totals.get>>;
      const before = await server.stats();
      const load = await runLoad({ port: server.port, bodies, connections, durationSeconds: plan.phaseSeconds });
      const after = await server.stats();
      for (const ms of load.latenciesMs) total.latenciesMs.push(ms);
      total.durationMs += load.durationMs;
      total.non2xx += load.non2xx;
      total.errors += load.errors;
      total.timeouts += load.timeouts;
      total.cpuMs += (after.cpuUserMicros - before.cpuUserMicros + after.cpuSystemMicros - before.cpuSystemMicros) / 1000;
      total.peakRssBytes = after.peakRssBytes;
    }
  }
  return servers.map((server) => {
    const total = totals.get(server) as NonNullable<ReturnType<typeof totals.get>>;
    return {
      target: server.target,
      class: cls,
      connections,
      durationMs: total.durationMs,
      requests: total.latenciesMs.length,
      requestsPerSecond: total.durationMs > 0 ? (total.latenciesMs.length * 1000) / total.durationMs : 0,
      latency: summarizeLatency(total.latenciesMs),
      non2xx: total.non2xx,
      errors: total.errors,
      timeouts: total.timeouts,
      serverCpuMs: total.cpuMs,
      serverPeakRssBytes: total.peakRssBytes,
    };
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
