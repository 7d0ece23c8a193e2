//! Fuzz target: see `mvl_fuzz::lab_parse`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mvl_fuzz::lab_parse(data));
