//! The generator's source of randomness.

/// A small deterministic PRNG (SplitMix64), so that a seed means the same
/// plan on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5eed_5eed_5eed_5eed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A number in `range`, every one as likely.
    pub(super) fn between(&mut self, range: std::ops::RangeInclusive<usize>) -> usize {
        range.start() + self.below(range.end() - range.start() + 1)
    }

    /// One of the choices, each as likely as its weight.
    pub(super) fn weighted<T: Copy>(&mut self, choices: &[(T, usize)]) -> T {
        let mut n = self.below(choices.iter().map(|(_, w)| w).sum());
        for &(choice, weight) in choices {
            if n < weight {
                return choice;
            }
            n -= weight;
        }
        unreachable!("n is below the sum of the weights")
    }
}
