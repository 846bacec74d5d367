//! A tiny deterministic hash/PRNG (SplitMix64), so every piece of sandbox data is a pure
//! function of the seed and a few indices.

/// One SplitMix64 step: a well-mixed 64-bit value from `x`.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Hashes a list of parts into one value (order matters).
pub fn hash(parts: &[u64]) -> u64 {
    parts.iter().fold(0x5EED_u64, |acc, p| mix(acc ^ mix(*p)))
}

/// Hashes a string into a `u64` part (FNV-1a).
pub fn str_part(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A value in `0..n` derived from `h` (n must be > 0).
pub fn below(h: u64, n: u64) -> u64 {
    if n == 0 { 0 } else { h % n }
}

/// A UUID-shaped string from a hash, with the last group carrying `tail` (for reversible ids).
pub fn uuid_with_tail(h: u64, tail: u64) -> String {
    let a = mix(h);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (h >> 20) & 0xfff,
        tail & 0xffff_ffff_ffff
    )
}

/// A UUID-shaped string from a hash.
pub fn uuid_from(h: u64) -> String {
    uuid_with_tail(h, mix(h ^ 0xA5A5))
}

/// A stateful SplitMix64 generator for random-but-reproducible identifiers.
#[derive(Debug, Clone)]
pub struct SplitMix {
    state: u64,
}

impl SplitMix {
    /// Starts a generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_tail_roundtrips() {
        let id = uuid_with_tail(42, 123_456);
        let tail = id.rsplit('-').next().map(|t| u64::from_str_radix(t, 16));
        assert_eq!(tail, Some(Ok(123_456)));
        assert_eq!(id.len(), 36);
    }

    #[test]
    fn hash_depends_on_order() {
        assert_ne!(hash(&[1, 2]), hash(&[2, 1]));
        assert_eq!(hash(&[1, 2]), hash(&[1, 2]));
    }
}
