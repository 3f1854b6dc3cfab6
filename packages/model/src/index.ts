/** @iqa-bench/model — filled in by its own issue; nothing here pretends to work yet. */
export const PACKAGE_NAME = '@iqa-bench/model';
