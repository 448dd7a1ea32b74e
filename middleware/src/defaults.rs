//! Platform-aware default storage.
