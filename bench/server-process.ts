// Parent side of bench/target.ts: forks a server under test and asks it for its port and stats.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { CertificateKeyPair } from '../src/tls/certificates.ts';
import type { Target } from './report.ts';
import type { ChildMessage, ParentMessage, ServerStats } from './target.ts';

const TARGET_ENTRY = join(import.meta.dirname, 'target.ts');
const START_TIMEOUT_MS = 30_000;
const REPLY_TIMEOUT_MS = 10_000;

export interface ServerProcessOptions {
  readonly target: Target;
  readonly serving: CertificateKeyPair;
  readonly caPem: string;
  readonly storesFile: string;
  /** For `other-app`: the checkout whose `serve` to run. */
  readonly compareWith?: string;
  /** Extra node flags for the child, e.g. `--cpu-prof`. */
  readonly execArgv?: readonly string[];
}

export class ServerProcess {
  readonly target: Target;
  readonly port: number;
  readonly #child: ChildProcess;

  private constructor(target: Target, port: number, child: ChildProcess) {
    this.target = target;
    this.port = port;
    this.#child = child;
  }

  static async start(options: ServerProcessOptions): Promise<ServerProcess> {
    const child = fork(TARGET_ENTRY, [], {
      execArgv: [...(options.execArgv ?? [])],
      // The server's logs are part of its cost but not of the report.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    try {
      const started = await nextMessage(child, START_TIMEOUT_MS, () =>
        send(child, {
          type: 'start',
          target: options.target,
          serving: options.serving,
          caPem: options.caPem,
          storesFile: options.storesFile,
          ...(options.compareWith === undefined ? {} : { compareWith: options.compareWith }),
        }),
      );
      if (started.type === 'failed') throw new Error(`${options.target} did not start: ${started.message}`);
      if (started.type !== 'listening') throw new Error(`${options.target} answered ${started.type} to start`);
      return new ServerProcess(options.target, started.port, child);
    } catch (error) {
      child.kill();
      throw error;
    }
  }

  async stats(): Promise<ServerStats> {
    const reply = await nextMessage(this.#child, REPLY_TIMEOUT_MS, () => send(this.#child, { type: 'stats' }));
    if (reply.type !== 'stats') throw new Error(`${this.target} answered ${reply.type} to stats`);
    return reply.stats;
  }

  /** Asks the server to close and exit; kills it if it does not within the timeout. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    send(child, { type: 'stop' });
    const timer = setTimeout(() => child.kill(), REPLY_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}

function send(child: ChildProcess, message: ParentMessage): void {
  child.send(message);
}

function nextMessage(child: ChildProcess, timeoutMs: number, trigger: () => void): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: ChildMessage) => {
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`server process exited (code ${code}, signal ${signal})`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`server process did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.on('exit', onExit);
    trigger();
  });
}
