/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: false }],
  },
  moduleNameMapper: {
    '^tributary$': '<rootDir>/lib/index.ts',
    '^tributary/testing$': '<rootDir>/lib/testing/index.ts',
    '^tributary/(lua|windows|connectors|observe)$': '<rootDir>/lib/$1/index.ts',
    '^tributary/plugins$': '<rootDir>/lib/plugins.ts',
  },
  setupFiles: ['reflect-metadata'],
};
