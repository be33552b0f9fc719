//! Integration tests of inkan-auth: conformance suites read from `../shared/conformance/`.

mod spf_conformance;
mod dkim_rfc8463;
