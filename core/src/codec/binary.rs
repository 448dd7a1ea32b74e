//! The compact, versioned binary envelope of the embedded backends.
