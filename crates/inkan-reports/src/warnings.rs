//! Recoverable problems met while reading one report (bad UTF-8, upper-case values, stray
//! whitespace, unknown entities...), counted per kind so a million bad records make one line.

use std::collections::BTreeMap;

use serde::Serialize;

/// Most distinct warnings kept for one report; the rest are counted under one line.
const MAX_DISTINCT: usize = 64;

/// Most characters of a value a warning quotes.
const EXCERPT: usize = 100;

/// `text` as a warning quotes it: at most [`EXCERPT`] characters, `...` marking a cut.
pub(crate) fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

/// The warnings of one report: message → how many times it happened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Warnings(BTreeMap<String, u64>);

impl Warnings {
    /// Records one occurrence of `message`.
    pub fn add(&mut self, message: impl Into<String>) {
        self.add_count(message.into(), 1);
    }

    /// Records `count` occurrences of `message`; past [`MAX_DISTINCT`] messages, a new one is
    /// counted under one line instead.
    pub(crate) fn add_count(&mut self, message: String, count: u64) {
        let key = if self.0.len() >= MAX_DISTINCT && !self.0.contains_key(&message) {
            "further warnings not kept".to_owned()
        } else {
            message
        };
        *self.0.entry(key).or_default() += count;
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages with their counts.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.0.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// Whether a message containing `needle` was recorded.
    pub fn contains(&self, needle: &str) -> bool {
        self.0.keys().any(|k| k.contains(needle))
    }

    /// Moves all of `other` into this set, under the same limit as [`Warnings::add`].
    pub(crate) fn absorb(&mut self, other: &mut Warnings) {
        if other.0.is_empty() {
            return;
        }
        for (message, count) in std::mem::take(&mut other.0) {
            self.add_count(message, count);
        }
    }

    /// Adds all of `other` into this set.
    pub fn merge(&mut self, other: &Warnings) {
        for (k, v) in &other.0 {
            *self.0.entry(k.clone()).or_default() += v;
        }
    }
}
