//! The whole conformance kit against a real Redis node and a real Redis Cluster, each case in a
//! namespace of its own so that `destroy()` touches nothing else.

mod common;

mod single {
    stowage_core::conformance_tests!(|| async { crate::common::single_store().await });
}

mod cluster {
    stowage_core::conformance_tests!(|| async { crate::common::cluster_store().await });
}
