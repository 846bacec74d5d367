//! Test support: a sandbox plus an HTTP client whose every answer is checked against the
//! bank's spec (`psd2_sandbox::contract`), and small per-bank flow helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use psd2_sandbox::contract::Spec;
use psd2_sandbox::fixtures::{Account, AccountKind};
use psd2_sandbox::{Bank, RunningSandbox, SandboxBuilder};
use psd2_security::{SigningHook, SigningIdentity};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

// ---------- Full flows ----------

/// The size of every account's history in the flow tests (the sandbox default).
pub const FLOW_HISTORY: u64 = 10_000;

/// The sandbox the flow tests start from.
pub fn flows_builder() -> SandboxBuilder {
    psd2_sandbox::Sandbox::builder().seed(42).page_size(1000)
}

/// A `dateFrom` before the start of every account's two-year history.
pub fn two_years_back(tb: &Tb) -> String {
    (tb.sb.fixtures().today() - chrono::Days::new(800)).to_string()
}

/// A request body.
pub enum Body {
    /// No body.
    None,
    /// JSON.
    Json(Value),
    /// Form-urlencoded.
    Form(String),
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
    /// The string at JSON pointer `pointer` of the body (panics, naming it, when absent).
    pub fn text_at(&self, pointer: &str) -> String {
        match self.json().pointer(pointer).and_then(Value::as_str) {
            Some(s) => s.to_string(),
            None => panic!("no string at {pointer} in {}", self.json()),
        }
    }
    /// The query parameters of the `Location` header.
    pub fn location_query(&self) -> HashMap<String, String> {
        let loc = self.header("location").expect("no Location header");
        let url = url::Url::parse(&loc).expect("Location is not a URL");
        url.query_pairs().into_owned().collect()
    }
}

/// How to sign Swedbank requests.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// With the test identity.
    Good,
    /// Not at all.
    None,
    /// With a key that does not belong to the configured certificate.
    WrongKey,
}

pub struct Tb {
    pub sb: RunningSandbox,
    http: reqwest::Client,
    specs: HashMap<Bank, Spec>,
    signer: SigningHook,
    wrong_signer: SigningHook,
}

/// The signing identity of the sandbox's configured test certificate.
pub fn test_identity() -> SigningIdentity {
    SigningIdentity::from_pem(
        psd2_security::fixtures::TEST_SIGNING_CERT_PEM,
        psd2_security::fixtures::TEST_SIGNING_KEY_PEM,
    )
    .expect("identity")
}

