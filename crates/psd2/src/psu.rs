//! The PSU (payment service user) on whose behalf a call is made.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::macros::bank_enum;
use crate::secret::PsuId;

bank_enum! {
    /// Whether the PSU acts as a private person or for a company (Swedbank `PSU-Context`).
    pub enum PsuContext {
        /// A private person.
        Private = "PRIVATE",
        /// A company.
        Corporate = "CORPORATE",
    }
}

/// Who the call is for, and whether they are actively present.
///
/// `ip_address` is set only when the PSU actively initiated the request (they are at the
/// screen now): banks then receive `PSU-IP-Address` and do not count the call against the
/// consent's `frequencyPerDay`. Background refreshes use [`Psu::absent`], which sends no
/// `PSU-IP-Address`. `Debug` never shows the PSU id.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Psu {
    /// The PSU's login id at the bank (secret: redacted in `Debug`/`Serialize`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<PsuId>,
    /// The company's id when acting for a company (`PSU-Corporate-ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporate_id: Option<String>,
    /// The type of `corporate_id` (`PSU-Corporate-ID-Type`, Handelsbanken `BANK`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporate_id_type: Option<String>,
    /// Private or corporate context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<PsuContext>,
    /// The PSU's IP address; only when the PSU is actively present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<IpAddr>,
    /// The PSU's user agent, forwarded when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

impl Psu {
    /// A PSU actively present at `ip` (with their browser's user agent, if known).
    pub fn present(ip: IpAddr, user_agent: Option<String>) -> Self {
        Self {
            ip_address: Some(ip),
            user_agent,
            ..Self::default()
        }
    }

    /// A PSU not present (background access): no IP address is forwarded.
    pub fn absent() -> Self {
        Self::default()
    }

    /// Sets the PSU's login id.
    pub fn with_id(mut self, id: PsuId) -> Self {
        self.id = Some(id);
        self
    }

    /// Sets the corporate id and its type, and the corporate context.
    pub fn with_corporate(
        mut self,
        corporate_id: impl Into<String>,
        id_type: Option<String>,
    ) -> Self {
        self.corporate_id = Some(corporate_id.into());
        self.corporate_id_type = id_type;
        self.context = Some(PsuContext::Corporate);
        self
    }

    /// Whether the PSU is actively present (has an IP address).
    pub fn is_present(&self) -> bool {
        self.ip_address.is_some()
    }
}

impl fmt::Debug for Psu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Psu")
            .field("id", &self.id)
            .field("corporate_id", &self.corporate_id)
            .field("corporate_id_type", &self.corporate_id_type)
            .field("context", &self.context)
            .field("ip_address", &self.ip_address)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn present_and_absent() {
        let ip: IpAddr = "152.120.171.187".parse().unwrap();
        let p = Psu::present(ip, Some("Mozilla".into()));
        assert!(p.is_present());
        assert!(!Psu::absent().is_present());
        let c = Psu::absent().with_corporate("5560000001", Some("BANK".into()));
        assert_eq!(c.context, Some(PsuContext::Corporate));
    }

    #[test]
    fn psu_id_never_printed() {
        let secret = "199001011234";
        let p = Psu::absent().with_id(PsuId::new(secret));
        assert!(!format!("{p:?}").contains(secret));
        assert!(!format!("{p:#?}").contains(secret));
        assert!(!serde_json::to_string(&p).unwrap().contains(secret));
        assert_eq!(p.id.as_ref().unwrap().expose(), secret);
    }

    #[test]
    fn context_parses_any_case() {
        assert_eq!(PsuContext::from_bank_str("private"), PsuContext::Private);
        assert_eq!(
            PsuContext::from_bank_str("GROUP"),
            PsuContext::Other("GROUP".into())
        );
    }
}
