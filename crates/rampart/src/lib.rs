//! The `rampart` library face: the scan pipeline (`rampart-pipeline`)
//! re-exported, so tests and embedders write `rampart::Scanner`.

pub use rampart_pipeline::*;
