// Memory with large caches: forks bench/memory-child.ts (with --expose-gc, so every figure is
// taken after a full collection) and returns its RSS / heap after each step.
import { fork } from 'node:child_process';
import { join } from 'node:path';

export interface MemoryStep {
  readonly label: string;
  readonly items: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly seconds: number;
}

export interface MemoryResult {
  readonly items: number;
  readonly steps: readonly MemoryStep[];
}

const CHILD_ENTRY = join(import.meta.dirname, 'memory-child.ts');
const TIMEOUT_MS = 180_000;

export async function runMemoryBenchmark(options: { readonly items: number }): Promise<MemoryResult> {
  const child = fork(CHILD_ENTRY, [String(options.items)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`memory benchmark did not finish within ${TIMEOUT_MS} ms`));
    }, TIMEOUT_MS);
    child.once('message', (result: MemoryResult) => {
      clearTimeout(timer);
      resolve(result);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`memory benchmark exited (code ${code}) without a result`));
    });
  });
}
