// pg_restore --verbose tells, line by line, when each table's data is in. Knowing it lets the
// checks measure a table while pg_restore still builds indexes and constraints (data does not
// change after its TABLE DATA item). Pure: lines in, events out. Anything not recognised is
// simply not reported early; the caller measures every table after pg_restore ends anyway.

/** A table whose data is in: as pg_restore names it (serial: "schema.table"; parallel: the bare tag). */
export type RestoredTableRef = { kind: 'qualified'; text: string } | { kind: 'tag'; text: string };

/** The environment that makes pg_restore's progress lines parseable (untranslated). */
export const UNTRANSLATED: NodeJS.ProcessEnv = { LC_ALL: 'C' };

const PROGRESS = /^pg_restore: (?!error: |warning: |detail: |hint: |while PROCESSING TOC|from TOC entry)/;

/** The TABLE DATA items of an archive, from `pg_restore -l`: item id -> tag. */
export interface ArchiveToc {
  tableData: Map<string, string>;
  /** every line of the listing parsed: no name in it breaks a line (a forged progress line needs one) */
  clean: boolean;
}

/** `pg_restore -l` output → its TABLE DATA items; `clean` is false when a line is not a TOC line. */
export function parseToc(listing: string): ArchiveToc {
  const tableData = new Map<string, string>();
  let clean = true;
  for (const line of listing.split('\n')) {
    if (line === '' || line.startsWith(';')) continue;
    const item = /^(\d+); \d+ \d+ (.+)$/.exec(line);
    if (!item) {
      clean = false;
      continue;
    }
    // TABLE DATA <schema> <tag> <owner>: the tag is what the parallel progress lines print
    const data = /^TABLE DATA (\S+) (\S+) \S+$/.exec(item[2]!);
    if (data) tableData.set(item[1]!, data[2]!);
    else if (item[2]!.startsWith('TABLE DATA ')) clean = false; // a name with spaces: not matched with certainty
  }
  return { tableData, clean };
}

/**
 * A line consumer for `pg_restore --verbose` (LC_ALL=C). Returns true for progress lines (not
 * worth keeping for an error message), false for everything else (errors, their context).
 */
export function tableDataTracker(
  parallel: boolean,
  onTableData: (ref: RestoredTableRef) => void,
  toc?: ArchiveToc,
): { line(text: string): boolean; end(): void } {
  // parallel lines name items by id: believed only when the archive's TOC has that TABLE DATA item
  // with that tag, each item once, and no name in the TOC could have forged a line
  const believe = (id: string, tag: string): boolean => !toc || (toc.clean && toc.tableData.get(id) === tag);
  const finished = new Set<string>();
  const launched = new Map<string, string>(); // parallel: item id -> tag
  let current: string | undefined; // serial: the table whose data is being read
  const closeCurrent = (): void => {
    if (current !== undefined) onTableData({ kind: 'qualified', text: current });
    current = undefined;
  };
  return {
    line(text) {
      if (!PROGRESS.test(text)) return false;
      const body = text.slice('pg_restore: '.length);
      if (parallel) {
        const launch = /^launching item (\d+) TABLE DATA (.+)$/.exec(body);
        if (launch && believe(launch[1]!, launch[2]!)) launched.set(launch[1]!, launch[2]!);
        const finish = /^finished item (\d+) TABLE DATA /.exec(body);
        const tag = finish ? launched.get(finish[1]!) : undefined;
        if (tag !== undefined && !finished.has(finish![1]!)) {
          finished.add(finish![1]!);
          onTableData({ kind: 'tag', text: tag });
        }
        return true;
      }
      // serial: items run one after another, so any next line ends the previous table's data
      closeCurrent();
      const data = /^processing data for table "(.+)"$/.exec(body);
      if (data) current = data[1]!;
      return true;
    },
    end() {
      // only after a successful exit: the last item may have been a table's data
      closeCurrent();
    },
  };
}
