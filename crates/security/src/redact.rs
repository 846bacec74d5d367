//! Keeping secrets out of `Debug`, logs and error texts.
//!
//! Policy for psd2-rs:
//! * credentials (access/refresh tokens, client secrets, private keys, authorisation codes)
//!   are `secrecy::SecretString` / `SecretBox` in the facade: zeroized on drop, no `Debug`
//!   leak, explicit `expose_secret()`;
//! * personal or account identifiers that code must compare, hash or clone (PSU ids, consent
//!   ids, corporate ids) are [`Redacted<T>`]: full value semantics, but `Debug`/`Display`
//!   print `[REDACTED]`, and [`Redacted::expose`] is the only way to the value;
//! * text that may have picked a secret up (a bank's error body, a URL with a code) goes
//!   through [`scrub`] before it is logged or put into an error;
//! * tests assert the above with [`assert_no_secrets`].

use std::fmt;

/// What [`Redacted`] and [`scrub`] print instead of a secret.
pub const REDACTED: &str = "[REDACTED]";

/// A value that must never be printed: `Debug` and `Display` show `[REDACTED]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    /// Wraps `value`.
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// The wrapped value; the call site is where a leak would be, so keep it greppable.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Redacted<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// `text` with every occurrence of every non-empty secret replaced by `[REDACTED]`
/// (longer secrets first, so a secret containing another is removed whole).
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut sorted: Vec<&str> = secrets.iter().copied().filter(|s| !s.is_empty()).collect();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    sorted.into_iter().fold(text.to_string(), |acc, secret| {
        acc.replace(secret, REDACTED)
    })
}

/// A URL as it may be shown to a person: user name and password, query and fragment
/// removed (`http://user:pw@host/p?code=x` becomes `http://host/p`). A text that is not a
/// URL is not echoed: the answer is `(not a URL)`.
pub fn url_for_display(url: &str) -> String {
    match url::Url::parse(url.trim()) {
        Ok(mut parsed) => {
            // Both fail only for URLs that cannot have credentials (`mailto:`, `data:`),
            // which then have none to remove.
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        Err(_) => "(not a URL)".to_string(),
    }
}

/// Panics when `haystack` contains any non-empty secret. The panic message names the
/// secret's index and position, never the secret itself. Meant for tests.
#[track_caller]
pub fn assert_no_secrets(haystack: &str, secrets: &[&str]) {
    for (index, secret) in secrets.iter().enumerate() {
        if secret.is_empty() {
            continue;
        }
        if let Some(at) = haystack.find(secret) {
            panic!(
                "secret #{index} ({} bytes) leaked at byte {at} of a {}-byte text: {}",
                secret.len(),
                haystack.len(),
                scrub(haystack, secrets)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_never_prints_its_value() {
        let psu = Redacted::new("private-1".to_string());
        assert_eq!(
            format!("{psu} {psu:?} {:?}", Some(&psu)),
            "[REDACTED] [REDACTED] Some([REDACTED])"
        );
        assert_eq!(psu.expose(), "private-1");
        assert_eq!(psu.clone(), Redacted::from("private-1".to_string()));
        assert_eq!(psu.into_inner(), "private-1");
    }

    #[test]
    fn scrub_replaces_all_occurrences_longest_first() {
        assert_eq!(
            scrub(
                "token=abc123 again abc123, code=abc",
                &["abc", "abc123", ""]
            ),
            "token=[REDACTED] again [REDACTED], code=[REDACTED]"
        );
        assert_eq!(scrub("nothing here", &["x1"]), "nothing here");
    }

    #[test]
    fn url_for_display_drops_credentials_query_and_fragment() {
        // Expected texts written by hand from RFC 3986's URL parts.
        assert_eq!(
            url_for_display("http://user:pa55word@bank.example:8443/psd2/v1?code=abc#frag"),
            "http://bank.example:8443/psd2/v1"
        );
        assert_eq!(
            url_for_display("https://only-user@bank.example/"),
            "https://bank.example/"
        );
        assert_eq!(url_for_display("not a url pa55word"), "(not a URL)");
    }

    #[test]
    fn assert_no_secrets_passes_on_clean_text() {
        assert_no_secrets("all clear", &["secret-token", ""]);
    }

    #[test]
    fn assert_no_secrets_panics_without_echoing_the_secret() {
        let result = std::panic::catch_unwind(|| {
            assert_no_secrets("Bearer secret-token failed", &["other", "secret-token"]);
        });
        let payload = result.expect_err("must panic");
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(message.contains("secret #1"), "{message}");
        assert!(message.contains("Bearer [REDACTED] failed"), "{message}");
        assert!(!message.contains("secret-token"), "{message}");
    }
}
