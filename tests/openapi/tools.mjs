// tools.mjs — what the openapi checks share: the repository, the pinned npm tools
// (tools/npm, installed by scripts/install-deps; SHOPD_NPM_DIR overrides) and the
// operation methods of an OpenAPI path item.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const npmDir = process.env.SHOPD_NPM_DIR || path.join(repo, 'tools', 'npm');
/** require() resolving in tools/npm/node_modules. */
export const requireTool = createRequire(path.join(npmDir, 'package.json'));
export const YAML = requireTool('yaml');
export const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
export const defaultDocument = path.join(repo, 'docs', 'openapi.yaml');
