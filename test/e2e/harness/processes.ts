// Child processes of the end-to-end suite: each runs in its own process group, logs to a file,
// and is stopped on teardown, on an uncaught failure and on SIGINT/SIGTERM. Every started
// process also leaves a pid file in the run directory, so the runner can stop what a crashed
// test file left behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** True until the process has exited. */
  isRunning(): boolean;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL to the whole group, as a crash would. */
  kill(): Promise<void>;
}

export interface StartOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Directory for `<name>.log` and the pid file. */
  readonly runDir: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

const running = new Set<ManagedProcess>();
const cleanups: Array<() => void | Promise<void>> = [];
let handlersInstalled = false;

/** Runs `cleanup` on SIGINT/SIGTERM/SIGHUP, before the started processes are stopped. */
export function onInterrupt(cleanup: () => void | Promise<void>): void {
  installHandlers();
  cleanups.push(cleanup);
}

function pidDir(runDir: string): string {
  return join(runDir, 'pids');
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // Last resort: synchronous, so it also runs on process.exit().
  process.on('exit', () => {
    for (const child of running) signalGroup(child.pid, 'SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      const code = 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1);
      void (async () => {
        for (const cleanup of cleanups.reverse()) {
          try {
            await cleanup();
          } catch {
            // Keep stopping the rest.
          }
        }
        await stopAll();
      })().finally(() => process.exit(code));
    });
  }
}

export function startProcess(options: StartOptions): ManagedProcess {
  installHandlers();
  const logFile = join(options.runDir, `${options.name}.log`);
  const logFd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      // A group of its own: teardown reaches grandchildren too, and a terminal's Ctrl-C reaches
      // only this process, which then stops the group in order.
      detached: true,
      stdio: ['ignore', logFd, logFd],
    });
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name}: could not start ${options.command}`);
  mkdirSync(pidDir(options.runDir), { recursive: true });
  const pidFile = join(pidDir(options.runDir), String(pid));
  writeFileSync(pidFile, `${options.name}\n`);

  let alive = true;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      alive = false;
      running.delete(managed);
      rmSync(pidFile, { force: true });
      // Stragglers in the group (a server's own children) go with their leader.
      signalGroup(pid, 'SIGKILL');
      resolve(code ?? signal ?? 'unknown');
    });
  });

  const stop = async (graceMs = 10_000): Promise<void> => {
    if (!alive) return;
    signalGroup(pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const managed: ManagedProcess = {
    name: options.name,
    pid,
    logFile,
    exited,
    isRunning: () => alive,
    stop,
    kill: async () => {
      signalGroup(pid, 'SIGKILL');
      await exited;
    },
  };
  running.add(managed);
  return managed;
}

/** Stops every process this Node.js process started, newest first. */
export async function stopAll(): Promise<void> {
  for (const child of [...running].reverse()) await child.stop();
}

/**
 * Kills process groups recorded in the run directory whose owner did not stop them (a test file
 * that crashed or was killed on timeout), except this process's own. Returns their names.
 */
export function killLeftovers(runDir: string): string[] {
  const own = new Set([...running].map((child) => child.pid));
  const names: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(pidDir(runDir));
  } catch {
    return names; // Nothing was started.
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 1 || own.has(pid)) continue;
    names.push(`${readFileSync(join(pidDir(runDir), entry), 'utf8').trim()} (${pid})`);
    signalGroup(pid, 'SIGKILL');
    rmSync(join(pidDir(runDir), entry), { force: true });
  }
  return names;
}

/** The last lines of a process log, for failure messages. */
export function logTail(logFile: string, lines = 30): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
