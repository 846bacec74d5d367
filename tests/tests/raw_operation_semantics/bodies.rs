//! typify's struct builders of request bodies: their messages, in the body struct's field
//! order (not in setter-call order), directly and through the operation builder's `send()`.

use super::*;

/// One case of [`body_builder_messages!`]: building `$ty` from the builder fails with the
/// message (`Err("...")`) or succeeds and the built value passes the check
/// (`Ok(|built| { ... })`).
macro_rules! body_builder_case {
    (Err, $ty:ty, $builder:expr, $message:literal) => {
        assert_eq!(
            <$ty>::try_from($builder).unwrap_err().to_string(),
            $message,
            "{}",
            stringify!($builder)
        );
    };
    (Ok, $ty:ty, $builder:expr, |$built:ident| $check:block) => {
        let $built = <$ty>::try_from($builder).unwrap();
        $check
    };
}

/// One test per row: each body builder of the row, converted into its struct, gives the
/// expected message or value. A row is `test name: [Type: builder => Err("message") or
/// Ok(|built| check), ...];`.
macro_rules! body_builder_messages {
    ($($test:ident: [$($ty:ty: $builder:expr => $result:ident($($expected:tt)*)),+ $(,)?];)+) => {$(
        #[test]
        fn $test() {
            $(body_builder_case!($result, $ty, $builder, $($expected)*);)+
        }
    )+};
}

/// Open Payments' consent body builder with only `validUntil` set (its last field). The
/// rows below set the other members one after another, not in field order; typify names
/// the first failing member in field order (alphabetical by JSON name here: access,
/// combinedServiceIndicator, frequencyPerDay, recurringIndicator, validUntil).
fn op_consent_from(valid_until: NaiveDate) -> op::types::builder::ConsentRequest {
    op::types::ConsentRequest::builder().valid_until(valid_until)
}

body_builder_messages! {
    hb_body_builder_messages: [
        hb::types::ConsentRequest: hb::types::ConsentRequest::builder()
            => Err("no value supplied for access"),
        hb::types::ConsentRequest: hb::types::ConsentRequest::builder().access("NOPE")
            => Err("error converting supplied value for access: invalid value"),
        // The last setter call wins, in both directions.
        hb::types::ConsentRequest: hb::types::ConsentRequest::builder()
            .access("NOPE")
            .access("ALL_ACCOUNTS")
            => Ok(|fixed| { assert_eq!(fixed.access, hb::types::ConsentAccess::AllAccounts); }),
        hb::types::ConsentRequest: hb::types::ConsentRequest::builder()
            .access(hb::types::ConsentAccess::AllAccounts)
            .access("all")
            => Err("error converting supplied value for access: invalid value"),
        // A failing `TryInto` of a String and an Option<String> member shows the cause's
        // Display.
        hb::types::DecoupledAuthorizationRequest:
            hb::types::DecoupledAuthorizationRequest::builder().consent_id(Unconvertible)
            => Err("error converting supplied value for consent_id: refused by the test"),
        hb::types::DecoupledAuthorizationRequest:
            hb::types::DecoupledAuthorizationRequest::builder()
                .consent_id("c-1")
                .personal_id(Unconvertible)
            => Err("error converting supplied value for personal_id: refused by the test"),
        hb::types::GetTokenBody: hb::types::GetTokenBody::builder()
            => Err("no value supplied for grant_type"),
    ];
    op_body_builder_reports_members_in_field_order: [
        op::types::ConsentRequest: op_consent_from(date(2025, 1, 1))
            => Err("no value supplied for access"),
        op::types::ConsentRequest: op_consent_from(date(2025, 1, 1))
            .access(op::types::ConsentAccess::default())
            => Err("no value supplied for combined_service_indicator"),
        op::types::ConsentRequest: op_consent_from(date(2025, 1, 1))
            .access(op::types::ConsentAccess::default())
            .recurring_indicator(false)
            .frequency_per_day(0u32)
            => Err("no value supplied for combined_service_indicator"),
        op::types::ConsentRequest: op_consent_from(date(2025, 1, 1))
            .access(op::types::ConsentAccess::default())
            .recurring_indicator(false)
            .frequency_per_day(0u32)
            .combined_service_indicator(true)
            => Err("error converting supplied value for frequency_per_day: out of range integral type conversion attempted"),
        op::types::ConsentRequest: op_consent_from(date(2025, 1, 1))
            .access(op::types::ConsentAccess::default())
            .recurring_indicator(false)
            .frequency_per_day(0u32)
            .combined_service_indicator(true)
            .frequency_per_day(NonZeroU32::new(2).unwrap())
            => Ok(|built| {
                assert_eq!(built.frequency_per_day.get(), 2);
                assert_eq!(built.valid_until, date(2025, 1, 1));
            }),
        op::types::StartAuthorisationRequest:
            op::types::StartAuthorisationRequest::builder().authentication_method_id(Unconvertible)
            => Err("error converting supplied value for authentication_method_id: refused by the test"),
        op::types::TokenRequest: op::types::TokenRequest::builder()
            .scope("s")
            .grant_type("client_credentials")
            => Err("no value supplied for client_id"),
        op::types::TokenRequest: op::types::TokenRequest::builder()
            .client_id("c")
            .client_secret("s")
            .grant_type("password")
            => Err("error converting supplied value for grant_type: invalid value"),
    ];
    sw_body_builder_messages: [
        sw::types::ConsentRequest:
            sw_consent_body(sw::types::ConsentRequest::builder()).frequency_per_day(0u64)
            => Err("error converting supplied value for frequency_per_day: out of range integral type conversion attempted"),
        sw::types::ConsentRequest:
            sw_consent_body(sw::types::ConsentRequest::builder())
                .frequency_per_day(NonZeroU64::new(1).unwrap())
            => Ok(|built| { assert_eq!(built.frequency_per_day.get(), 1); }),
        sw::types::StartAuthorisationRequest:
            sw::types::StartAuthorisationRequest::builder().authentication_method_id(Unconvertible)
            => Err("error converting supplied value for authentication_method_id: refused by the test"),
    ];
}

