// Placeholder until the inject command lands.
export async function runInject(_argv: string[]): Promise<number> {
  console.error('hybrid-secrets inject: not implemented yet');
  return 1;
}
