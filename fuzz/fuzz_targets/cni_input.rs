//! Fuzz target: see `mvl_fuzz::cni_input`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mvl_fuzz::cni_input(data));
