//! Integration tests of inkan-auth: conformance suites read from `../shared/conformance/`.

mod dkim_interop;
mod dkim_rfc8463;
mod spf_conformance;
mod spf_interop;
