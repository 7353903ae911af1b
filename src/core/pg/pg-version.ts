// Versions of the client tools, for manifests and compatibility messages.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { OperationError } from '../errors.js';
import { PG_CLIENT_HINT } from '../pipeline/child-process.js';

const run = promisify(execFile);
const cache = new Map<string, Promise<string>>();

/** `pg_dump (PostgreSQL) 15.20 (Debian …)` → `15.20` */
export function toolVersion(tool: string): Promise<string> {
  let version = cache.get(tool);
  if (!version) {
    version = run(tool, ['--version']).then(
      ({ stdout }) => /\d+(\.\d+)*/.exec(stdout)?.[0] ?? stdout.trim(),
      (err: NodeJS.ErrnoException) => {
        throw new OperationError(`cannot run '${tool}': ${err.code === 'ENOENT' ? 'not found on PATH' : err.message}`, {
          hint: PG_CLIENT_HINT,
        });
      },
    );
    cache.set(tool, version);
  }
  return version;
}
