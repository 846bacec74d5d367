//! Strong customer authentication (SCA): starting it, following it, finishing it.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, ErrorKind};
use crate::link::Link;
use crate::macros::bank_enum;
use crate::secret::{AuthorizationCode, Secret};

/// Poll interval used when a bank gives none.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// The shortest wait between decoupled SCA polls, whatever the bank asks (a `sleepTime` of
/// 0 or less would otherwise poll in a tight loop).
pub const MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The longest wait between decoupled SCA polls, whatever the bank asks.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(10);

/// The wait between polls for a bank's (or handle's) `interval`: at least
/// [`MIN_POLL_INTERVAL`], at most [`MAX_POLL_INTERVAL`].
pub fn poll_interval(interval: Duration) -> Duration {
    interval.clamp(MIN_POLL_INTERVAL, MAX_POLL_INTERVAL)
}

/// The start of the `detail` of the error ending a decoupled SCA that ran out of time while
/// the bank kept answering "pending" (kind [`ErrorKind::ScaFailed`]: the customer did not
/// confirm in time; not a network timeout).
pub const SCA_TIMED_OUT: &str = "the bank kept answering pending until the SCA timed out";

/// Whether `error` ended a decoupled SCA because it ran out of time while the bank kept
/// answering "pending" (see [`SCA_TIMED_OUT`]).
pub fn is_sca_timeout(error: &Error) -> bool {
    error.kind == ErrorKind::ScaFailed
        && error.detail().is_some_and(|d| d.starts_with(SCA_TIMED_OUT))
}

bank_enum! {
    /// Status of an SCA (authorisation) process, Berlin Group names.
    pub enum ScaStatus {
        /// Authorisation resource created.
        Received = "received",
        /// PSU identified.
        PsuIdentified = "psuIdentified",
        /// PSU authenticated.
        PsuAuthenticated = "psuAuthenticated",
        /// SCA method selected.
        ScaMethodSelected = "scaMethodSelected",
        /// SCA started (e.g. BankID app opened).
        Started = "started",
        /// Decoupled SCA pending on the PSU's device (Handelsbanken `PENDING`).
        Pending = "pending",
        /// Unconfirmed (multi-level SCA).
        Unconfirmed = "unconfirmed",
        /// Finished successfully (Handelsbanken `COMPLETE`).
        Finalised = "finalised" | "COMPLETE" | "completed",
        /// Failed or rejected.
        Failed = "failed",
        /// No SCA needed.
        Exempted = "exempted",
    }
}

impl ScaStatus {
    /// Whether SCA ended successfully.
    pub fn is_done(&self) -> bool {
        matches!(self, Self::Finalised | Self::Exempted)
    }

    /// Whether SCA ended without success.
    pub fn is_failed(&self) -> bool {
        matches!(self, Self::Failed)
    }
}

/// An SCA approach a bank offers for a consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ScaApproach {
    /// The PSU is sent to the bank's web page.
    Redirect,
    /// The PSU confirms on another device or app (Mobile BankID).
    Decoupled,
    /// The TPP collects the PSU's credentials and one-time code and relays them.
    Embedded,
    /// Something else, as the bank named it.
    Other(String),
}

bank_enum! {
    /// Berlin Group authentication type of an SCA method (how the PSU proves it is them).
    pub enum AuthenticationType {
        /// One-time password by SMS.
        SmsOtp = "SMS_OTP",
        /// One-time password from a chip card reader.
        ChipOtp = "CHIP_OTP",
        /// One-time password from a photo (e.g. a QR code or photoTAN).
        PhotoOtp = "PHOTO_OTP",
        /// Confirmation pushed to an app (e.g. Mobile BankID).
        PushOtp = "PUSH_OTP",
        /// One-time password by e-mail.
        SmtpOtp = "SMTP_OTP",
    }
}

/// An SCA method a bank offers for a new consent, with everything the bank said about it.
///
/// [`CreatedConsent::approaches`](crate::CreatedConsent::approaches) sums these up; this
/// keeps the details (the bank's method id and display name, or the endpoints to start the
/// method). The hrefs are bank endpoints without consent ids (Handelsbanken's
/// `authorization` links); `Debug` of a [`Link`] leaves out query strings anyway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OfferedScaMethod {
    /// The approach the method uses (redirect, decoupled, ...).
    pub approach: ScaApproach,
    /// The bank's id of the method (Berlin Group `authenticationMethodId`, e.g. `mbid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The method's name for the PSU, e.g. `Mobilt BankID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// How the PSU authenticates (Berlin Group `authenticationType`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_type: Option<AuthenticationType>,
    /// The endpoints that start the method (Handelsbanken `_links.authorization[]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_links: Vec<Link>,
}

