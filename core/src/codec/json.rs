//! The JSON envelope of `py-key-value-aio` 0.4.x.
