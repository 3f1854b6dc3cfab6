import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files known to run for minutes, started first so that the others run beside them on the second worker (vitest's
 * own order, by the durations of earlier runs, has nothing to go on in a fresh clone, as in CI). The CI learning gate
 * trains a model for about five minutes; started last, the run would end with it alone.
 */
const LONG = ['test/src/cli-gate.test.ts'];

export default class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const isLong = (f: TestSpecification): boolean => LONG.some((l) => f.moduleId.endsWith(l));
    return [...sorted.filter(isLong), ...sorted.filter((f) => !isLong(f))];
  }
}
