//! An independent Berlin Group client for the checks: plain `reqwest` and `serde_json`,
//! reading the field names of the NextGenPSD2 standard, signing with `psd2-security` where
//! the bank wants signatures. It shares no code with the facade's adapter, so what it
//! counts is a second opinion on what the adapter reports.

use std::collections::{BTreeMap, HashSet};

use psd2_security::SigningHook;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

/// The headers a Berlin Group TPP call carries, besides `Consent-ID`.
#[derive(Clone)]
pub struct Wire {
    /// The bank's base URL (before `/v1`).
    pub base: Url,
    /// The bank's static headers (`extra_headers` of its profile).
    pub extra_headers: BTreeMap<String, String>,
    /// Signs every request when the bank wants signatures.
    pub signer: Option<SigningHook>,
    /// The PSU's IP address (sent on every call: the PSU is present; empty: not sent).
    pub psu_ip: String,
    /// The PSU's id (sent on consent creation; empty: not sent).
    pub psu_id: String,
    http: reqwest::Client,
}

/// One answer: status, the headers we look at, and the body as JSON (`Null` when empty or
/// not JSON).
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// `ASPSP-SCA-Approach`, if any.
    pub sca_approach: Option<String>,
    /// The body.
    pub json: Value,
}

impl Answer {
    /// The start of the body, for assertion messages.
    pub fn excerpt(&self) -> String {
        self.json.to_string().chars().take(300).collect()
    }

    /// The Berlin Group error codes of the body, whichever of the three shapes it has
    /// (`tppMessages[].code`, problem+json `code` / `additionalErrors[].code`, a flat
    /// `code`).
    pub fn error_codes(&self) -> Vec<String> {
        let mut codes = Vec::new();
        let text = |v: &Value| v.get("code").and_then(Value::as_str).map(str::to_string);
        for list in ["tppMessages", "additionalErrors"] {
            if let Some(items) = self.json.get(list).and_then(Value::as_array) {
                codes.extend(items.iter().filter_map(text));
            }
        }
        codes.extend(text(&self.json));
        codes
    }
}

/// Every entry of one transaction listing, walked over every page.
#[derive(Debug, Default)]
pub struct Walk {
    /// Entries per page, in page order (booked plus pending plus information).
    pub page_sizes: Vec<usize>,
    /// The key of every entry (`transactionId`, else `entryReference`), with its status.
    pub entries: Vec<(String, &'static str)>,
    /// Entries without any id.
    pub without_id: usize,
}

impl Walk {
    /// How many entries of `status` (`booked`, `pending`).
    pub fn count(&self, status: &str) -> usize {
        self.entries.iter().filter(|(_, s)| *s == status).count()
    }

    /// How many entries in all (with or without ids).
    pub fn total(&self) -> usize {
        self.entries.len().saturating_add(self.without_id)
    }
}

impl Wire {
    /// A client for the bank at `base`.
    pub fn new(
        base: Url,
        extra_headers: BTreeMap<String, String>,
        signer: Option<SigningHook>,
        psu_id: &str,
    ) -> Self {
        Self {
            base,
            extra_headers,
            signer,
            psu_ip: "192.0.2.10".into(),
            psu_id: psu_id.into(),
            http: reqwest::Client::new(),
        }
    }

    /// `href` (absolute, origin-relative or relative to the bank's base) as a URL.
    pub fn resolve(&self, href: &str) -> Url {
        if let Ok(url) = Url::parse(href) {
            return url;
        }
        let prefix = self.base.path().trim_end_matches('/');
        if href.starts_with('/') && !prefix.is_empty() && href.starts_with(prefix) {
            return self.base.join(href).unwrap();
        }
        Url::parse(&format!(
            "{}{href}",
            self.base.as_str().trim_end_matches('/')
        ))
        .unwrap()
    }

