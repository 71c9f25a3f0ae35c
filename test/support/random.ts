// Seeded random numbers for test data and benchmarks: the same seed, the same sequence, on
// every machine. Two generators because the recorded data of existing tests was drawn with both.

/** Park–Miller ("minimal standard") generator: values in (0, 1). */
export function parkMiller(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 16807) % 2147483647;
    return state / 2147483647;
  };
}

/** The C library's linear congruential generator (glibc's constants, modulo 2^31): values in [0, 1). */
export function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}
