//! Turning a raw client's error into [`Error`].

use serde::Serialize;

use crate::error::{Error, ErrorKind};

/// Turns a raw client's error into the facade's [`Error`], keeping status, the bank's
/// messages, `Retry-After`, the body's start and the request id. URLs are stripped from
/// transport errors (a path may hold a consent id).
pub async fn map_raw_error<E: Serialize>(
    bank: &'static str,
    operation: &'static str,
    request_id: &str,
    error: progenitor_client::Error<E>,
) -> Error {
    use progenitor_client::Error as Raw;
    let error = match error {
        Raw::ErrorResponse(response) => {
            let status = response.status().as_u16();
            let retry_after = header_text(response.headers(), "retry-after");
            let body = serde_json::to_vec(&*response).unwrap_or_default();
            Error::from_response(bank, operation, status, &body, retry_after.as_deref())
        }
        Raw::UnexpectedResponse(response) => {
            let status = response.status().as_u16();
            let retry_after = header_text(response.headers(), "retry-after");
            let body = response.bytes().await.unwrap_or_default();
            let mut e =
                Error::from_response(bank, operation, status, &body, retry_after.as_deref());
            if (200..300).contains(&status) {
                e.kind = ErrorKind::UnexpectedResponse;
                e = e.with_detail(
                    "the bank answered with a success status this API does not document",
                );
            }
            e
        }
        Raw::InvalidResponsePayload(body, cause) => invalid_payload(bank, operation, &body, &cause),
        Raw::CommunicationError(e) | Raw::ResponseBodyError(e) | Raw::InvalidUpgrade(e) => {
            let kind = if e.is_timeout() {
                ErrorKind::Timeout
            } else {
                ErrorKind::Transport
            };
            let mut mapped = Error::new(kind, bank, operation);
            if let Some(status) = e.status() {
                mapped = mapped.with_status(status.as_u16());
            }
            mapped
                .with_detail("could not talk to the bank")
                .with_source(e.without_url())
        }
        Raw::InvalidRequest(reason) => Error::invalid_input(bank, operation, reason),
        Raw::Custom(reason) => Error::new(ErrorKind::Transport, bank, operation)
            .with_detail(format!("the request was refused before sending: {reason}")),
    };
    error.with_request_id(request_id)
}

/// An answer with a success status whose body does not decode: an error body sent with a
/// success status is classified by its codes, a body cut off or not JSON is transient
/// ([`crate::retry::UNREADABLE_ANSWER`]), valid JSON of the wrong shape names the field (see
/// [`Error::from_invalid_payload`]).
pub fn invalid_payload(
    bank: &'static str,
    operation: &'static str,
    body: &[u8],
    cause: &serde_json::Error,
) -> Error {
    Error::from_invalid_payload(bank, operation, None, body, cause)
}

fn header_text(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}
