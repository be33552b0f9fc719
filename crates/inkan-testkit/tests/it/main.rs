//! Integration tests of inkan-testkit: its programs, run as a user would.

mod testdns;
