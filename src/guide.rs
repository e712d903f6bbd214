//! Guides: the long explanations, one page each. The same pages are in the repository's `docs/`
//! folder, and their examples run as doctests.

#[doc = include_str!("../docs/retries.md")]
pub mod retries {}

#[doc = include_str!("../docs/downloads.md")]
pub mod downloads {}

#[doc = include_str!("../docs/tls.md")]
pub mod tls {}

#[doc = include_str!("../docs/logging.md")]
pub mod logging {}

#[doc = include_str!("../docs/testing.md")]
pub mod testing {}

#[doc = include_str!("../docs/company-network.md")]
pub mod company_network {}

#[doc = include_str!("../docs/architecture.md")]
pub mod architecture {}

#[doc = include_str!("../docs/performance.md")]
pub mod performance {}