impl OfferedScaMethod {
    /// A method of `approach` with nothing else known; set the other fields directly.
    pub fn new(approach: ScaApproach) -> Self {
        Self {
            approach,
            id: None,
            name: None,
            authentication_type: None,
            authorization_links: Vec::new(),
        }
    }
}

/// How to start SCA for a consent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScaMethod {
    /// Redirect the PSU's browser to the bank, which returns to `redirect_uri`
    /// (must be registered with the bank for the client).
    Redirect {
        /// Where the bank sends the PSU back (with `code` and `state`).
        redirect_uri: Url,
    },
    /// Decoupled SCA on the PSU's device (Mobile BankID); poll for the result.
    Decoupled,
    /// Embedded SCA: the TPP relays the PSU's password (and, after
    /// [`Consents::select_sca_method`](crate::Consents::select_sca_method), a one-time
    /// code) to the bank. The PSU id is the [`crate::Psu`]'s.
    Embedded {
        /// The PSU's password at the bank (secret).
        password: Secret,
    },
}

/// A bank-specific reference for polling a decoupled SCA (Handelsbanken `orderRef`, Berlin
/// Group `authorisationId`), opaque to callers. Redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct DecoupledHandle {
    reference: Secret,
    poll_href: Option<String>,
    poll_interval: Duration,
}

impl DecoupledHandle {
    /// Wraps the bank's poll reference.
    pub fn new(reference: impl Into<String>) -> Self {
        Self {
            reference: Secret::new(reference),
            poll_href: None,
            poll_interval: DEFAULT_POLL_INTERVAL,
        }
    }

    /// Sets how often to poll when the bank's poll answer gives no interval
    /// (default [`DEFAULT_POLL_INTERVAL`]).
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// How often to poll when the bank's poll answer gives no interval.
    pub fn poll_interval(&self) -> Duration {
        self.poll_interval
    }

    /// Adds the bank's poll link (relative or absolute href), when it gave one.
    pub fn with_poll_href(mut self, href: impl Into<String>) -> Self {
        self.poll_href = Some(href.into());
        self
    }

    /// The bank's poll reference, for the adapter that made it.
    pub fn expose(&self) -> &str {
        self.reference.expose()
    }

    /// The poll link, if the bank gave one.
    pub fn poll_href(&self) -> Option<&str> {
        self.poll_href.as_deref()
    }
}

impl fmt::Debug for DecoupledHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecoupledHandle")
            .field("reference", &self.reference)
            .field(
                "poll_href",
                &self.poll_href.as_ref().map(|_| crate::secret::REDACTED),
            )
            .field("poll_interval", &self.poll_interval)
            .finish()
    }
}

/// What the PSU must do to authorise a consent.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScaChallenge {
    /// Send the PSU's browser to `url`; the bank comes back to the redirect URI with `state`.
    Redirect {
        /// The bank's SCA page (its query may carry the consent id: not shown in `Debug`).
        url: Url,
        /// The value to check on return (CSRF protection).
        state: String,
    },
    /// The PSU confirms in an app; poll with `handle` every `poll_interval`.
    Decoupled {
        /// What to poll with.
        handle: DecoupledHandle,
        /// BankID auto-start token, to open the app on the same device.
        auto_start_token: Option<Secret>,
        /// How often to poll (the same as `handle.poll_interval()`).
        poll_interval: Duration,
        /// A message for the PSU, if the bank gave one.
        message: Option<String>,
    },
    /// Embedded SCA in progress: pick one of `methods` with
    /// [`Consents::select_sca_method`](crate::Consents::select_sca_method) (when the bank
    /// offered more than one), then send the one-time code of `challenge` with
    /// [`Consents::complete_embedded`](crate::Consents::complete_embedded).
    Embedded {
        /// The authorisation to continue.
        handle: EmbeddedHandle,
        /// The SCA methods the bank offers (empty once one is chosen).
        methods: Vec<OfferedScaMethod>,
        /// The challenge of the chosen method, once there is one.
        challenge: Option<EmbeddedChallenge>,
    },
}

/// The bank's reference of an embedded SCA (Berlin Group `authorisationId` and the link to
/// continue it), opaque to callers. Redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct EmbeddedHandle {
    reference: Secret,
    href: Option<String>,
}

impl EmbeddedHandle {
    /// Wraps the bank's authorisation id.
    pub fn new(reference: impl Into<String>) -> Self {
        Self {
            reference: Secret::new(reference),
            href: None,
        }
    }

    /// Adds the link the next step is sent to (relative or absolute href).
    pub fn with_href(mut self, href: impl Into<String>) -> Self {
        self.href = Some(href.into());
        self
    }

