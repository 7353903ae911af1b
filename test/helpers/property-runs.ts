// How many cases a property test tries. Under Stryker (which sets STRYKER_MUTATOR_WORKER in the
// processes that run its tests) each mutant re-runs the property tests that cover it, so they try a
// tenth as many cases, at least 10: mutation testing then measures what the examples and a sample of
// each property catch, in CI-sized time. `npm test` and `npm run test:unit` run them in full.
export function propertyRuns(full: number): number {
  return process.env.STRYKER_MUTATOR_WORKER === undefined ? full : Math.max(10, Math.ceil(full / 10));
}
