//! Strings drawn from a regular expression, with its generator built once.
//!
//! proptest takes a `&str` as a strategy for the strings its regular
//! expression matches, but it parses and compiles that expression again for
//! every value it draws: in a run that draws thousands of names and keys,
//! that compiling costs more than everything else the generators do.
//! [`pattern!`] compiles each expression once per process, the first time it
//! is used, and draws from the same generator afterwards. The values drawn
//! for a seed are the same as with the `&str` strategy: it is the same
//! generator, consuming the same random numbers.

/// The strategy of the strings matching the literal regular expression
/// `$regex`, compiled once per process; a `&'static` strategy.
macro_rules! pattern {
    ($regex:literal) => {{
        static STRATEGY: std::sync::LazyLock<proptest::string::RegexGeneratorStrategy<String>> =
            std::sync::LazyLock::new(|| {
                proptest::string::string_regex($regex)
                    .expect("a generator's regular expression is valid")
            });
        &*STRATEGY
    }};
}

pub(crate) use pattern;

#[cfg(test)]
mod tests {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;

    #[test]
    fn a_compiled_pattern_draws_what_the_str_strategy_draws_for_a_seed() {
        let mut with_str = TestRunner::deterministic();
        let mut compiled = TestRunner::deterministic();

        for _ in 0..50 {
            let expected = "[a-z]{1,6}( ✂ )?"
                .new_tree(&mut with_str)
                .unwrap()
                .current();
            let drawn = pattern!("[a-z]{1,6}( ✂ )?")
                .new_tree(&mut compiled)
                .unwrap()
                .current();

            assert_eq!(drawn, expected);
        }
    }
}
