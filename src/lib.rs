pub use stowage_core::*;
