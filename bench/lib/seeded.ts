// The seeded generator of the TS fuzz loops (bench/fuzz-ts.ts): one stream per FUZZ_SEED, so runs
// with distinct seeds are distinct shards of one long run.

const M64 = 0xffffffffffffffffn;

/**
 * The xorshift64* start state for `seed`: splitmix64 of it (Steele, Lea, Flood 2014), never 0.
 * Until 2026-11-30 the state was `seed | 1`, which gave seeds 2k and 2k + 1 the same stream.
 */
export function seedState(seed: bigint): bigint {
  let z = (seed + 0x9e3779b97f4a7c15n) & M64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  z ^= z >> 31n;
  return z === 0n ? 1n : z;
}

/** xorshift64* (Vigna 2016) from seedState(seed): numbers in [0, 1), fast enough to pick mutations. */
export function seeded(seed: bigint): () => number {
  let state = seedState(seed);
  return () => {
    state ^= state >> 12n;
    state ^= (state << 25n) & M64;
    state ^= state >> 27n;
    return Number(((state * 0x2545f4914f6cdd1dn) & M64) >> 11n) / 2 ** 53;
  };
}
