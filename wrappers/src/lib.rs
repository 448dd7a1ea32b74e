//! Composable layers for Stowage stores.
