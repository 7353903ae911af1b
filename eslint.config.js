// ESLint (flat config): typescript-eslint with type information, and the layout's two import rules
// (docs/ARCHITECTURE.md): no import cycles, and src/core never imports a capability folder.
// `npm run lint`; part of `npm test`. Formatting is Prettier's job (.prettierrc.json), not ESLint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/** The capability folders: each sits on src/core and never the other way round. */
const CAPABILITIES = ['backup', 'cli', 'daemon', 'demo', 'doctor', 'drill', 'evidence', 'reconcile'];
/** Feature config readers that src/core/config/config.ts assembles (they import only core leaves). */
const CONFIG_READERS = {
  drill: ['./drill-config.ts'],
  reconcile: ['./reconcile-config.ts'],
  daemon: ['./ops-config.ts'],
  backup: ['./repository-retention.ts'],
};

const coreZones = (withReaders) =>
  CAPABILITIES.map((name) => ({
    target: './src/core',
    from: `./src/${name}`,
    ...(withReaders && CONFIG_READERS[name] ? { except: CONFIG_READERS[name] } : {}),
    message: 'src/core never imports a capability folder (docs/ARCHITECTURE.md); move the shared part into core',
  }));

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'reports/**', 'fapiao-guard-reports/**', '**/*.js', '**/*.mjs', '**/*.cjs'],
  },
  {
    files: ['src/**/*.ts', 'jobs/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    plugins: { 'import-x': importX },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    settings: {
      // without these, import-x's module map skips .ts files and no-cycle sees no edges at all
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      // the layout's rules
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones: coreZones(false) }],
      // type-aware checks that find real bugs (a promise nobody awaits, awaiting a non-promise)
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // tsc's noUnusedLocals already reports unused names; `_`-prefixed arguments are intended
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // non-null assertions follow noUncheckedIndexedAccess lookups the code has just checked
      '@typescript-eslint/no-non-null-assertion': 'off',
      // control characters in regexes are deliberate: parsers and sanitizers match them
      'no-control-regex': 'off',
    },
  },
  {
    // the config core assembles the feature readers; everything else in core imports core only
    files: ['src/core/config/config.ts'],
    rules: { 'import-x/no-restricted-paths': ['error', { zones: coreZones(true) }] },
  },
);
