import { availableParallelism } from 'node:os';

/**
 * Jest runs the TypeScript sources as native ES modules (oidc-provider and openid-client are ESM-only):
 * that needs Node's --experimental-vm-modules, which .npmrc has npm and npx pass to Node. @swc/jest only
 * strips the types; `npm run typecheck` is the type check.
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: '<rootDir>/test/support/environment.js',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // .tmp/node24/app is CI's copy of the checkout for Node 24 (.ci/run).
  modulePathIgnorePatterns: ['<rootDir>/.tmp/', '<rootDir>/dist/', '<rootDir>/data/'],
  watchPathIgnorePatterns: ['<rootDir>/.tmp/', '<rootDir>/data/'],
  extensionsToTreatAsEsm: ['.ts'],
  // Sources import each other as './x.js' (NodeNext); the file on disk is './x.ts'.
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^qrcode$': '<rootDir>/test/support/native-qrcode.cjs',
  },
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
  },
  setupFilesAfterEnv: ['<rootDir>/test/support/matchers.ts'],
  reporters: ['default', '<rootDir>/test/support/skip-reporter.js'],
  // Flow and browser tests sign in through real servers with real argon2id hashes: seconds, not milliseconds.
  testTimeout: 120_000,
  // The suites wait on sockets, timers and argon2's thread pool as much as they compute: more workers than cores
  // (Jest takes a percentage only up to 100 %).
  maxWorkers: Math.ceil(availableParallelism() * 1.5),
  // A worker ends once its event loop is empty, then Node frees its heap: after a few hundred real
  // servers and browser sessions in one process, that heap is large and freeing it takes a second or
  // so on a busy machine (measured from the 'exit' event to the process's end: 0.7 to 1.6 s, with no
  // open handle, thread or database left). Jest's 500 ms would kill such a worker and warn of a leak.
  workerGracefulExitTimeout: 5_000,
  collectCoverageFrom: ['<rootDir>/{src,config,interactions}/**/*.ts'],
  coverageProvider: 'v8',
};
