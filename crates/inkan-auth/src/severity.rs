//! How much a finding matters: one scale shared by every part that reports findings (the SPF
//! analyzer, the bulk-sender message rules), so a caller sorts, filters and sets exit codes on
//! them the same way.

use serde::Serialize;

/// How much a finding matters, from least to most (the order `max()` and sorting use).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing breaks and no receiver is known to act on it.
    Info,
    /// Works today but is fragile or discouraged; receivers may filter or rate-limit.
    Warning,
    /// Breaks a standard or a provider requirement: receivers get permerror, temperror or an
    /// unintended result, or reject or junk the mail.
    Error,
}

impl Severity {
    /// `info`, `warning` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_from_info_to_error_with_lowercase_tokens() {
        assert!(Severity::Info < Severity::Warning && Severity::Warning < Severity::Error);
        assert_eq!(
            [Severity::Info, Severity::Error].iter().max(),
            Some(&Severity::Error)
        );
        assert_eq!(Severity::Warning.as_str(), "warning");
        assert_eq!(
            serde_json::to_string(&Severity::Error).unwrap(),
            "\"error\""
        );
    }
}
