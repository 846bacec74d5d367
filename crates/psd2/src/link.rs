//! Hyperlinks a bank sends with its resources (`_links`).
//!
//! Banks attach links to accounts (`self`, `balances`, `transactions`), to transaction pages
//! (`next`, `account`), to consent answers (`self`, `status`, `startAuthorisation`) and to
//! SCA methods (Handelsbanken's `authorization`). The domain keeps them as [`Link`] values in
//! [`Links`] maps keyed by relation name, so no bank's link is lost.
//!
//! Secrets: a link of a consent usually carries the consent id in its path
//! (`/consents/<id>/status`). Adapters store such hrefs with the id replaced by
//! [`CONSENT_ID_PLACEHOLDER`] (see [`Link::with_consent_id_hidden`]), so `Debug` and JSON
//! never show it; [`Link::href_for`] puts the id back where a caller really needs the URL.
//! `Debug` of a [`Link`] also leaves out the href's query and fragment, where banks put
//! state values and tokens.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::secret::ConsentId;

/// What stands for the consent id in a stored consent link, e.g.
/// `/psd2/consent/v1/consents/{consentId}/status`.
pub const CONSENT_ID_PLACEHOLDER: &str = "{consentId}";

/// One hyperlink as the bank sent it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Link {
    /// Absolute URL or path of the linked resource (relative to the bank's API base).
    pub href: String,
    /// HTTP methods the resource accepts, as sent (Swedbank `verbs`, e.g. `GET`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verbs: Vec<String>,
    /// The bank's name for the link's endpoint (Handelsbanken `name`, e.g. `authorize_1.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The media type to use with the endpoint (Handelsbanken `type`, e.g.
    /// `application/json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

/// Links keyed by relation name (`self`, `next`, `transactions`, ...), in name order.
pub type Links = BTreeMap<String, Link>;

impl Link {
    /// A link with only an href.
    pub fn new(href: impl Into<String>) -> Self {
        Self {
            href: href.into(),
            verbs: Vec::new(),
            name: None,
            media_type: None,
        }
    }

    /// Sets the accepted HTTP methods.
    pub fn with_verbs(mut self, verbs: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.verbs = verbs.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the endpoint name.
    pub fn with_name(mut self, name: Option<String>) -> Self {
        self.name = name;
        self
    }

    /// Sets the media type.
    pub fn with_media_type(mut self, media_type: Option<String>) -> Self {
        self.media_type = media_type;
        self
    }

    /// The link with every occurrence of `consent`'s id in the href replaced by
    /// [`CONSENT_ID_PLACEHOLDER`] (an empty id changes nothing).
    pub fn with_consent_id_hidden(mut self, consent: &ConsentId) -> Self {
        let id = consent.expose();
        if !id.is_empty() {
            self.href = self.href.replace(id, CONSENT_ID_PLACEHOLDER);
        }
        self
    }

    /// The href with [`CONSENT_ID_PLACEHOLDER`] replaced by `consent`'s id: the URL to call.
    /// The result holds a secret; do not log it.
    pub fn href_for(&self, consent: &ConsentId) -> String {
        self.href.replace(CONSENT_ID_PLACEHOLDER, consent.expose())
    }

    /// The href without query and fragment (what `Debug` shows).
    fn href_without_query(&self) -> &str {
        self.href
            .split(['?', '#'])
            .next()
            .unwrap_or(self.href.as_str())
    }
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Link");
        s.field("href", &self.href_without_query());
        if !self.verbs.is_empty() {
            s.field("verbs", &self.verbs);
        }
        if let Some(name) = &self.name {
            s.field("name", name);
        }
        if let Some(media_type) = &self.media_type {
            s.field("media_type", media_type);
        }
        s.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_id_is_hidden_and_restored() {
        let id = ConsentId::new("70c6d203-e1d1-43ff-9e42-07e5dda640ba");
        let link =
            Link::new("/psd2/consent/v1/consents/70c6d203-e1d1-43ff-9e42-07e5dda640ba/status")
                .with_consent_id_hidden(&id);
        assert_eq!(link.href, "/psd2/consent/v1/consents/{consentId}/status");
        assert!(!format!("{link:?}").contains(id.expose()));
        assert!(!serde_json::to_string(&link).unwrap().contains(id.expose()));
        assert_eq!(
            link.href_for(&id),
            "/psd2/consent/v1/consents/70c6d203-e1d1-43ff-9e42-07e5dda640ba/status"
        );
        // An empty id must not turn every gap into a placeholder.
        let same = Link::new("/a/b").with_consent_id_hidden(&ConsentId::new(""));
        assert_eq!(same.href, "/a/b");
    }

    #[test]
    fn debug_leaves_out_query_and_fragment() {
        let link = Link::new("https://bank.example/authorize?state=s3cret&scope=AIS:abc#frag")
            .with_name(Some("authorize_1.0".into()))
            .with_media_type(Some("application/json".into()))
            .with_verbs(["GET"]);
        let debug = format!("{link:?}");
        assert!(
            !debug.contains("s3cret") && !debug.contains("abc"),
            "{debug}"
        );
        assert!(debug.contains("https://bank.example/authorize"), "{debug}");
        assert!(
            debug.contains("authorize_1.0") && debug.contains("GET"),
            "{debug}"
        );
    }

    #[test]
    fn json_is_camel_case_and_skips_empty_parts() {
        let link = Link::new("/x").with_media_type(Some("application/json".into()));
        assert_eq!(
            serde_json::to_value(&link).unwrap(),
            serde_json::json!({"href": "/x", "mediaType": "application/json"})
        );
        let back: Link = serde_json::from_value(serde_json::json!({"href": "/x"})).unwrap();
        assert_eq!(back, Link::new("/x"));
    }
}
