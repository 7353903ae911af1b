// Restoring a parallel (directory-format) backup straight from its objects, the way pg_restore's
// own sections split a restore: toc.dat (and any large-object files) decrypted into a private
// folder; `pg_restore --section=pre-data`; then each table's data by a pool of `jobs` workers,
// each decrypting one object into its file just before `pg_restore -L <that item>` reads it and
// deleting it right after; then `pg_restore --section=post-data --jobs=N` (indexes, constraints).
// So at most `jobs` table files are on disk at once, never the whole dump. (pg_restore refuses
// named pipes, "is not a regular file", so each file is written out; the bound is per table.)
// `--clean` needs one pg_restore over the whole folder (drops in reverse dependency order), so it
// decrypts every file first.
import { constants } from 'node:fs';
import { fileHandleSink } from '../../core/pipeline/file-sink.js';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { DATA_FILE, type DirectoryFile, directoryFiles } from '../../backup/directory-objects.js';
import type { Identity } from '../../core/crypto/index.js';
import { OperationError } from '../../core/errors.js';
import { linkedController } from '../../core/pipeline/abort.js';
import { PG_CLIENT_HINT, type Tool, ZSTD_HINT, pipeInto, startTool } from '../../core/pipeline/child-process.js';
import type { Manifest } from '../../core/repository/manifest.js';
import { openDecrypted } from '../../core/repository/read-encrypted.js';
import type { Repository } from '../../core/repository/repository.js';
import { type RestoredTableRef, parseToc, tableDataTracker } from './restore-progress.js';

export interface DirectorySource {
  repo: Repository;
  manifest: Manifest;
  identities: readonly Identity[];
  signal: AbortSignal;
  /** stored bytes read so far, over all objects */
  onBytes?: (bytes: number) => void;
}

/** The manifest's files of the dump folder; refuses a manifest that does not describe one. */
export function dumpFolderFiles(manifest: Manifest): DirectoryFile[] {
  const files = directoryFiles(manifest);
  if (typeof files === 'string') {
    throw new OperationError(
      `manifest of '${manifest.target}/${manifest.id}' does not describe a directory dump: ${files}`,
      { hint: 'a newer fapiao-guard wrote it, or the manifest is damaged: upgrade, or restore another backup' },
    );
  }
  return files;
}

/** Stored bytes read so far over every object, for one progress line. */
function byteCounter(source: DirectorySource): (object: string) => ((n: number) => void) | undefined {
  if (!source.onBytes) return () => undefined;
  const seen = new Map<string, number>();
  let total = 0;
  return (object) => (n) => {
    total += n - (seen.get(object) ?? 0);
    seen.set(object, n);
    source.onBytes!(total);
  };
}

/** Decrypt (and decompress) one object into a new private file; zstd writes it itself. */
async function decryptInto(
  source: DirectorySource,
  entry: DirectoryFile,
  target: string,
  signal: AbortSignal,
  counted: ((n: number) => void) | undefined,
): Promise<void> {
  const { repo, manifest } = source;
  const objectPath = repo.objectPath(manifest.target, manifest.id, entry.object.name);
  const handle = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  let tool: Tool | undefined;
  try {
    const plain = await openDecrypted(repo.storage, objectPath, entry.object, source.identities, {
      signal,
      ...(counted ? { onBytes: counted } : {}),
    });
    if (!entry.zstd) {
      await pipelineAsync(plain, fileHandleSink(handle), { signal });
      return;
    }
    tool = startTool('zstd', ['-d', '-q', '-c', '-'], {
      stdin: 'pipe',
      stdoutFd: handle.fd,
      signal,
      label: `zstd -d of '${objectPath}'`,
      installHint: ZSTD_HINT,
    });
    await Promise.all([pipeInto(plain, tool), tool.exited]);
  } catch (err) {
    tool?.kill();
    throw err;
  } finally {
    await handle.close();
  }
}

