// Jest runs in native ESM mode (NestJS 12 packages are ESM-only); @swc/jest strips types and keeps
// decorator metadata, while `npm run typecheck` does the type checking once for the whole tree.
const swc = ['@swc/jest', { swcrc: true }];

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  // Our relative imports name the compiled '.js' file; map them back to the '.ts' source (but leave
  // packages' own '.json.js' modules alone).
  moduleNameMapper: { '^(\\.{1,2}/.*?)(?<!\\.json)\\.js$': '$1' },
};

export default {
  // e2e tests drive real servers, databases and processes on a shared 2-core machine: jest's 5 s default
  // is too tight there. (A per-project testTimeout is not honoured by jest 30; this is the global one.)
  testTimeout: 30_000,
  projects: [
    { ...common, displayName: 'unit', rootDir: 'src', testMatch: ['**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      rootDir: 'test',
      testMatch: ['**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/support/global-setup.mjs',
      globalTeardown: '<rootDir>/support/global-teardown.mjs',
    },
    {
      ...common,
      displayName: 'chaos',
      rootDir: 'test',
      testMatch: ['**/*.chaos-spec.ts'],
      globalSetup: '<rootDir>/support/global-setup.mjs',
      globalTeardown: '<rootDir>/support/global-teardown.mjs',
    },
  ],
};
