//! A tiny deterministic PRNG (SplitMix64).
//!
//! Why not `rand`: the generator must give the same citizens for the same seed forever, across
//! dependency upgrades, and must be cheap to re-seed per household so any household can be
//! generated on its own (in parallel, or lazily). SplitMix64 is a few instructions and has no
//! state beyond one `u64`.

#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A stream for one `(seed, stream)` pair; distinct pairs give unrelated streams.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut r = Rng(seed ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        // Two warm-up rounds so that neighbouring streams do not start correlated.
        r.next_u64();
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), by multiply-high: no modulo bias worth caring about here.
    pub fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.next_u64() as u32) * u64::from(n.max(1))) >> 32) as u32
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u32) -> bool {
        self.below(1000) < per_mille
    }

    /// Picks from a table of `(item, weight)`.
    pub fn weighted<T: Copy>(&mut self, table: &[(T, u32)]) -> T {
        let total: u32 = table.iter().map(|(_, w)| w).sum();
        let mut x = self.below(total);
        for (item, w) in table {
            if x < *w {
                return *item;
            }
            x -= w;
        }
        table[table.len() - 1].0
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u32) as usize]
    }
}
