#!/usr/bin/env node
// The `orchestrator` command (package.json `bin`, `npx orchestrator`). The CLI is TypeScript run by Node's own
// type stripping (Node >= 22.18); an older Node (the system's v20) hands over to the Node this project pins in
// its `node` devDependency, with the same arguments, standard streams and exit code.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'cli', 'main.ts');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major > 22 || (major === 22 && minor >= 18)) {
  await import(main);
} else {
  const pinned = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    console.error(`orchestrator needs Node 22.18 or later (this is ${process.version}); run npm ci in ${root} to get the pinned one`);
    process.exit(2);
  }
  const result = spawnSync(pinned, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
