/** @iqa-bench/metrics */
export const PACKAGE_NAME = '@iqa-bench/metrics';
