import { beforeEach, expect } from 'vitest';

/**
 * A test that asserts nothing cannot fail: every test must reach at least one `expect` (vitest's
 * expect.hasAssertions). Loaded for every test file by vitest.config.ts's setupFiles.
 */
beforeEach(() => {
  expect.hasAssertions();
});
