//! Test support for registry banks: a sandbox serving profiles written by the test, and a
//! client whose every answer is checked against `specs/berlingroup/berlingroup.yaml`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use psd2_sandbox::contract::Spec;
use psd2_sandbox::{Registry, RegistryEntry, RunningSandbox, Sandbox};
use psd2_security::{SigningHook, SigningIdentity};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

/// The sandbox's "today" in these tests.
pub fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()
}

/// A complete registry file; `edits` replace `key = value` lines (matched by `key = `)
/// or, for keys not in the template, are added at the end of `[profile]`.
pub fn profile_toml(edits: &[(&str, &str)]) -> String {
    let template = r#"
name = "Test Bank"
country = "DE"
bics = ["TESTDEFF"]
platform = "testplatform"

[urls]
live = "https://api.test-bank.invalid"

[profile]
sca_approaches = ["redirect"]
psu_id = "optional"
psu_ip_address = "optional"
error_shape = "tpp_messages"
hooks = []

[profile.security]
signatures = false
mtls = false

[profile.consent]
scopes = ["detailed", "available_accounts", "all_psd2"]
max_frequency_per_day = 4
max_valid_days = 180

[profile.accounts]
with_balance = true
card_accounts = false

[profile.transactions]
booking_statuses = ["booked", "pending", "both"]
history_days = 730
page_size = 500
ids_stable_across_booking = true
date_filter = "booking_date"
details = true

[profile.extra_headers]

[profile.error_codes]
"#;
    let mut lines: Vec<String> = template.lines().map(str::to_string).collect();
    for (key, value) in edits {
        let top = ["name", "country", "bics", "platform"].contains(key);
        let (table, name) = key.rsplit_once('.').unwrap_or(("profile", key));
        let header = format!("[{table}]");
        let start = if top {
            0
        } else {
            lines
                .iter()
                .position(|l| *l == header)
                .unwrap_or_else(|| panic!("no table {header}"))
        };
        let end = lines[start + 1..]
            .iter()
            .position(|l| l.starts_with('['))
            .map_or(lines.len(), |p| start + 1 + p);
        let prefix = format!("{name} = ");
        let line = format!("{name} = {value}");
        match lines[start..end]
            .iter()
            .position(|l| l.starts_with(&prefix))
        {
            Some(p) => lines[start + p] = line,
            None => lines.insert(start + 1, line),
        }
    }
    lines.join("\n")
}

/// A registry of the given `(id, toml)` files, written to a temp dir and loaded from it.
pub fn registry(files: &[(&str, String)]) -> Registry {
    let dir = tempfile::tempdir().unwrap();
    for (id, text) in files {
        std::fs::write(dir.path().join(format!("{id}.toml")), text).unwrap();
    }
    Registry::from_dir(dir.path()).expect("test profiles load")
}

/// A response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
    pub fn text(&self, pointer: &str) -> String {
        self.json()
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no string at {pointer}: {}", self.json()))
            .to_string()
    }
    /// The error code of a `tppMessages` or problem+json body.
    pub fn code(&self) -> String {
        let v = self.json();
        v.pointer("/tppMessages/0/code")
            .or_else(|| v.get("code"))
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no error code in {v}"))
            .to_string()
    }
    /// `(status, code)` of an error answer.
    pub fn error(&self) -> (u16, String) {
        (self.status, self.code())
    }
}

/// How to sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    None,
    Good,
    WrongKey,
}

/// A sandbox with registry banks and a contract-checking client.
pub struct Bg {
    pub sb: RunningSandbox,
    http: reqwest::Client,
    spec: Spec,
    signer: SigningHook,
    wrong_signer: SigningHook,
    entries: HashMap<String, RegistryEntry>,
    /// Headers sent on every call (besides `X-Request-ID`).
    pub always: Vec<(String, String)>,
}

fn identity(cert: &str, key: &str) -> SigningIdentity {
    SigningIdentity::from_pem(cert, key).expect("identity")
}

impl Bg {
    /// Starts a sandbox serving `registry`.
    pub async fn start(registry: Registry) -> Bg {
        let entries = registry
            .entries()
            .iter()
            .map(|e| (e.id.clone(), e.clone()))
            .collect();
        let sb = Sandbox::builder()
            .seed(3)
            .today(today())
            .decoupled_pending_polls(2)
            .signing_certificate_pem(psd2_security::fixtures::TEST_SIGNING_CERT_PEM)
            .registry(registry)
            .build()
            .start()
            .await
            .expect("sandbox starts");
        let spec_path = psd2_sandbox::contract::berlingroup_spec_path();
        Bg {
            sb,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            spec: Spec::load(&spec_path).expect("Berlin Group spec loads"),
            signer: SigningHook::new(identity(
                psd2_security::fixtures::TEST_SIGNING_CERT_PEM,
                psd2_security::fixtures::TEST_SIGNING_KEY_PEM,
            )),
            wrong_signer: SigningHook::new(identity(
                psd2_security::fixtures::WRONG_SIGNING_CERT_PEM,
                psd2_security::fixtures::WRONG_SIGNING_KEY_PEM,
            )),
            entries,
            always: Vec::new(),
        }
    }

    pub fn entry(&self, id: &str) -> &RegistryEntry {
        &self.entries[id]
    }

