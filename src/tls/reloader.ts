// Serves the certificate and key from files and picks up new ones without a restart, as
// cert-manager or a mounted Secret rotates them. Kubernetes updates a mounted Secret by
// swapping a symlink in the directory, so the directories are watched, not the files; a
// slow poll backs the watch up on filesystems that drop events.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TlsMaterialHolder, assertUsable, type TlsMaterial, type TlsSource } from './source.ts';

export interface ReloaderLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface FileTlsSourceOptions {
  readonly certFile: string;
  readonly keyFile: string;
  readonly log: ReloaderLog;
  /** Re-read the files this often even without a change event; 0 disables polling. */
  readonly pollIntervalMs?: number;
  /** Watch the directories for changes (default true); without it only reload() and polling read. */
  readonly watch?: boolean;
}

export const DEFAULT_TLS_POLL_INTERVAL_MS = 60_000;

export class FileTlsSource implements TlsSource {
  readonly #options: FileTlsSourceOptions;
  readonly #holder: TlsMaterialHolder;
  readonly #watchers: FSWatcher[] = [];
  #poll: NodeJS.Timeout | undefined;
  #reloading: Promise<boolean> | undefined;
  #reloadAgain = false;

  private constructor(options: FileTlsSourceOptions, initial: TlsMaterial) {
    this.#options = options;
    this.#holder = new TlsMaterialHolder(initial);
  }

  /** Loads the files (failing with a message that names them) and starts watching them. */
  static async open(options: FileTlsSourceOptions): Promise<FileTlsSource> {
    const source = new FileTlsSource(options, await readMaterial(options.certFile, options.keyFile));
    source.#watch();
    return source;
  }

  current(): TlsMaterial | undefined {
    return this.#holder.current();
  }

  subscribe(listener: (material: TlsMaterial) => void): () => void {
    return this.#holder.subscribe(listener);
  }

  /**
   * Re-reads both files. Resolves true when new material was taken. A pair that does not
   * load (a half-written rotation, a key that does not match) keeps the current material;
   * the next change event retries.
   */
  reload(): Promise<boolean> {
    if (this.#reloading !== undefined) {
      // Events arrive in bursts during a rotation; read once more after the current read.
      this.#reloadAgain = true;
      return this.#reloading;
    }
    this.#reloading = this.#readAndSet().finally(() => {
      this.#reloading = undefined;
      if (this.#reloadAgain) {
        this.#reloadAgain = false;
        void this.reload();
      }
    });
    return this.#reloading;
  }

  close(): void {
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers.length = 0;
    if (this.#poll !== undefined) clearInterval(this.#poll);
    this.#poll = undefined;
  }

  async #readAndSet(): Promise<boolean> {
    const { certFile, keyFile, log } = this.#options;
    try {
      const material = await readMaterial(certFile, keyFile);
      const before = this.#holder.current();
      if (before?.cert === material.cert && before.key === material.key) return false;
      this.#holder.set(material);
      log.info({ certFile, keyFile }, 'TLS certificate reloaded');
      return true;
    } catch (error) {
      log.warn({ certFile, keyFile, error: (error as Error).message }, 'TLS files not reloaded; keeping the current certificate');
      return false;
    }
  }

  #watch(): void {
    const { certFile, keyFile, log } = this.#options;
    const directories = this.#options.watch === false ? [] : new Set([dirname(certFile), dirname(keyFile)]);
    for (const directory of directories) {
      const watcher = watch(directory, { persistent: false }, () => void this.reload());
      watcher.on('error', (error) => log.warn({ directory, error: error.message }, 'TLS directory watch failed; polling only'));
      this.#watchers.push(watcher);
    }
    const pollIntervalMs = this.#options.pollIntervalMs ?? DEFAULT_TLS_POLL_INTERVAL_MS;
    if (pollIntervalMs > 0) {
      this.#poll = setInterval(() => void this.reload(), pollIntervalMs);
      this.#poll.unref();
    }
  }
}

/** Reads a certificate and key and checks they form a usable pair; errors name the files. */
export async function readMaterial(certFile: string, keyFile: string): Promise<TlsMaterial> {
  const [cert, key] = await Promise.all([readText(certFile, '--tls-cert-file'), readText(keyFile, '--tls-key-file')]);
  try {
    assertUsable({ cert, key });
  } catch (error) {
    throw new Error(`TLS certificate ${certFile} and key ${keyFile} do not form a usable pair: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { cert, key };
}

async function readText(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${flag} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      cause: error,
    });
  }
}
