//! The `Signature` header of draft-cavage-http-signatures-10 and its signing string.

use http::HeaderMap;

/// The headers Berlin Group requires in `headers=`, in the order they are signed.
/// `digest`, `x-request-id` and `date` are always required; the others when present.
pub const SIGNED_HEADERS: [&str; 6] = [
    "digest",
    "x-request-id",
    "psu-id",
    "psu-corporate-id",
    "tpp-redirect-uri",
    "date",
];

/// Headers that must be signed whenever they are present on a request.
pub const ALWAYS_REQUIRED: [&str; 3] = ["digest", "x-request-id", "date"];

/// Headers that must be signed when present on a request.
pub const REQUIRED_WHEN_PRESENT: [&str; 3] = ["psu-id", "psu-corporate-id", "tpp-redirect-uri"];

/// The algorithm name this crate signs with.
pub const ALGORITHM: &str = "rsa-sha256";

/// The parameters of a `Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureParams {
    /// `keyId`, e.g. `SN=5D2A0F11C3B7E4,CA=CN=psd2-rs Test CA,O=psd2-rs,C=SE`.
    pub key_id: String,
    /// `algorithm`, if given.
    pub algorithm: Option<String>,
    /// `headers`, lowercased; cavage-10 defaults it to `["date"]` when absent.
    pub headers: Vec<String>,
    /// `signature`, base64.
    pub signature: String,
}

impl SignatureParams {
    /// The header value, parameters in the order Berlin Group's examples use.
    pub fn to_header_value(&self) -> String {
        let mut out = format!("keyId=\"{}\"", self.key_id);
        if let Some(algorithm) = &self.algorithm {
            out.push_str(&format!(",algorithm=\"{algorithm}\""));
        }
        out.push_str(&format!(
            ",headers=\"{}\",signature=\"{}\"",
            self.headers.join(" "),
            self.signature
        ));
        out
    }

    /// Parses `name="value"` pairs separated by commas. Quoted values may contain commas;
    /// a backslash keeps the next character inside the value (both are kept, so RFC 4514
    /// escapes in a DN survive). Unknown parameters (`created`, `expires`, ...) are ignored.
    pub fn parse(value: &str) -> Result<Self, String> {
        let mut key_id = None;
        let mut algorithm = None;
        let mut headers = None;
        let mut signature = None;
        let mut rest = value.trim();
        while !rest.is_empty() {
            let eq = rest
                .find('=')
                .ok_or_else(|| format!("parameter without `=` near `{}`", preview(rest)))?;
            let name = rest[..eq].trim().to_ascii_lowercase();
            if name.is_empty() || name.contains(',') || name.contains('"') {
                return Err(format!("bad parameter name near `{}`", preview(rest)));
            }
            let after = rest[eq + 1..].trim_start();
            let body = after
                .strip_prefix('"')
                .ok_or_else(|| format!("parameter `{name}` is not a quoted string"))?;
            let mut end = None;
            let mut escaped = false;
            for (i, c) in body.char_indices() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let end = end.ok_or_else(|| format!("parameter `{name}` has no closing quote"))?;
            let val = body[..end].to_string();
            rest = body[end + 1..].trim_start();
            if let Some(r) = rest.strip_prefix(',') {
                rest = r.trim_start();
            } else if !rest.is_empty() {
                return Err(format!("expected `,` after parameter `{name}`"));
            }
            let slot = match name.as_str() {
                "keyid" => &mut key_id,
                "algorithm" => &mut algorithm,
                "headers" => &mut headers,
                "signature" => &mut signature,
                _ => continue,
            };
            if slot.replace(val).is_some() {
                return Err(format!("parameter `{name}` appears twice"));
            }
        }
        let headers = match headers {
            Some(h) => h
                .split_ascii_whitespace()
                .map(str::to_ascii_lowercase)
                .collect(),
            None => vec!["date".to_string()],
        };
        Ok(Self {
            key_id: key_id.ok_or("missing keyId")?,
            algorithm,
            headers,
            signature: signature.ok_or("missing signature")?,
        })
    }
}

fn preview(s: &str) -> String {
    s.chars().take(24).collect()
}

/// The value of header `name` as cavage-10 signs it: all values of the header, trimmed,
/// joined by `", "`. `Ok(None)` when absent; `Err(())` when a value is not ASCII text.
pub(crate) fn header_text(headers: &HeaderMap, name: &str) -> Result<Option<String>, ()> {
    let mut values = headers.get_all(name).iter().peekable();
    if values.peek().is_none() {
        return Ok(None);
    }
    let parts = values
        .map(|v| v.to_str().map(|s| s.trim().to_string()).map_err(|_| ()))
        .collect::<Result<Vec<_>, ()>>()?;
    Ok(Some(parts.join(", ")))
}

/// The signing string: `name: value` lines joined by `\n`, no trailing newline.
pub fn signing_string<'a>(lines: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    lines
        .into_iter()
        .map(|(name, value)| format!("{}: {}", name.to_ascii_lowercase(), value))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_roundtrip_with_commas_in_key_id() {
        let params = SignatureParams {
            key_id: "SN=9FA1,CA=CN=D-TRUST CA 2-1 2015,O=D-Trust GmbH,C=DE".into(),
            algorithm: Some("rsa-sha256".into()),
            headers: vec!["digest".into(), "x-request-id".into(), "date".into()],
            signature: "AbC+/=".into(),
        };
        let text = params.to_header_value();
        assert_eq!(
            text,
            "keyId=\"SN=9FA1,CA=CN=D-TRUST CA 2-1 2015,O=D-Trust GmbH,C=DE\",\
             algorithm=\"rsa-sha256\",headers=\"digest x-request-id date\",signature=\"AbC+/=\""
        );
        assert_eq!(SignatureParams::parse(&text), Ok(params));
    }

    #[test]
    fn parse_is_lenient_on_spacing_case_and_unknown_params() {
        let p = SignatureParams::parse(
            "keyId=\"SN=1,CA=CN=a\\,b\", created=\"1\", Headers=\"Digest Date\", signature=\"x\"",
        )
        .expect("parses");
        assert_eq!(p.key_id, "SN=1,CA=CN=a\\,b");
        assert_eq!(p.headers, vec!["digest", "date"]);
        assert_eq!(p.algorithm, None);
    }

    #[test]
    fn parse_defaults_headers_to_date_and_rejects_garbage() {
        let p = SignatureParams::parse("keyId=\"k\",signature=\"s\"").expect("parses");
        assert_eq!(p.headers, vec!["date"]);
        assert!(SignatureParams::parse("keyId=k,signature=\"s\"").is_err());
        assert!(SignatureParams::parse("keyId=\"k\",signature=\"s").is_err());
        assert!(SignatureParams::parse("keyId=\"k\"").is_err());
        assert!(SignatureParams::parse("keyId=\"k\",keyId=\"j\",signature=\"s\"").is_err());
        assert!(SignatureParams::parse("keyId=\"k\" signature=\"s\"").is_err());
    }

    #[test]
    fn signing_string_format() {
        assert_eq!(
            signing_string([("Digest", "SHA-256=x"), ("date", "d")]),
            "digest: SHA-256=x\ndate: d"
        );
    }
}
