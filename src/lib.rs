//! openrouter-files
#![deny(missing_docs)]

mod date;
#[cfg(feature = "emulator")]
pub mod emulator;
