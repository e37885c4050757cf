//! The few statistics the benchmark reports: medians of repeated runs,
//! latency percentiles and ratios between two medians.
//!
//! Percentiles use the nearest-rank definition (the smallest sample with at
//! least `p` % of the samples at or below it), so a reported p99 is always a
//! latency that was actually measured, never an interpolation.

/// The median of `samples`, or `None` when there are none.
///
/// An even count gives the mean of the two middle samples. NaN samples are
/// ordered last, so they only matter when most samples are NaN.
pub fn median(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    })
}

/// The nearest-rank `percent` percentile of `sorted`, which must be sorted
/// ascending; `None` when it is empty.
///
/// `percent` is clamped to 0..=100; 0 gives the smallest sample.
pub fn percentile(sorted: &[u64], percent: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let percent = percent.clamp(0.0, 100.0);
    // The rank is 1-based: ceil(p/100 * n), at least 1.
    let rank = ((percent / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// `numerator / denominator` when both are finite and the denominator is
/// above zero.
pub fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (numerator.is_finite() && denominator.is_finite() && denominator > 0.0)
        .then(|| numerator / denominator)
}

/// The median of the element-wise ratios of two paired series, e.g. the
/// per-round ratio of two timings measured back to back.
///
/// Pairing cancels the drift of a shared, noisy machine better than a ratio
/// of two medians: both halves of a pair saw the same background load.
pub fn paired_ratio(numerators: &[f64], denominators: &[f64]) -> Option<f64> {
    let ratios: Vec<f64> = numerators
        .iter()
        .zip(denominators)
        .filter_map(|(n, d)| ratio(*n, *d))
        .collect();
    median(&ratios)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_an_odd_count_is_the_middle_sample() {
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
    }

    #[test]
    fn median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn median_of_nothing_is_none() {
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn percentile_uses_the_nearest_rank() {
        let sorted: Vec<u64> = (1..=100).collect();

        assert_eq!(percentile(&sorted, 50.0), Some(50));
        assert_eq!(percentile(&sorted, 99.0), Some(99));
        assert_eq!(percentile(&sorted, 99.5), Some(100));
        assert_eq!(percentile(&sorted, 100.0), Some(100));
        assert_eq!(percentile(&sorted, 0.0), Some(1));
    }

    #[test]
    fn percentile_of_few_samples_is_a_measured_sample() {
        let sorted = [10, 20, 30];

        assert_eq!(percentile(&sorted, 50.0), Some(20));
        assert_eq!(percentile(&sorted, 99.0), Some(30));
        assert_eq!(percentile(&sorted, 34.0), Some(20));
        assert_eq!(percentile(&sorted, 33.0), Some(10));
    }

    #[test]
    fn percentile_of_nothing_is_none() {
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn ratio_refuses_a_zero_or_missing_denominator() {
        assert_eq!(ratio(3.0, 2.0), Some(1.5));
        assert_eq!(ratio(3.0, 0.0), None);
        assert_eq!(ratio(f64::NAN, 2.0), None);
    }

    #[test]
    fn paired_ratio_is_the_median_of_per_pair_ratios() {
        let client = [1.1, 2.4, 3.0];
        let raw = [1.0, 2.0, 3.0];

        assert_eq!(paired_ratio(&client, &raw), Some(1.1));
    }
}
