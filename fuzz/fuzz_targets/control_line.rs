//! Fuzz target: see `mvl_fuzz::control_line`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mvl_fuzz::control_line(data));