// Through `send()`: `body_map` gives the builder's message as it is, `body(builder)` wraps
// it in the operation builder's body setter message, and the body is the last field, so an
// unset or unconvertible parameter wins over a bad body.
refused_before_sending! {
    hb_body_builder_messages_through_send: hb_client, |c| [
        // No body at all: the default builder's first missing member.
        hb_create_consent(&c).body_map(|_| hb::types::ConsentRequest::builder())
            => "no value supplied for access",
        c.create_consent()
            .authorization("Bearer t")
            .country("SE")
            .tpp_request_id(REQUEST_ID)
            .tpp_transaction_id(TRANSACTION_ID)
            .x_ibm_client_id("client-1")
            => "no value supplied for access",
        hb_create_consent(&c).body_map(|b| b.access("NOPE"))
            => "error converting supplied value for access: invalid value",
        hb_create_consent(&c).body(hb::types::ConsentRequest::builder().access("NOPE"))
            => "conversion to `ConsentRequest` for body failed: error converting supplied value for access: invalid value",
        c.init_decoupled_authorization()
            .authorization("Bearer t")
            .country("SE")
            .tpp_request_id(REQUEST_ID)
            .tpp_transaction_id(TRANSACTION_ID)
            .x_ibm_client_id("client-1")
            .body_map(|b| b.personal_id(Some("19900101-0000".to_string())))
            => "no value supplied for consent_id",
        c.create_consent()
            .authorization("Bearer t")
            .country("SE")
            .tpp_request_id(REQUEST_ID)
            .tpp_transaction_id(TRANSACTION_ID)
            .body_map(|b| b.access("NOPE"))
            => "x_ibm_client_id was not initialized",
    ];
    op_body_builder_messages_through_send: op_client, |c| [
        op_create_consent(&c).body_map(|b| b.frequency_per_day(0u32))
            => "error converting supplied value for frequency_per_day: out of range integral type conversion attempted",
        op_create_consent(&c)
            .body(op::types::ConsentRequest::builder().access(op::types::ConsentAccess::default()))
            => "conversion to `ConsentRequest` for body failed: no value supplied for combined_service_indicator",
        c.start_consent_authorisation()
            .consent_id("c-1")
            .x_bic_fi("ESSESESS")
            .x_request_id(REQUEST_ID)
            => "no value supplied for authentication_method_id",
        c.get_token().body_map(|b| b.client_id("tpp"))
            => "no value supplied for client_secret",
    ];
    sw_body_builder_messages_through_send: sw_client, |c| [
        c.create_consent().x_request_id(REQUEST_ID) => "no value supplied for access",
        sw_create_consent(&c).body_map(|b| b.recurring_indicator(Unconvertible))
            => "error converting supplied value for recurring_indicator: refused by the test",
        sw_create_consent(&c).body(sw::types::ConsentRequest::builder().valid_until(Unconvertible))
            => "conversion to `ConsentRequest` for body failed: no value supplied for access",
        // x_request_id comes before the body, psu_context before x_request_id.
        c.create_consent().psu_context("PUBLIC").body_map(|b| b.frequency_per_day(0u64))
            => "conversion to `PsuContext` for psu_context failed",
        c.create_consent().body_map(|b| b.frequency_per_day(0u64))
            => "x_request_id was not initialized",
    ];
}