    /// The absolute URL of `path` at bank `id` (absolute paths are kept).
    pub fn url(&self, id: &str, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.sb.registry_url(self.entry(id)))
        }
    }

    /// Sends a request (signed when the profile asks for signatures) and checks the answer
    /// against the Berlin Group spec.
    pub async fn call(
        &self,
        id: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Resp {
        let signing = if self.entry(id).profile.security.signatures {
            Signing::Good
        } else {
            Signing::None
        };
        self.call_signed(id, method, path, headers, body, signing)
            .await
    }

    /// [`Bg::call`] with a chosen signing mode.
    pub async fn call_signed(
        &self,
        id: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
        signing: Signing,
    ) -> Resp {
        let url = self.url(id, path);
        let resp = self.send(&url, method, headers, body, signing).await;
        let parsed = url::Url::parse(&url).unwrap();
        let below = parsed
            .path()
            .strip_prefix(&self.entry(id).sandbox_path())
            .expect("bank path");
        if let Err(e) = self
            .spec
            .check(method, below, resp.status, &resp.headers, &resp.body)
        {
            panic!("contract violation: {e}");
        }
        resp
    }

    /// Sends without a contract check.
    pub async fn send(
        &self,
        url: &str,
        method: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
        signing: Signing,
    ) -> Resp {
        let mut hm = HeaderMap::new();
        let rid = uuid::Uuid::new_v4().to_string();
        hm.insert("x-request-id", HeaderValue::from_str(&rid).unwrap());
        for (k, v) in &self.always {
            hm.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        for (k, v) in headers {
            let name = HeaderName::from_bytes(k.as_bytes()).unwrap();
            if v.is_empty() {
                hm.remove(name);
            } else {
                hm.insert(name, HeaderValue::from_str(v).unwrap());
            }
        }
        let bytes = body
            .map(|b| {
                hm.insert("content-type", HeaderValue::from_static("application/json"));
                serde_json::to_vec(&b).unwrap()
            })
            .unwrap_or_default();
        match signing {
            Signing::Good => self.signer.sign_headers(&mut hm, &bytes).unwrap(),
            Signing::WrongKey => self.wrong_signer.sign_headers(&mut hm, &bytes).unwrap(),
            Signing::None => {}
        }
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self.http.request(m, url).headers(hm);
        if !bytes.is_empty() {
            rb = rb.body(bytes);
        }
        let r = rb.send().await.expect("request sent");
        Resp {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            body: r.bytes().await.unwrap().to_vec(),
        }
    }

    pub async fn get(&self, id: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.call(id, "GET", path, headers, None).await
    }

    /// Creates a consent with `access` and `frequencyPerDay`; the raw answer.
    pub async fn post_consent(
        &self,
        id: &str,
        headers: &[(&str, &str)],
        access: Value,
        freq: u32,
        valid_until: &str,
    ) -> Resp {
        let body = json!({
            "access": access,
            "recurringIndicator": true,
            "validUntil": valid_until,
            "frequencyPerDay": freq,
            "combinedServiceIndicator": false,
        });
        self.call(id, "POST", "/v1/consents", headers, Some(body))
            .await
    }

    /// A new `allPsd2` consent's id (PSU `private-1`).
    pub async fn consent(&self, id: &str) -> String {
        let r = self
            .post_consent(
                id,
                &[("PSU-ID", "private-1")],
                json!({"allPsd2": "allAccounts"}),
                4,
                "2026-09-30",
            )
            .await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        r.text("/consentId")
    }

    /// Starts an authorisation of consent `cid`.
    pub async fn start_auth(
        &self,
        id: &str,
        cid: &str,
        headers: &[(&str, &str)],
        body: Value,
    ) -> Resp {
        self.call(
            id,
            "POST",
            &format!("/v1/consents/{cid}/authorisations"),
            headers,
            Some(body),
        )
        .await
    }

    /// Authorises `cid` by redirect: the page's 302 carries `state`; the SCA status is
    /// then `finalised`.
    pub async fn redirect_sca(&self, id: &str, cid: &str) {
        let r = self
            .start_auth(id, cid, &[("TPP-Redirect-Preferred", "true")], json!({}))
            .await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.header("aspsp-sca-approach").as_deref(), Some("REDIRECT"));
        let page = format!(
            "{}&redirect_uri=https%3A%2F%2Ftpp.invalid%2Fcb&state=s1",
            r.text("/_links/scaRedirect/href")
        );
        let back = self.send(&page, "GET", &[], None, Signing::None).await;
        assert_eq!(back.status, 302);
        let location = back.header("location").unwrap();
        assert!(
            location.starts_with("https://tpp.invalid/cb?code="),
            "{location}"
        );
        assert!(location.ends_with("&state=s1"), "{location}");
        let status = self.get(id, &r.text("/_links/scaStatus/href"), &[]).await;
        assert_eq!(status.text("/scaStatus"), "finalised");
    }

    /// A valid `allPsd2` consent of `private-1`, authorised by redirect.
    pub async fn valid_consent(&self, id: &str) -> String {
        let cid = self.consent(id).await;
        self.redirect_sca(id, &cid).await;
        cid
    }

    /// The first account of a consent's account list.
    pub async fn first_account(&self, id: &str, cid: &str) -> Value {
        let r = self.get(id, "/v1/accounts", &[("Consent-ID", cid)]).await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        r.json()["accounts"][0].clone()
    }
}

/// The PSU's IP address the tests send (the PSU is present: calls are not counted).
pub const PSU_IP: (&str, &str) = ("PSU-IP-Address", "192.0.2.10");

/// A sandbox serving `files`, every call sent with [`PSU_IP`].
pub async fn start(files: &[(&str, String)]) -> Bg {
    let mut bg = Bg::start(registry(files)).await;
    bg.always.push((PSU_IP.0.into(), PSU_IP.1.into()));
    bg
}

/// `n` days before [`today`].
pub fn days_back(n: u64) -> String {
    (today() - chrono::Days::new(n)).to_string()
}
