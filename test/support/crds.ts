// The pinned upstream CRDs live beside the repository in ../shared/crds (DESIGN.md §7). A
// checkout nested one level deeper (a worktree) finds them by walking up from the repository.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function sharedCrdsDir(): string {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  for (let dir = dirname(root); ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', 'crds');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new Error(`the pinned CRDs are expected at ../shared/crds beside ${root}`);
}
