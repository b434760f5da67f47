/** Jest runs the TypeScript sources directly; the real libvirt, brokers and
 * lab are prepared by scripts/test.sh (the README's test command). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
  testTimeout: 120000,
  // Suites share one libvirtd and guests; run them one after another.
  maxWorkers: 1,
  verbose: true,
};
