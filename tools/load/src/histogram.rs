//! Log-linear latency histogram: 32 sub-buckets per power of two (≈3% resolution), fixed size,
//! mergeable across processes through a compact text form.

/// Sub-buckets per octave (log2).
const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
/// Enough octaves for values up to 2^63.
const BUCKETS: usize = (SUB as usize) * (64 - SUB_BITS as usize + 1);

/// Counts of values (nanoseconds) by bucket.
#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
        }
    }
}

fn index(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let e = 63 - u64::from(v.leading_zeros()); // floor(log2 v) >= SUB_BITS
    let shift = e - u64::from(SUB_BITS);
    let mantissa = (v >> shift) - SUB;
    (SUB + shift * SUB + mantissa) as usize
}

fn lower_bound(i: usize) -> u64 {
    let i = i as u64;
    if i < SUB {
        return i;
    }
    let shift = (i - SUB) / SUB;
    let mantissa = (i - SUB) % SUB;
    (SUB + mantissa) << shift
}

impl Histogram {
    /// Records one value.
    pub fn record(&mut self, v: u64) {
        let i = index(v).min(BUCKETS - 1);
        self.counts[i] += 1;
        self.total += 1;
    }

    /// Value at quantile `q` (0..=1): the lower bound of the bucket holding it.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return lower_bound(i);
            }
        }
        lower_bound(BUCKETS - 1)
    }

    /// Adds another histogram.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
    }

    /// `i:count,i:count,…` for non-empty buckets.
    pub fn encode(&self) -> String {
        let parts: Vec<String> = self
            .counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, c)| format!("{i}:{c}"))
            .collect();
        if parts.is_empty() {
            "-".into()
        } else {
            parts.join(",")
        }
    }

    /// Parses [`Histogram::encode`]'s form.
    pub fn decode(s: &str) -> Result<Histogram, String> {
        let mut h = Histogram::default();
        if s == "-" {
            return Ok(h);
        }
        for part in s.split(',') {
            let (i, c) = part
                .split_once(':')
                .ok_or_else(|| format!("bad bucket {part:?}"))?;
            let i: usize = i.parse().map_err(|_| format!("bad index {i:?}"))?;
            let c: u64 = c.parse().map_err(|_| format!("bad count {c:?}"))?;
            if i >= BUCKETS {
                return Err(format!("bucket {i} out of range"));
            }
            h.counts[i] += c;
            h.total += c;
        }
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_bound_values_within_resolution() {
        for v in [
            0u64,
            1,
            31,
            32,
            33,
            100,
            1_000,
            18_000,
            1_000_000,
            123_456_789,
        ] {
            let lb = lower_bound(index(v));
            assert!(lb <= v, "{v}: lower bound {lb}");
            assert!((v - lb) as f64 <= v as f64 / 32.0 + 1.0, "{v}: {lb}");
        }
    }

    #[test]
    fn quantiles_and_merge() {
        let mut a = Histogram::default();
        for v in 1..=1000u64 {
            a.record(v * 1000);
        }
        let p50 = a.quantile(0.5);
        assert!((480_000..=500_000).contains(&p50), "{p50}");
        let p99 = a.quantile(0.99);
        assert!((960_000..=990_000).contains(&p99), "{p99}");
        let b = Histogram::decode(&a.encode()).unwrap();
        let mut c = a.clone();
        c.merge(&b);
        assert_eq!(c.total, 2000);
        assert_eq!(c.quantile(0.5), p50);
        assert!(Histogram::decode("5:x").is_err());
    }
}
