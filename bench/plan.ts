// What one benchmark run does, from its command-line flags. Pure, so it is unit-tested.
import { parseArgs } from 'node:util';
import { CORPUS_CLASSES, type CorpusClass } from './corpus.ts';
import { OTHER_APP, TARGETS, type Target } from './report.ts';

export interface Plan {
  readonly mode: 'quick' | 'full';
  readonly profile: boolean;
  readonly targets: readonly Target[];
  /** Concurrency levels per class; an empty list skips the class. */
  readonly connections: Readonly<Record<CorpusClass, readonly number[]>>;
  readonly phaseSeconds: number;
  readonly warmupSeconds: number;
  /** Each phase runs as this many slices of `phaseSeconds`, alternating between the servers. */
  readonly rounds: number;
  /** Stores and generated object pairs in the memory measurement; 0 skips it. */
  readonly memoryItems: number;
  /** 0 skips the soak. */
  readonly soakSeconds: number;
  /** Another checkout of the project whose `serve` runs as `other-app` (before/after comparisons). */
  readonly compareWith?: string;
}

export const PLANS: Readonly<Record<Plan['mode'], Plan>> = {
  quick: {
    mode: 'quick',
    profile: false,
    targets: TARGETS,
    connections: { hot: [1, 8, 32], invalid: [8], unselected: [8] },
    phaseSeconds: 1.2,
    warmupSeconds: 2,
    rounds: 3,
    memoryItems: 10_000,
    soakSeconds: 0,
  },
  full: {
    mode: 'full',
    profile: false,
    targets: TARGETS,
    connections: { hot: [1, 8, 32, 64], invalid: [1, 8, 32], unselected: [1, 8, 32] },
    phaseSeconds: 4,
    warmupSeconds: 5,
    rounds: 5,
    memoryItems: 10_000,
    soakSeconds: 300,
  },
};

const MAX_CONNECTIONS = 256;
const MAX_SOAK_SECONDS = 3_600;

export const USAGE = `usage: npm run bench [-- options]
  --quick (default) | --full    quick: under two minutes; full: more levels, longer phases, 5-minute soak
  --profile                     one 10 s hot-path phase per server under node --cpu-prof
  --targets a,b                 servers: ${TARGETS.join(', ')}
  --classes a,b                 corpus classes: ${CORPUS_CLASSES.join(', ')}
  --connections n,m             concurrency levels for the chosen classes (1–${MAX_CONNECTIONS})
  --no-memory                   skip the memory measurement
  --soak-seconds n              soak for n seconds (1–${MAX_SOAK_SECONDS})
  --compare-with dir            also run dir's serve (another checkout, npm ci done) as ${OTHER_APP}`;

/** The plan the flags ask for; throws an Error naming the flag when a value is not allowed. */
export function planFromArgs(args: readonly string[]): Plan {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      targets: { type: 'string' },
      classes: { type: 'string' },
      connections: { type: 'string' },
      'no-memory': { type: 'boolean', default: false },
      'soak-seconds': { type: 'string' },
      'compare-with': { type: 'string' },
    },
  });
  if (values.quick && values.full) throw new Error('--quick and --full exclude each other');
  let plan: Plan = PLANS[values.full ? 'full' : 'quick'];
  if (values.profile) {
    plan = { ...plan, profile: true, connections: { hot: [8], invalid: [], unselected: [] }, phaseSeconds: 10, rounds: 1, memoryItems: 0, soakSeconds: 0 };
  }
  if (values.targets !== undefined) plan = { ...plan, targets: listOf('--targets', values.targets, TARGETS) };
  const classes = values.classes === undefined ? undefined : listOf('--classes', values.classes, CORPUS_CLASSES);
  const connections = values.connections === undefined ? undefined : values.connections.split(',').map((text) => integerIn('--connections', text, 1, MAX_CONNECTIONS));
  if (classes !== undefined || connections !== undefined) {
    const levels = (c: CorpusClass) => ((classes ?? CORPUS_CLASSES).includes(c) ? (connections ?? plan.connections[c]) : []);
    plan = { ...plan, connections: { hot: levels('hot'), invalid: levels('invalid'), unselected: levels('unselected') } };
  }
  if (values['no-memory']) plan = { ...plan, memoryItems: 0 };
  if (values['soak-seconds'] !== undefined) plan = { ...plan, soakSeconds: integerIn('--soak-seconds', values['soak-seconds'], 1, MAX_SOAK_SECONDS) };
  const compareWith = values['compare-with'];
  if (compareWith !== undefined) {
    if (compareWith.trim() === '') throw new Error('--compare-with: give the directory of another checkout');
    plan = { ...plan, targets: [...plan.targets, OTHER_APP], compareWith };
  }
  return plan;
}

function listOf<T extends string>(flag: string, text: string, allowed: readonly T[]): T[] {
  const items = text.split(',').map((item) => item.trim());
  const unknown = items.filter((item) => !(allowed as readonly string[]).includes(item));
  if (unknown.length > 0 || items.length === 0) throw new Error(`${flag}: unknown ${unknown.join(', ')}; choose from ${allowed.join(', ')}`);
  return items as T[];
}

function integerIn(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) throw new Error(`${flag}: ${JSON.stringify(text)} is not a whole number from ${min} to ${max}`);
  return value;
}
