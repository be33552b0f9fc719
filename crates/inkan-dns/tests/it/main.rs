//! Integration tests of inkan-dns against real servers on 127.0.0.1.

mod network;
mod stub;
