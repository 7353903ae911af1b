// The one default folder for the reports people read (drill HTML, reconcile JSON/CSV/HTML), relative
// to the working directory; git-ignored (.gitignore), so a run in a checkout leaves the tree clean.
// Files in it do not collide: drill-<target>-<drill-id>.html, reconcile-<run>.{json,csv,html}.
export const DEFAULT_REPORT_DIR = './fapiao-guard-reports';
