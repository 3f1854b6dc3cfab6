/** @iqa-bench/data — filled in by its own issue; nothing here pretends to work yet. */
export const PACKAGE_NAME = '@iqa-bench/data';
