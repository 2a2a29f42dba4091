// Lint config (ESLint 9 flat config): typescript-eslint's recommended rules without type
// information, so `npm run lint` stays fast and needs no project build. Formatting is
// Prettier's job; eslint-config-prettier turns off every rule that would fight it.
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  {
    ignores: ['dist/**', 'docs/api/**', 'coverage/**', 'node_modules/**', 'spec/package/fixtures/**'],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // Lua values, TypeORM rows and node options cross untyped boundaries; `any` there is deliberate.
      '@typescript-eslint/no-explicit-any': 'off',
      // Lazy require() (client libraries load only when a node starts) is deliberate where it
      // occurs, and each such line carries an eslint-disable comment saying so.
      '@typescript-eslint/no-require-imports': 'error',
      // `{}` is the test in `{} extends I` (a factory whose options are all optional).
      '@typescript-eslint/no-empty-object-type': ['error', { allowObjectTypes: 'always' }],
      // A `let` declared before the closure that reads it and assigned once after is fine.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `_`-prefixed parameters and rest siblings (`{ output, ...rest }`) are intentional.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // CommonJS scripts and configs (bin/, .ci/, jest.config.js, .dependency-cruiser.cjs).
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly', __dirname: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  prettier,
);
