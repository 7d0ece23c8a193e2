//! Fuzz target: see `mvl_fuzz::core_decisions`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mvl_fuzz::core_decisions(data));
