// Where the HTTPS server gets its certificate: files reloaded on change (reloader.ts) or
// certificates the webhook manages itself. The server only needs the current material and
// to hear about new material; new connections then use it, open ones keep theirs.
import { createSecureContext } from 'node:tls';

export interface TlsMaterial {
  /** PEM certificate chain, serving certificate first. */
  readonly cert: string;
  /** PEM private key of the serving certificate. */
  readonly key: string;
}

export interface TlsSource {
  /** The material to serve now; undefined until the first certificate is available. */
  current(): TlsMaterial | undefined;
  /** Calls `listener` with each new material; returns a function that stops the calls. */
  subscribe(listener: (material: TlsMaterial) => void): () => void;
}

/** A TlsSource whose material is set by its owner (a file reloader, a certificate rotator, a test). */
export class TlsMaterialHolder implements TlsSource {
  #material: TlsMaterial | undefined;
  readonly #listeners = new Set<(material: TlsMaterial) => void>();

  constructor(initial?: TlsMaterial) {
    if (initial !== undefined) assertUsable(initial);
    this.#material = initial;
  }

  current(): TlsMaterial | undefined {
    return this.#material;
  }

  subscribe(listener: (material: TlsMaterial) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Replaces the material and tells every subscriber; the same material again is a no-op.
   * Throws, keeping the current material, when the pair does not load (bad PEM, key mismatch).
   */
  set(material: TlsMaterial): void {
    if (this.#material?.cert === material.cert && this.#material.key === material.key) return;
    assertUsable(material);
    this.#material = material;
    for (const listener of this.#listeners) listener(material);
  }
}

/** Throws when the certificate and key do not form a pair a TLS server can use. */
export function assertUsable(material: TlsMaterial): void {
  createSecureContext({ cert: material.cert, key: material.key });
}
