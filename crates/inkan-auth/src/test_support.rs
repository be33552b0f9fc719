//! Helpers shared by the unit tests of this crate.

/// One step of Marsaglia's xorshift64 generator: advances `state` and returns it. The
/// randomized tests use it for inputs that are the same on every run.
pub(crate) fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}
