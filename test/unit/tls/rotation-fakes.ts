// In-memory TLS Secret and caBundle for the rotation tests.
import type { CaBundlePublisher, TlsSecretStore } from '../../../src/tls/rotator.ts';

export class FakeSecretStore implements TlsSecretStore {
  data: Record<string, string> = {};
  version = 1;
  writes = 0;
  /** Runs just before a write is checked, e.g. to simulate another writer. */
  beforeWrite: () => void = () => {};
  onChange: () => void = () => {};
  failReads = false;

  async read(): Promise<{ data: Record<string, string>; resourceVersion: string }> {
    if (this.failReads) throw new Error('connection refused');
    return { data: { ...this.data }, resourceVersion: String(this.version) };
  }

  async write(data: Readonly<Record<string, string>>, resourceVersion: string): Promise<boolean> {
    this.beforeWrite();
    if (resourceVersion !== String(this.version)) return false;
    this.data = { ...data };
    this.version++;
    this.writes++;
    this.onChange();
    return true;
  }
}

export class FakePublisher implements CaBundlePublisher {
  bundle: string | undefined;
  publishes = 0;
  onChange: () => void = () => {};

  async read(): Promise<string | undefined> {
    return this.bundle;
  }

  async publish(bundlePem: string): Promise<void> {
    this.bundle = bundlePem;
    this.publishes++;
    this.onChange();
  }
}
