// Placeholder until the serve command lands.
export async function runServe(_argv: string[]): Promise<number> {
  console.error('hybrid-secrets serve: not implemented yet');
  return 1;
}
