// What Stryker runs per mutant (stryker.config.json): the unit tier (vitest.unit.config.ts) with
// module isolation off, so each mutant re-runs its covering tests without re-importing the source
// tree into a fresh worker (Stryker switches mutants at run time; the unit tests keep no global
// state). Property tests try fewer cases under Stryker (test/helpers/property-runs.ts).
import { defineConfig, mergeConfig } from 'vitest/config';
import unit from './vitest.unit.config.js';

export default mergeConfig(unit, defineConfig({ test: { isolate: false } }));