    /// The bank's authorisation id, for the adapter that made it.
    pub fn expose(&self) -> &str {
        self.reference.expose()
    }

    /// The link the next step is sent to, if the bank gave one.
    pub fn href(&self) -> Option<&str> {
        self.href.as_deref()
    }
}

impl fmt::Debug for EmbeddedHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedHandle")
            .field("reference", &self.reference)
            .field("href", &self.href.as_ref().map(|_| crate::secret::REDACTED))
            .finish()
    }
}

/// What the PSU must enter for an embedded SCA method (Berlin Group `challengeData`).
/// `Debug` leaves out the bank's text and the challenge data (only their sizes show).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EmbeddedChallenge {
    /// The chosen method, as the bank described it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<OfferedScaMethod>,
    /// Longest one-time code the bank accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp_max_length: Option<u32>,
    /// `characters` or `integer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp_format: Option<String>,
    /// The bank's text for the PSU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_information: Option<String>,
    /// Challenge data to show (e.g. a code to type into a reader).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<String>,
}

impl fmt::Debug for EmbeddedChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedChallenge")
            .field("method", &self.method)
            .field("otp_max_length", &self.otp_max_length)
            // The standard's two formats; anything else is the bank's own text.
            .field(
                "otp_format",
                &self.otp_format.as_deref().map(|f| match f {
                    "characters" | "integer" => f,
                    _ => "other",
                }),
            )
            .field(
                "additional_information_len",
                &self.additional_information.as_ref().map(String::len),
            )
            .field("data_len", &self.data.len())
            .finish()
    }
}

impl fmt::Debug for ScaChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Redirect { url, .. } => f
                .debug_struct("Redirect")
                .field(
                    "url",
                    &format_args!("{}{}", url.origin().ascii_serialization(), url.path()),
                )
                .field("state", &crate::secret::REDACTED)
                .finish(),
            Self::Decoupled {
                handle,
                auto_start_token,
                poll_interval,
                message,
            } => f
                .debug_struct("Decoupled")
                .field("handle", handle)
                .field("auto_start_token", auto_start_token)
                .field("poll_interval", poll_interval)
                .field("message", message)
                .finish(),
            Self::Embedded {
                handle,
                methods,
                challenge,
            } => f
                .debug_struct("Embedded")
                .field("handle", handle)
                .field("methods", methods)
                .field("challenge", challenge)
                .finish(),
        }
    }
}

/// The redirect back from the bank's SCA page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectCallback {
    /// The authorization code (secret).
    pub code: AuthorizationCode,
    /// The `state` the bank echoed; the adapter compares it with the challenge's.
    pub state: String,
}

impl RedirectCallback {
    /// Checks that the bank echoed the `state` of the challenge; a mismatch (a forged or
    /// mixed-up callback) is [`ErrorKind::InvalidInput`].
    pub fn verify_state(&self, expected: &str) -> Result<(), Error> {
        if self.state == expected {
            Ok(())
        } else {
            Err(Error::invalid_input(
                "redirect",
                "complete_redirect",
                "redirect state does not match the challenge",
            ))
        }
    }

    /// Reads `code` and `state` from the URL the bank redirected to.
    ///
    /// An `error` parameter (e.g. `access_denied`) gives [`ErrorKind::ScaRejected`]; missing
    /// parameters give [`ErrorKind::InvalidInput`].
    pub fn from_url(url: &Url) -> Result<Self, Error> {
        let mut code = None;
        let mut state = None;
        let mut error = None;
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "code" => code = Some(value.into_owned()),
                "state" => state = Some(value.into_owned()),
                "error" => error = Some(value.into_owned()),
                _ => {}
            }
        }
        if let Some(error) = error {
            return Err(
                Error::new(ErrorKind::ScaRejected, "redirect", "complete_redirect")
                    .with_message(crate::error::BankMessage::code_only(error)),
            );
        }
        match (code, state) {
            (Some(code), Some(state)) => Ok(Self {
                code: AuthorizationCode::new(code),
                state,
            }),
            _ => Err(Error::invalid_input(
                "redirect",
                "complete_redirect",
                "redirect URL lacks code or state",
            )),
        }
    }
}

