//! Placeholder until the tcp_echo bench lands.
fn main() {}
