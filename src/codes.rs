//! Every diagnostic code RPL reports, in one list.
//!
//! A code is `rpl::<stage>::<name>` and names one mistake; once shipped it
//! keeps its meaning. Each has a failing input under
//! `tests/diagnostics/<stage>/` whose rendering is a snapshot, except the
//! [`INTERNAL`] ones, which no input can reach (tests break a guarantee by
//! hand instead). `tests/it/diagnostics.rs` holds this list, the codes the
//! source declares, the fixtures and the snapshots to each other.
//!
//! `rpl::policy::<name>` is not here: a policy's `reject` rule names it.

/// Every code, by stage in pipeline order.
pub const ALL: &[&str] = &[
    // load
    "rpl::load::io",
    "rpl::load::no_schema",
    "rpl::load::not_a_policy_file",
    "rpl::load::not_in_directory",
    "rpl::load::no_policies",
    "rpl::load::outside_root",
    "rpl::load::not_a_regular_file",
    "rpl::load::too_large",
    "rpl::load::not_utf8",
    "rpl::load::bad_name",
    "rpl::load::symlink_not_followed",
    // syntax
    "rpl::syntax::unexpected",
    "rpl::syntax::too_deep",
    "rpl::syntax::control_character",
    "rpl::syntax::bad_literal",
    "rpl::syntax::bad_escape",
    "rpl::syntax::reserved",
    "rpl::syntax::chained_comparison",
    "rpl::syntax::internal",
    // schema
    "rpl::schema::syntax",
    "rpl::schema::unknown_key",
    "rpl::schema::missing_key",
    "rpl::schema::missing_channel",
    "rpl::schema::wrong_key_type",
    "rpl::schema::unknown_type",
    "rpl::schema::bad_default",
    "rpl::schema::bad_bound",
    "rpl::schema::bad_path",
    "rpl::schema::path_conflict",
    "rpl::schema::unknown_field_ref",
    "rpl::schema::wrong_field_ref_type",
    "rpl::schema::duplicate_variant",
    "rpl::schema::empty_enum",
    "rpl::schema::bad_variant",
    // calendar
    "rpl::calendar::syntax",
    "rpl::calendar::missing_key",
    "rpl::calendar::unknown_key",
    "rpl::calendar::wrong_type",
    "rpl::calendar::bad_year",
    "rpl::calendar::no_years",
    "rpl::calendar::gap",
    "rpl::calendar::bad_date",
    "rpl::calendar::wrong_year",
    "rpl::calendar::duplicate",
    "rpl::calendar::conflict",
    "rpl::calendar::not_weekend",
    // check
    "rpl::check::unknown_field",
    "rpl::check::unknown_name",
    "rpl::check::unknown_variant",
    "rpl::check::type_mismatch",
    "rpl::check::bad_operands",
    "rpl::check::currency_mismatch",
    "rpl::check::duplicate_name",
    "rpl::check::duplicate_channel",
    "rpl::check::missing_policy",
    "rpl::check::no_fallback",
    "rpl::check::unreachable_rule",
    "rpl::check::unused_definition",
    "rpl::check::unknown_setting",
    "rpl::check::missing_setting",
    "rpl::check::bad_setting",
    "rpl::check::unknown_outcome_field",
    "rpl::check::field_not_allowed",
    "rpl::check::missing_outcome_field",
    "rpl::check::duplicate_field",
    "rpl::check::append_in_after",
    "rpl::check::duplicate_arm",
    "rpl::check::non_exhaustive_match",
    "rpl::check::not_optional",
    "rpl::check::bad_call",
    "rpl::check::bad_verdict",
    "rpl::check::bad_use",
    "rpl::check::recursive_definition",
    "rpl::check::too_deep",
    "rpl::check::too_large",
    "rpl::check::import_cycle",
    "rpl::check::missing_import",
    "rpl::check::import_outside_root",
    // compile
    "rpl::compile::internal",
    // request
    "rpl::request::syntax",
    "rpl::request::duplicate_key",
    "rpl::request::too_large",
    "rpl::request::io",
    "rpl::request::wrong_type",
    "rpl::request::missing_field",
    "rpl::request::unknown_field",
    "rpl::request::unknown_variant",
    "rpl::request::amount_not_string",
    "rpl::request::amount_precision",
    "rpl::request::bad_amount",
    "rpl::request::out_of_range",
    "rpl::request::bad_timestamp",
    "rpl::request::missing_offset",
    "rpl::request::dates_out_of_order",
    "rpl::request::bad_currency",
    // eval
    "rpl::eval::no_policy",
    "rpl::eval::currency_mismatch",
    "rpl::eval::calendar_out_of_range",
    "rpl::eval::incomplete_outcome",
    "rpl::eval::overflow",
    "rpl::eval::date_range",
    "rpl::eval::internal",
];

/// The codes of broken guarantees: a bug in rpl, never in the input.
pub const INTERNAL: &[&str] = &[
    "rpl::syntax::internal",
    "rpl::compile::internal",
    "rpl::eval::internal",
];