    /// Sends one request with the standard headers (and `Consent-ID` when given), signed
    /// when the bank wants it; `skip_signing` leaves the signature out (to see the refusal).
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        consent: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Value>,
        skip_signing: bool,
    ) -> Answer {
        let mut builder = self
            .http
            .request(method, url)
            .header("X-Request-ID", uuid::Uuid::new_v4().to_string())
            .header("Accept", "application/json");
        if !self.psu_ip.is_empty() {
            builder = builder.header("PSU-IP-Address", &self.psu_ip);
        }
        for (name, value) in &self.extra_headers {
            builder = builder.header(name, value);
        }
        if let Some(consent) = consent {
            builder = builder.header("Consent-ID", consent);
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        if let Some(body) = body {
            builder = builder
                .header("Content-Type", "application/json")
                .body(serde_json::to_vec(body).unwrap());
        }
        let mut request = builder.build().unwrap();
        if let (Some(signer), false) = (&self.signer, skip_signing) {
            signer.sign_request(&mut request).unwrap();
        }
        let response = self.http.execute(request).await.unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let status = response.status();
        let content_type = header("content-type");
        let sca_approach = header("aspsp-sca-approach");
        let bytes = response.bytes().await.unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            content_type,
            sca_approach,
            json,
        }
    }

    /// `GET base + path` under `consent`.
    pub async fn get(&self, path: &str, consent: &str) -> Answer {
        self.send(
            Method::GET,
            self.resolve(path),
            Some(consent),
            &[],
            None,
            false,
        )
        .await
    }

    /// `GET base + path` without any consent (e.g. to see how the bank refuses).
    pub async fn get_anonymous(&self, path: &str, skip_signing: bool) -> Answer {
        self.send(
            Method::GET,
            self.resolve(path),
            None,
            &[],
            None,
            skip_signing,
        )
        .await
    }

    /// `POST /v1/consents` with `body` and extra `headers` (e.g. an SCA preference).
    pub async fn create_consent(&self, body: &Value, headers: &[(&str, &str)]) -> Answer {
        let mut all = Vec::new();
        if !self.psu_id.is_empty() {
            all.push(("PSU-ID", self.psu_id.as_str()));
        }
        all.extend_from_slice(headers);
        self.send(
            Method::POST,
            self.resolve("/v1/consents"),
            None,
            &all,
            Some(body),
            false,
        )
        .await
    }

    /// Walks `GET /v1/accounts/{account}/transactions?query` and every `_links.next`.
    pub async fn walk_transactions(
        &self,
        consent: &str,
        account: &str,
        query: &[(&str, String)],
    ) -> Walk {
        self.walk(
            consent,
            &format!("/v1/accounts/{account}/transactions"),
            query,
        )
        .await
    }

    /// Walks `GET path?query` (a transaction listing) and every `_links.next`.
    pub async fn walk(&self, consent: &str, path: &str, query: &[(&str, String)]) -> Walk {
        let mut url = self.resolve(path);
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        let mut walk = Walk::default();
        let mut seen = HashSet::new();
        loop {
            assert!(seen.insert(url.to_string()), "a next link repeats: {url}");
            let answer = self
                .send(Method::GET, url.clone(), Some(consent), &[], None, false)
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{url}: {}", answer.excerpt());
            // Card account reports name their list `cardTransactions`.
            let report = match answer.json.get("cardTransactions") {
                Some(cards) => cards,
                None => &answer.json["transactions"],
            };
            let mut on_page = 0_usize;
            for status in ["booked", "pending", "information"] {
                for entry in report[status].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                    on_page += 1;
                    let key = entry
                        .get("transactionId")
                        .or_else(|| entry.get("entryReference"))
                        .and_then(Value::as_str);
                    match key {
                        Some(key) => walk.entries.push((key.to_string(), status)),
                        None => walk.without_id += 1,
                    }
                }
            }
            walk.page_sizes.push(on_page);
            let next = report["_links"]["next"]["href"]
                .as_str()
                .or(answer.json["_links"]["next"]["href"].as_str());
            match next {
                Some(next) => url = self.resolve(next),
                None => return walk,
            }
        }
    }
}