/// The result of one poll of a decoupled SCA.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScaProgress<T> {
    /// Not finished; poll again after the interval (the bank's, if it sent one).
    Pending {
        /// The bank's requested wait before the next poll.
        poll_interval: Option<Duration>,
        /// A hint such as BankID's `outstandingTransaction` / `userSign`.
        hint: Option<String>,
    },
    /// Finished successfully.
    Done(T),
    /// Finished without success.
    Failed {
        /// The bank's reason or hint code, if any.
        reason: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_challenge_debug_leaves_out_bank_text_and_challenge_data() {
        let challenge = EmbeddedChallenge {
            otp_max_length: Some(6),
            otp_format: Some("call 0800 4711 now".into()),
            additional_information: Some("Your TAN for consent c-77 is on its way".into()),
            data: vec!["photo-tan-4711".into()],
            ..EmbeddedChallenge::default()
        };
        let wrapped = ScaChallenge::Embedded {
            handle: EmbeddedHandle::new("auth-1234"),
            methods: Vec::new(),
            challenge: Some(challenge.clone()),
        };
        for shown in [format!("{challenge:?}"), format!("{wrapped:?}")] {
            for hidden in ["0800", "c-77", "photo-tan-4711", "auth-1234"] {
                assert!(!shown.contains(hidden), "{hidden} in {shown}");
            }
            assert!(shown.contains("otp_max_length: Some(6)"), "{shown}");
        }
        let integer = EmbeddedChallenge {
            otp_format: Some("integer".into()),
            ..EmbeddedChallenge::default()
        };
        assert!(format!("{integer:?}").contains("\"integer\""));
    }

    #[test]
    fn callback_from_url() {
        let url = Url::parse("https://tpp.example/cb?code=abc123&state=xyz").unwrap();
        let cb = RedirectCallback::from_url(&url).unwrap();
        assert_eq!(cb.code.expose(), "abc123");
        assert_eq!(cb.state, "xyz");
        cb.verify_state("xyz").unwrap();
        assert_eq!(
            cb.verify_state("other").unwrap_err().kind,
            ErrorKind::InvalidInput
        );
        assert!(!format!("{cb:?}").contains("abc123"));

        let denied = Url::parse("https://tpp.example/cb?error=access_denied&state=xyz").unwrap();
        let err = RedirectCallback::from_url(&denied).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ScaRejected);
        assert_eq!(
            err.bank_messages()[0].code.as_deref(),
            Some("access_denied")
        );

        let missing = Url::parse("https://tpp.example/cb?state=xyz").unwrap();
        assert_eq!(
            RedirectCallback::from_url(&missing).unwrap_err().kind,
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn challenge_debug_hides_query_and_tokens() {
        let consent = "22aa3559-577d-441c-b9e6-664ac3311a3e";
        let redirect = ScaChallenge::Redirect {
            url: Url::parse(&format!(
                "https://bank.example/authorize?scope=AIS:{consent}&state=s1"
            ))
            .unwrap(),
            state: "s1".into(),
        };
        let debug = format!("{redirect:?}");
        assert!(!debug.contains(consent), "{debug}");
        assert!(debug.contains("https://bank.example/authorize"));

        let decoupled = ScaChallenge::Decoupled {
            handle: DecoupledHandle::new("order-ref-123").with_poll_href("/poll/order-ref-123"),
            auto_start_token: Some(Secret::new("autostart-456")),
            poll_interval: Duration::from_secs(2),
            message: None,
        };
        let debug = format!("{decoupled:?}");
        assert!(
            !debug.contains("order-ref-123") && !debug.contains("autostart-456"),
            "{debug}"
        );
    }

    #[test]
    fn authentication_types_keep_unknown_codes() {
        assert_eq!(
            AuthenticationType::from_bank_str("PUSH_OTP"),
            AuthenticationType::PushOtp
        );
        assert_eq!(AuthenticationType::PushOtp.as_str(), "PUSH_OTP");
        assert_eq!(
            AuthenticationType::from_bank_str("BIOMETRIC"),
            AuthenticationType::Other("BIOMETRIC".into())
        );
        let mut method = OfferedScaMethod::new(ScaApproach::Decoupled);
        method.authentication_type = Some(AuthenticationType::PushOtp);
        method.id = Some("mbid".into());
        assert_eq!(
            serde_json::to_value(&method).unwrap(),
            serde_json::json!({"approach": "decoupled", "id": "mbid", "authenticationType": "PUSH_OTP"})
        );
    }

    #[test]
    fn sca_status_codes() {
        assert_eq!(ScaStatus::from_bank_str("COMPLETE"), ScaStatus::Finalised);
        assert_eq!(ScaStatus::from_bank_str("PENDING"), ScaStatus::Pending);
        assert_eq!(ScaStatus::from_bank_str("FAILED"), ScaStatus::Failed);
        assert!(ScaStatus::Exempted.is_done());
        assert_eq!(
            ScaStatus::from_bank_str("USER_SIGN"),
            ScaStatus::Other("USER_SIGN".into())
        );
    }
}
