// Placeholder until the certs command lands.
export async function runCerts(_argv: string[]): Promise<number> {
  console.error('hybrid-secrets certs: not implemented yet');
  return 1;
}
