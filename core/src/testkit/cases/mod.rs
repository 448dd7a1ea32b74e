//! The conformance cases, grouped by what they cover.

pub mod basic;
pub mod batch;
pub mod concurrency;
pub mod delete;
pub mod enumerate;
pub mod errors;
pub mod expiry;
pub mod handles;
pub mod insert;
pub mod names;
pub mod values;

/// Calls `$callback!(($($args)*) group::case, ...)` with every case. The single list of cases.
#[doc(hidden)]
#[macro_export]
macro_rules! __with_conformance_cases {
    ($callback:ident ($($args:tt)*)) => {
        $crate::$callback!(($($args)*)
            basic::put_then_get_round_trips,
            basic::get_missing_is_none,
            basic::put_overwrites,
            basic::collections_are_isolated,
            basic::keys_are_case_sensitive,
            batch::get_many_keeps_order_and_misses,
            batch::get_many_of_nothing_is_empty,
            batch::get_many_repeated_key,
            batch::put_many_then_get_many,
            batch::put_many_of_nothing_is_ok,
            batch::put_many_last_duplicate_wins,
            batch::ttl_many_keeps_order_and_misses,
            batch::large_batches_round_trip,
            delete::delete_existing_returns_true,
            delete::delete_missing_returns_false,
            delete::delete_twice,
            delete::delete_many_counts_live_entries,
            delete::delete_many_of_nothing_is_zero,
            delete::delete_leaves_other_keys,
            expiry::no_ttl_never_expires,
            expiry::ttl_remaining_is_within_bounds,
            expiry::ttl_of_missing_is_none,
            expiry::entry_metadata_is_consistent,
            expiry::entries_expire_for_every_read,
            expiry::put_many_ttl_applies_to_every_entry,
            expiry::overwrite_without_ttl_clears_expiry,
            expiry::overwrite_with_ttl_adds_expiry,
            expiry::expired_key_can_be_written_again,
            expiry::subsecond_ttl_expires,
            values::every_json_kind_round_trips,
            values::empty_object_round_trips,
            values::unicode_and_escapes_round_trip,
            values::large_value_round_trips,
            values::numbers_keep_their_value,
            values::oversized_value_is_refused,
            values::non_objects_are_refused,
            values::invalid_json_text_is_refused,
            names::unicode_names_round_trip,
            names::long_names_round_trip,
            names::names_over_the_limit_are_refused,
            names::empty_key_is_refused_everywhere,
            names::empty_collection_is_refused_everywhere,
            names::separator_in_collection_is_refused,
            names::separator_in_key_is_allowed,
            names::zero_ttl_is_refused,
            names::negative_and_huge_ttls_are_refused,
            names::bad_batch_writes_nothing,
            insert::put_if_absent_inserts_only_once,
            insert::put_if_absent_sees_puts_and_deletes,
            insert::put_if_absent_replaces_expired_entries,
            insert::put_if_absent_bad_input_writes_nothing,
            insert::put_if_absent_race_has_one_winner,
            errors::every_error_names_its_backend_and_operation,
            enumerate::keys_lists_every_key,
            enumerate::keys_of_unknown_collection_is_empty,
            enumerate::collections_lists_collections,
            enumerate::destroy_collection_removes_only_it,
            enumerate::destroy_removes_everything,
            enumerate::cull_removes_expired_entries,
            enumerate::missing_capabilities_say_unsupported,
            concurrency::concurrent_writers_on_one_key,
            concurrency::concurrent_mixed_operations,
            concurrency::concurrent_batches,
            handles::typed_handle_round_trips,
            handles::typed_handle_shape_mismatch_is_invalid_value,
            handles::collection_handle_binds_its_collection
        );
    };
}

crate::__with_conformance_cases!(__conformance_emit_list());