/** Run `fn` over `items`, `n` at a time; the first failure stops the rest (aborting what runs). */
async function pool<T>(
  items: readonly T[],
  n: number,
  controller: AbortController,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let first: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !first && !controller.signal.aborted) {
      const item = items[next++]!;
      await fn(item).catch((err: unknown) => {
        first ??= { err };
        controller.abort(err);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  if (first) throw first.err;
}

/** A `pg_restore -l` line: item id and the rest (`<desc> <schema> <tag> <owner>`). */
function listedItems(listing: string): Array<{ id: string; line: string; tableData: boolean }> {
  return listing.split('\n').flatMap((line) => {
    const m = /^(\d+); \d+ \d+ (.+)$/.exec(line);
    return m ? [{ id: m[1]!, line, tableData: m[2]!.startsWith('TABLE DATA ') }] : [];
  });
}

export interface FolderRestoreOptions {
  jobs: number;
  /** pg_restore options for every step (--exit-on-error, --no-owner, …) */
  flags: readonly string[];
  clean: boolean;
  dbnameArg: string;
  env: NodeJS.ProcessEnv;
  /** for messages, e.g. `pg_restore into 'postgres://…'` */
  label: string;
  onTableData?: (ref: RestoredTableRef) => void;
}

const CHATTER = /^pg_restore: (?!error: |warning: |detail: |hint: |while PROCESSING TOC|from TOC entry)/;

/** Restore the backup from its objects through `folder` (created, private; the caller deletes it). */
export async function restoreFromObjects(
  source: DirectorySource,
  folder: string,
  options: FolderRestoreOptions,
): Promise<void> {
  return new FolderRestore(source, folder, options).run();
}

type ListedItem = ReturnType<typeof listedItems>[number];

/**
 * One restore through a folder. With `clean`, every file is decrypted and one pg_restore does all
 * sections. Otherwise section by section: toc.dat and large objects first, then pre-data, each
 * table's data on its own (its file decrypted just before, deleted right after), the rest of the
 * data, post-data. Any failure aborts the other jobs.
 */
class FolderRestore {
  readonly #controller: AbortController;
  readonly #signal: AbortSignal;
  readonly #counter: ReturnType<typeof byteCounter>;
  readonly #files: DirectoryFile[];
  readonly #env: NodeJS.ProcessEnv;

  constructor(
    private readonly source: DirectorySource,
    private readonly folder: string,
    private readonly options: FolderRestoreOptions,
  ) {
    this.#controller = linkedController(source.signal);
    this.#signal = this.#controller.signal;
    this.#counter = byteCounter(source);
    this.#files = dumpFolderFiles(source.manifest);
    this.#env = { ...options.env, LC_ALL: 'C' }; // untranslated progress lines
  }

  async run(): Promise<void> {
    await mkdir(this.folder, { mode: 0o700 });
    try {
      if (this.options.clean) await this.#allSections();
      else await this.#sectionBySection();
    } catch (err) {
      this.#controller.abort(err);
      throw err;
    }
  }

  // --- run's two ways

  async #allSections(): Promise<void> {
    const { options } = this;
    await pool(this.#files, options.jobs, this.#controller, (f) => this.#decrypt(f));
    const parallel = options.jobs > 1;
    const tracker = options.onTableData
      ? tableDataTracker(
          parallel,
          options.onTableData,
          parallel ? parseToc(await listFolder(this.folder, ['--section=data'], this.#env, this.#signal)) : undefined,
        )
      : undefined;
    await this.#pgRestore(
      'all sections',
      ['--verbose', '--clean', '--if-exists', ...(parallel ? [`--jobs=${options.jobs}`] : [])],
      tracker?.line,
    );
    tracker?.end();
  }

  async #sectionBySection(): Promise<void> {
    const { options, folder } = this;
    const data = new Map(
      this.#files.flatMap((f) => (DATA_FILE.test(f.file) ? [[DATA_FILE.exec(f.file)![1]!, f] as const] : [])),
    );
    await pool(
      this.#files.filter((f) => !DATA_FILE.test(f.file)),
      options.jobs,
      this.#controller,
      (f) => this.#decrypt(f),
    ); // toc.dat, large objects
    const listing = await listFolder(folder, ['--section=data'], this.#env, this.#signal);
    const items = listedItems(listing);
    const tableItems = items.filter((i) => i.tableData);
    this.#requireDataOf(tableItems, data);
    const toc = parseToc(listing);
    await this.#pgRestore('pre-data', ['--section=pre-data']);
    // largest first, as pg_restore orders its own parallel work: the long pole starts early
    const ordered = [...tableItems].sort(
      (a, b) =>
        (data.get(b.id)!.object.plainSize ?? data.get(b.id)!.object.size) -
        (data.get(a.id)!.object.plainSize ?? data.get(a.id)!.object.size),
    );
    await pool(ordered, options.jobs, this.#controller, async (item) => {
      await this.#restoreTableData(item, data.get(item.id)!);
      const tag = toc.clean ? toc.tableData.get(item.id) : undefined;
      if (tag !== undefined) options.onTableData?.({ kind: 'tag', text: tag });
    });
    await this.#restoreRest(items.filter((i) => !i.tableData)); // sequence values, large objects
    await this.#pgRestore('post-data', [
      '--section=post-data',
      ...(options.jobs > 1 ? [`--jobs=${options.jobs}`] : []),
    ]);
  }

  // --- section by section's steps

  /** Every table data item toc.dat lists has its object in the backup. */
  #requireDataOf(tableItems: readonly ListedItem[], data: ReadonlyMap<string, DirectoryFile>): void {
    const missing = tableItems.filter((i) => !data.has(i.id));
    if (missing.length > 0)
      throw new OperationError(
        `toc.dat of '${this.source.manifest.target}/${this.source.manifest.id}' lists table data item(s) ${missing
          .slice(0, 5)
          .map((i) => i.id)
          .join(', ')} that the backup has no object for`,
        { hint: 'the backup is incomplete or its manifest damaged: run verify --deep, restore another backup' },
      );
  }

  /** One table's data: its file decrypted, restored through a one-line list, then both deleted. */
  async #restoreTableData(item: ListedItem, entry: DirectoryFile): Promise<void> {
    const list = path.join(this.folder, `item-${item.id}.list`);
    await writeFile(list, `${item.line}\n`, { mode: 0o600 });
    await this.#decrypt(entry);
    try {
      await this.#pgRestore(`data of item ${item.id}`, [`--use-list=${list}`]);
    } finally {
      await rm(path.join(this.folder, entry.file), { force: true }); // the plaintext goes as soon as it is in
      await rm(list, { force: true });
    }
  }

  async #restoreRest(rest: readonly ListedItem[]): Promise<void> {
    if (rest.length === 0) return;
    const list = path.join(this.folder, 'rest.list');
    await writeFile(list, `${rest.map((i) => i.line).join('\n')}\n`, { mode: 0o600 });
    await this.#pgRestore('data: sequences and large objects', [`--use-list=${list}`]);
  }

  // --- tools

  #pgRestore(step: string, args: readonly string[], onLine?: (line: string) => boolean): Promise<void> {
    const { options } = this;
    return startTool('pg_restore', [...args, ...options.flags, options.dbnameArg, this.folder], {
      env: this.#env,
      signal: this.#signal,
      label: `${options.label} (${step})`,
      installHint: PG_CLIENT_HINT,
      onStderrLine: onLine ?? ((l) => CHATTER.test(l)),
    }).exited;
  }

  #decrypt(f: DirectoryFile): Promise<void> {
    return decryptInto(this.source, f, path.join(this.folder, f.file), this.#signal, this.#counter(f.object.name));
  }
}

/** `pg_restore --list` of the folder (reads toc.dat only). */
async function listFolder(
  folder: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<string> {
  const tool = startTool('pg_restore', ['--list', '--format=directory', ...args, folder], {
    env,
    signal,
    label: `pg_restore --list of '${folder}'`,
    installHint: PG_CLIENT_HINT,
  });
  const [out] = await Promise.all([text(tool.child.stdout!), tool.exited]);
  return out;
}
