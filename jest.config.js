/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // examples/testing holds the documented user tests (rxjs-marbles), run as they are.
  roots: ['<rootDir>/spec', '<rootDir>/examples'],
  testMatch: ['<rootDir>/spec/**/*.spec.ts', '<rootDir>/examples/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: false }],
  },
  moduleNameMapper: {
    '^tributary$': '<rootDir>/lib/index.ts',
    '^tributary/testing$': '<rootDir>/lib/testing/index.ts',
    '^tributary/(lua|windows|connectors|observe|eventstore|entwine|cluster)$': '<rootDir>/lib/$1/index.ts',
    '^tributary/plugins$': '<rootDir>/lib/plugins.ts',
  },
  setupFiles: ['reflect-metadata'],
};
