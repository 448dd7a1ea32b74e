//! Context on the errors a layer raises itself (input it refuses before the inner store sees it),
//! so that every error names a backend and an operation, as the conformance kit checks.

use stowage_core::Error;

/// Name `layer` as the backend, and `operation` and `collection`, on an error the layer raised;
/// an error from the inner store keeps the context it already has.
pub(crate) fn context(
    layer: &'static str,
    operation: &'static str,
    collection: &str,
) -> impl FnOnce(Error) -> Error {
    move |e| {
        e.with_backend(layer)
            .with_operation(operation)
            .with_collection(collection)
    }
}