pub fn rid() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Tb {
    pub async fn start(b: SandboxBuilder) -> Tb {
        let sb = b
            .signing_certificate_pem(psd2_security::fixtures::TEST_SIGNING_CERT_PEM)
            .build()
            .start()
            .await
            .expect("sandbox starts");
        let specs = Bank::ALL
            .into_iter()
            .map(|b| (b, Spec::for_bank(b).expect("spec loads")))
            .collect();
        let id = test_identity();
        let wrong = SigningIdentity::from_pem(
            psd2_security::fixtures::WRONG_SIGNING_CERT_PEM,
            psd2_security::fixtures::WRONG_SIGNING_KEY_PEM,
        )
        .expect("identity");
        Tb {
            sb,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            specs,
            signer: SigningHook::new(id),
            wrong_signer: SigningHook::new(wrong),
        }
    }

    pub fn url(&self, bank: Bank, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.sb.bank_url(bank))
        }
    }

    /// Sends a request and checks the answer against the bank's spec.
    pub async fn call(
        &self,
        bank: Bank,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Body,
    ) -> Resp {
        self.call_signed(bank, method, path, headers, body, Signing::Good)
            .await
    }

    /// Like [`Tb::call`] with a chosen Swedbank signing mode.
    pub async fn call_signed(
        &self,
        bank: Bank,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Body,
        signing: Signing,
    ) -> Resp {
        let resp = self.send(bank, method, path, headers, body, signing).await;
        let url = url::Url::parse(&self.url(bank, path)).expect("url");
        let prefix = format!("/{}", bank.prefix());
        let below = url.path().strip_prefix(&prefix).expect("bank prefix");
        let spec = &self.specs[&bank];
        if let Err(e) = spec.check(method, below, resp.status, &resp.headers, &resp.body) {
            panic!("contract violation: {e}");
        }
        resp
    }

    /// A `GET` without body, checked against the bank's spec.
    pub async fn get(&self, bank: Bank, path: &str, headers: &[(&'static str, String)]) -> Resp {
        self.call(bank, "GET", path, &refs(headers), Body::None)
            .await
    }

    /// A `DELETE` without body, checked against the bank's spec.
    pub async fn delete(&self, bank: Bank, path: &str, headers: &[(&'static str, String)]) -> Resp {
        self.call(bank, "DELETE", path, &refs(headers), Body::None)
            .await
    }

    /// A `POST` of a JSON body, checked against the bank's spec.
    pub async fn post(
        &self,
        bank: Bank,
        path: &str,
        headers: &[(&'static str, String)],
        body: Value,
    ) -> Resp {
        self.call(bank, "POST", path, &refs(headers), Body::Json(body))
            .await
    }

    /// Opens a browser page (the SCA pages, not in the specs): unsigned, no contract check.
    pub async fn page(&self, bank: Bank, path: &str) -> Resp {
        self.send(bank, "GET", path, &[], Body::None, Signing::None)
            .await
    }

    /// Sends without contract check (browser pages that are not in the specs).
    pub async fn send(
        &self,
        bank: Bank,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Body,
        signing: Signing,
    ) -> Resp {
        let url = self.url(bank, path);
        let mut hm = HeaderMap::new();
        for (k, v) in headers {
            hm.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let bytes: Vec<u8> = match &body {
            Body::None => Vec::new(),
            Body::Json(v) => {
                hm.insert("content-type", HeaderValue::from_static("application/json"));
                serde_json::to_vec(v).unwrap()
            }
            Body::Form(f) => {
                hm.insert(
                    "content-type",
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                );
                f.clone().into_bytes()
            }
        };
        if bank == Bank::Swedbank && !url.contains("/sca/authorize") {
            match signing {
                Signing::Good => self.signer.sign_headers(&mut hm, &bytes).unwrap(),
                Signing::WrongKey => self.wrong_signer.sign_headers(&mut hm, &bytes).unwrap(),
                Signing::None => {}
            }
        }
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self.http.request(m, &url).headers(hm);
        if !bytes.is_empty() {
            rb = rb.body(bytes);
        }
        let r = rb.send().await.expect("request sent");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.bytes().await.expect("body").to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self
            .http
            .request(m, format!("{}/admin{path}", self.sb.base_url()));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let s = r.status().as_u16();
        let t = r.text().await.unwrap();
        (s, serde_json::from_str(&t).unwrap_or(Value::Null))
    }
}

/// The payment accounts `psu` holds at `bank`, in fixture order.
pub fn payment_accounts<'a>(tb: &'a Tb, bank: Bank, psu: &str) -> Vec<&'a Account> {
    tb.sb
        .fixtures()
        .accounts_of(bank, psu, AccountKind::Payment)
}

// ---------- Handelsbanken ----------

pub fn hb_headers(token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("X-IBM-Client-Id", "client-1".to_string()),
        ("Authorization", format!("Bearer {token}")),
        ("Country", "SE".to_string()),
        ("TPP-Request-ID", rid()),
        ("TPP-Transaction-ID", rid()),
    ]
}

/// `headers` without the header `name`.
pub fn without(headers: &[(&'static str, String)], name: &str) -> Vec<(&'static str, String)> {
    headers
        .iter()
        .filter(|(k, _)| *k != name)
        .cloned()
        .collect()
}

pub fn refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Posts `form` to Handelsbanken's token endpoint; the raw answer.
pub async fn hb_token_request(tb: &Tb, form: String) -> Resp {
    tb.call(
        Bank::Handelsbanken,
        "POST",
        "/mlurd/oauth2/token/1.0",
        &[],
        Body::Form(form),
    )
    .await
}

/// A client credentials token of `client`.
pub async fn hb_ccg_for(tb: &Tb, client: &str) -> String {
    let r = hb_token_request(
        tb,
        format!("grant_type=client_credentials&scope=AIS&client_id={client}"),
    )
    .await;
    assert_eq!(r.status, 200);
    r.text_at("/access_token")
}

pub async fn hb_ccg(tb: &Tb) -> String {
    hb_ccg_for(tb, "client-1").await
}

pub async fn hb_create_consent(tb: &Tb, ccg: &str) -> String {
    let h = hb_headers(ccg);
    let r = tb
        .call(
            Bank::Handelsbanken,
            "POST",
            "/openbanking/psd2/v1/consents",
            &refs(&h),
            Body::Json(json!({"access": "ALL_ACCOUNTS"})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    r.text_at("/consentId")
}

/// Redirect SCA for `psu`, then the code exchange: the PSU token.
pub async fn hb_psu_token(tb: &Tb, psu: &str) -> (String, String) {
    let ccg = hb_ccg(tb).await;
    let cid = hb_create_consent(tb, &ccg).await;
    let page = format!(
        "/openbanking/redirect/oauth2/authorize/1.0?response_type=code&scope=AIS:{cid}&client_id=client-1&state=st&redirect_uri=https://tpp.example/cb&psu_id={psu}"
    );
    let r = tb.page(Bank::Handelsbanken, &page).await;
    assert_eq!(r.status, 302);
    let q = r.location_query();
    let code = q.get("code").expect("code").clone();
    let form = format!(
        "grant_type=authorization_code&code={code}&client_id=client-1&redirect_uri=https://tpp.example/cb"
    );
    let r = hb_token_request(tb, form).await;
    assert_eq!(r.status, 200);
    (cid, r.text_at("/access_token"))
}

// ---------- Open Payments ----------

/// A token from Open Payments' token endpoint for `form`.
pub async fn op_token_for(tb: &Tb, form: &str) -> String {
    let r = tb
        .call(
            Bank::OpenPayments,
            "POST",
            "/connect/token",
            &[],
            Body::Form(form.to_string()),
        )
        .await;
    assert_eq!(r.status, 200);
    r.text_at("/access_token")
}

pub async fn op_token(tb: &Tb) -> String {
    op_token_for(
        tb,
        "grant_type=client_credentials&client_id=client-1&client_secret=x&scope=accountinformation%20corporate",
    )
    .await
}

/// Open Payments' account list under `consent`.
pub async fn op_accounts(tb: &Tb, token: &str, consent: &str) -> Resp {
    tb.get(
        Bank::OpenPayments,
        "/psd2/accountinformation/v1/accounts",
        &op_headers(token, Some(consent)),
    )
    .await
}

pub fn op_headers(token: &str, consent: Option<&str>) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("Authorization", format!("Bearer {token}")),
        ("X-Request-ID", rid()),
        ("X-BicFi", "ESSESESS".to_string()),
        ("PSU-IP-Address", "10.1.2.3".to_string()),
    ];
    if let Some(c) = consent {
        h.push(("Consent-ID", c.to_string()));
    }
    h
}

/// The status of Open Payments consent `cid`.
pub async fn op_consent_status(tb: &Tb, token: &str, cid: &str) -> Resp {
    tb.get(
        Bank::OpenPayments,
        &format!("/psd2/consent/v1/consents/{cid}/status"),
        &op_headers(token, None),
    )
    .await
}

pub fn bg_consent_body(freq: u32) -> Value {
    json!({"access": {}, "combinedServiceIndicator": false, "frequencyPerDay": freq, "recurringIndicator": true, "validUntil": "2099-12-31"})
}

pub async fn op_create_consent(tb: &Tb, token: &str, psu: &str, freq: u32) -> String {
    let mut h = op_headers(token, None);
    h.push(("PSU-ID", psu.to_string()));
    let r = tb
        .call(
            Bank::OpenPayments,
            "POST",
            "/psd2/consent/v1/consents",
            &refs(&h),
            Body::Json(bg_consent_body(freq)),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json());
    r.text_at("/consentId")
}

/// Decoupled (mbid) SCA: polls until final; returns the final scaStatus.
pub async fn op_decoupled(tb: &Tb, token: &str, cid: &str) -> (String, u32) {
    let h = op_headers(token, None);
    let r = tb
        .call(
            Bank::OpenPayments,
            "POST",
            &format!("/psd2/consent/v1/consents/{cid}/authorisations"),
            &refs(&h),
            Body::Json(json!({"authenticationMethodId": "mbid"})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json());
    let href = r.text_at("/_links/scaStatus/href");
    let mut polls = 0;
    loop {
        polls += 1;
        let r = tb
            .call(
                Bank::OpenPayments,
                "GET",
                &href,
                &refs(&op_headers(token, None)),
                Body::None,
            )
            .await;
        assert_eq!(r.status, 200);
        let s = r.text_at("/scaStatus");
        if s != "started" {
            return (s, polls);
        }
        assert!(polls < 20, "decoupled SCA never finished");
    }
}

pub async fn op_valid_consent(tb: &Tb, psu: &str, freq: u32) -> (String, String) {
    let token = op_token(tb).await;
    let cid = op_create_consent(tb, &token, psu, freq).await;
    let (s, _) = op_decoupled(tb, &token, &cid).await;
    assert_eq!(s, "finalised");
    (token, cid)
}

// ---------- Swedbank ----------

pub fn sw_headers(consent: Option<&str>) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("X-Request-ID", rid()),
        ("PSU-IP-Address", "10.1.2.3".to_string()),
    ];
    if let Some(c) = consent {
        h.push(("Consent-ID", c.to_string()));
    }
    h
}

/// The status of Swedbank consent `cid`.
pub async fn sw_consent_status(tb: &Tb, cid: &str) -> Resp {
    tb.get(
        Bank::Swedbank,
        &format!("/v1/consents/{cid}/status"),
        &sw_headers(None),
    )
    .await
}

/// Posts a Swedbank "create consent" with `body` (for `psu`, if given); the raw answer.
pub async fn sw_post_consent(tb: &Tb, psu: Option<&str>, body: Value) -> Resp {
    let mut h = sw_headers(None);
    if let Some(p) = psu {
        h.push(("PSU-ID", p.to_string()));
    }
    tb.call(
        Bank::Swedbank,
        "POST",
        "/v1/consents",
        &refs(&h),
        Body::Json(body),
    )
    .await
}

/// Posts a Swedbank "create consent" (no PSU) signed as `signing` says; the raw answer.
pub async fn sw_post_consent_signed(tb: &Tb, signing: Signing) -> Resp {
    tb.call_signed(
        Bank::Swedbank,
        "POST",
        "/v1/consents",
        &refs(&sw_headers(None)),
        Body::Json(bg_consent_body(4)),
        signing,
    )
    .await
}

pub async fn sw_create_consent(tb: &Tb, psu: Option<&str>, freq: u32) -> String {
    let r = sw_post_consent(tb, psu, bg_consent_body(freq)).await;
    assert_eq!(r.status, 201, "{:?}", r.json());
    r.text_at("/consentId")
}

/// Starts an authorisation of Swedbank consent `cid` with one more header; the raw answer.
pub async fn sw_start_authorisation(tb: &Tb, cid: &str, extra: (&'static str, &str)) -> Resp {
    let mut h = sw_headers(None);
    h.push((extra.0, extra.1.to_string()));
    tb.post(
        Bank::Swedbank,
        &format!("/v1/consents/{cid}/authorisations"),
        &h,
        json!({}),
    )
    .await
}

/// Redirect SCA through the sandbox's SCA page; returns the Location query.
pub async fn sw_redirect(tb: &Tb, cid: &str, psu: &str) -> HashMap<String, String> {
    let r = sw_start_authorisation(tb, cid, ("TPP-Redirect-URI", "https://tpp.example/cb")).await;
    assert_eq!(r.status, 201, "{:?}", r.json());
    let href = r.text_at("/_links/scaRedirect/href");
    let page = format!("{href}&state=s1&psu_id={psu}");
    let r = tb.page(Bank::Swedbank, &page).await;
    assert_eq!(r.status, 302);
    r.location_query()
}

pub async fn sw_valid_consent(tb: &Tb, psu: &str, freq: u32) -> String {
    let cid = sw_create_consent(tb, Some(psu), freq).await;
    let q = sw_redirect(tb, &cid, psu).await;
    assert_eq!(q.get("state").map(String::as_str), Some("s1"));
    assert!(q.contains_key("code"));
    cid
}
