// `node bench/profile-summary.ts <file.cpuprofile> [top]`: where a `--cpu-prof` profile of the
// server spent its time — self time by function, and inclusive time by area of the code
// (our src/ folders, each dependency, Node internals), so the lesson fits in a few lines.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';

const REPO_URL = `${pathToFileURL(dirname(import.meta.dirname)).href}/`;

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly idleMs: number;
  readonly selfByFunction: readonly { readonly name: string; readonly ms: number }[];
  /** Time in frames of each area, counted once per sample even when an area recurses. */
  readonly inclusiveByArea: readonly { readonly area: string; readonly ms: number }[];
}

/** Our folders by name, dependencies by package, Node by `node:` module. */
export function areaOf(url: string): string {
  if (url === '') return '(native/VM)';
  if (url.startsWith(REPO_URL) && !url.includes('/node_modules/')) {
    const [top, second] = url.slice(REPO_URL.length).split('/');
    return second === undefined || !second.includes('.') ? `${top}/${second}` : top ?? url;
  }
  const dependency = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url.slice(url.lastIndexOf('/node_modules/')));
  if (dependency) return dependency[1] as string;
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/')[0] as string;
  return url;
}

export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (!node) return;
    totalMs += ms;
    const name = node.callFrame.functionName;
    if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') {
      if (name === '(idle)') idleMs += ms;
      self.set(name, (self.get(name) ?? 0) + ms);
      inclusive.set(name, (inclusive.get(name) ?? 0) + ms);
      return;
    }
    const label = `${name || '(anonymous)'} ${areaOf(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
    self.set(label, (self.get(label) ?? 0) + ms);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at);
      if (!frame || frame.callFrame.functionName === '(root)') continue;
      const area = areaOf(frame.callFrame.url);
      if (seen.has(area)) continue;
      seen.add(area);
      inclusive.set(area, (inclusive.get(area) ?? 0) + ms);
    }
  });
  const sorted = (map: Map<string, number>) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return {
    totalMs,
    idleMs,
    selfByFunction: sorted(self).map(([name, ms]) => ({ name, ms })),
    inclusiveByArea: sorted(inclusive).map(([area, ms]) => ({ area, ms })),
  };
}

if (import.meta.main) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node bench/profile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(top ?? 25));
  const busyMs = summary.totalMs - summary.idleMs;
  const pct = (ms: number) => `${((100 * ms) / busyMs).toFixed(1).padStart(5)}%`;
  console.log(`profile: ${(summary.totalMs / 1000).toFixed(1)} s, busy ${(busyMs / 1000).toFixed(1)} s (percentages of busy time)`);
  console.log('\ninclusive time by area:');
  for (const { area, ms } of summary.inclusiveByArea) if (area !== '(idle)') console.log(`  ${pct(ms)}  ${area}`);
  console.log('\nself time by function:');
  for (const { name, ms } of summary.selfByFunction) if (name !== '(idle)') console.log(`  ${pct(ms)}  ${name}`);
}
