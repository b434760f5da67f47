// Lint (typescript-eslint) for everything we write; formatting is Prettier's
// (.prettierrc.json), so no style rules here. `npm run lint` runs both, in CI.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const node = {
  process: 'readonly',
  console: 'readonly',
  require: 'readonly',
  module: 'writable',
  __dirname: 'readonly',
  Buffer: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
};

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-tools/**',
      'dist-pkg/**',
      'packages/*/dist/**',
      'build/**',
      'node_modules/**',
      'src/**/gen/**',
      'contracts/**',
      'proto/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // `_name` marks a parameter or binding kept for its position or to drop a key
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // control characters are what the contract's text checks look for
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // tests drive brokers and parse whatever comes back: loose types are fine there
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
);
