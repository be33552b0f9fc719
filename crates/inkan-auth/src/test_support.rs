//! Helpers shared by the unit tests of this crate.

/// One step of Marsaglia's xorshift64 generator: advances `state` and returns it. The
/// randomized tests use it for inputs that are the same on every run.
pub(crate) fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Every vector level this CPU runs, the one chosen at run time first, so that the tests of a
/// dispatched pass cover each of its compiled paths the machine can execute.
pub(crate) fn vector_levels() -> Vec<fearless_simd::Level> {
    use fearless_simd::Level;
    let level = Level::new();
    let mut levels = vec![level, crate::message::vector_level()];
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    levels.extend(
        [
            level.as_avx2().map(Level::Avx2),
            level.as_sse4_2().map(Level::Sse4_2),
            level.as_sse2().map(Level::Sse2),
        ]
        .into_iter()
        .flatten(),
    );
    levels
}
