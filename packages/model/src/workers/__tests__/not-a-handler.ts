/** A module whose default export is not a replica handler (runtime.test.ts). */
export default { score: () => 1 };
