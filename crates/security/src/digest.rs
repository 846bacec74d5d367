//! The `Digest` header (RFC 3230) as Berlin Group uses it: `SHA-256=<base64 of the body>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

/// The `Digest` header value for `body`: `SHA-256=<base64>`; an empty body has a digest too
/// (`SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=`).
pub fn digest_header_value(body: &[u8]) -> String {
    format!("SHA-256={}", STANDARD.encode(sha256(body)))
}

/// The SHA-256 entry of a `Digest` header value (`SHA-256=...`, algorithm name
/// case-insensitive, other comma-separated entries ignored), base64-decoded.
pub(crate) fn sha256_from_header(value: &str) -> Option<Result<Vec<u8>, ()>> {
    value.split(',').find_map(|entry| {
        let (alg, b64) = entry.trim().split_once('=')?;
        alg.trim()
            .eq_ignore_ascii_case("SHA-256")
            .then(|| STANDARD.decode(b64.trim()).map_err(|_| ()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_empty_body() {
        assert_eq!(
            digest_header_value(b""),
            "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn digest_of_known_body() {
        // echo -n '{"hello": "world"}' | openssl dgst -sha256 -binary | base64
        assert_eq!(
            digest_header_value(br#"{"hello": "world"}"#),
            "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
        );
    }

    #[test]
    fn sha256_entry_is_found_among_others() {
        let v = "SHA-512=abc=, sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        assert_eq!(sha256_from_header(v), Some(Ok(sha256(b""))));
        assert_eq!(sha256_from_header("MD5=xx"), None);
        assert_eq!(sha256_from_header("SHA-256=***"), Some(Err(())));
    }
}
