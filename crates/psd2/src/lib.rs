//! Bank-neutral PSD2 account information facade.
#![forbid(unsafe_code)]
