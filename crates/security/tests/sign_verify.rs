//! Signing with `SigningHook` and verifying with `verify_request`, including the failure modes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue};
use psd2_hooks::Hooks;
use psd2_security::cavage::SignatureParams;
use psd2_security::{
    IdentityError, SigningHook, SigningIdentity, VerifyError, rfc2047, verify_request,
};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const CERT: &str = include_str!("../fixtures/test-signing-cert.pem");
const KEY: &str = include_str!("../fixtures/test-signing-key.pem");
const KEY_PKCS1: &str = include_str!("../fixtures/test-signing-key-pkcs1.pem");
const WRONG_CERT: &str = include_str!("../fixtures/wrong-signing-cert.pem");
const WRONG_KEY: &str = include_str!("../fixtures/wrong-signing-key.pem");

/// 1994-11-06T08:49:37Z, RFC 9110's example date.
fn fixed_clock() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(784_111_777)
}

fn hook() -> SigningHook {
    SigningHook::new(SigningIdentity::from_pem(CERT, KEY).expect("fixture identity"))
        .with_clock(fixed_clock)
}

fn signature_params(headers: &HeaderMap) -> SignatureParams {
    let raw = headers["signature"].to_str().expect("ascii");
    let decoded = rfc2047::decode(raw);
    SignatureParams::parse(decoded.as_deref().unwrap_or(raw)).expect("parses")
}

fn signed(extra: &[(&'static str, HeaderValue)], body: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-request-id",
        HeaderValue::from_static("99391c7e-ad88-49ec-a2ad-99ddcb1f7721"),
    );
    for (name, value) in extra {
        headers.append(*name, value.clone());
    }
    hook().sign_headers(&mut headers, body).expect("signs");
    headers
}

#[test]
fn key_id_comes_from_the_fixture_certificate() {
    let identity = SigningIdentity::from_pem(CERT, KEY).expect("fixture identity");
    assert_eq!(identity.serial_hex(), "5D2A0F11C3B7E4");
    assert_eq!(identity.issuer_dn(), "CN=psd2-rs Test CA,O=psd2-rs,C=SE");
    assert_eq!(
        identity.key_id(),
        "SN=5D2A0F11C3B7E4,CA=CN=psd2-rs Test CA,O=psd2-rs,C=SE"
    );
    let wrong = SigningIdentity::from_pem(WRONG_CERT, WRONG_KEY).expect("wrong identity");
    assert_eq!(
        wrong.key_id(),
        "SN=0BADC0FFEE,CA=CN=psd2-rs Wrong Test CA,O=psd2-rs,C=SE"
    );
}

#[test]
fn pkcs1_key_files_and_mismatches() {
    let pkcs1 = SigningIdentity::from_pem(CERT, KEY_PKCS1).expect("PKCS#1 key works");
    let pkcs8 = SigningIdentity::from_pem(CERT, KEY).expect("PKCS#8 key works");
    // PKCS#1 v1.5 is deterministic: same key, same signature.
    assert_eq!(
        pkcs1.sign(b"abc").expect("sign"),
        pkcs8.sign(b"abc").expect("sign")
    );
    let dir = env!("CARGO_MANIFEST_DIR");
    let from_files = SigningIdentity::from_files(
        format!("{dir}/fixtures/test-signing-cert.pem"),
        format!("{dir}/fixtures/test-signing-key.pem"),
    )
    .expect("from files");
    assert_eq!(from_files.key_id(), pkcs8.key_id());

    assert!(matches!(
        SigningIdentity::from_pem(CERT, WRONG_KEY),
        Err(IdentityError::KeyCertificateMismatch)
    ));
    assert!(matches!(
        SigningIdentity::from_pem(CERT, CERT),
        Err(IdentityError::Key(_))
    ));
    assert!(matches!(
        SigningIdentity::from_pem(KEY, KEY),
        Err(IdentityError::Certificate(_))
    ));
    let missing = SigningIdentity::from_files("/nonexistent/cert.pem", "/nonexistent/key.pem")
        .expect_err("no such file");
    assert!(
        missing.to_string().contains("/nonexistent/cert.pem"),
        "{missing}"
    );
}

#[test]
fn debug_never_shows_key_material() {
    let identity = SigningIdentity::from_pem(CERT, KEY).expect("fixture identity");
    let identity_debug = format!("{identity:?}");
    let debug = format!("{identity_debug} {:?}", SigningHook::new(identity));
    assert!(debug.contains("SN=5D2A0F11C3B7E4"), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
    // No line of the PEM body (base64 of the key) appears.
    for line in KEY.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!debug.contains(line), "key material leaked into Debug");
    }
}

#[test]
fn get_without_body_gets_all_headers_and_verifies() {
    let headers = signed(&[], b"");
    assert_eq!(
        headers["digest"],
        "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    );
    assert_eq!(headers["date"], "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_eq!(
        headers["x-request-id"],
        "99391c7e-ad88-49ec-a2ad-99ddcb1f7721"
    );
    let der = STANDARD
        .decode(headers["tpp-signature-certificate"].as_bytes())
        .expect("base64");
    assert!(CERT.contains(&STANDARD.encode(&der)[..60]));
    let sig = headers["signature"].to_str().expect("ascii");
    assert!(
        sig.starts_with(
            "keyId=\"SN=5D2A0F11C3B7E4,CA=CN=psd2-rs Test CA,O=psd2-rs,C=SE\",\
             algorithm=\"rsa-sha256\",headers=\"digest x-request-id date\",signature=\""
        ),
        "{sig}"
    );
    verify_request("GET", "/v1/accounts", &headers, b"", CERT).expect("verifies");
}

#[test]
fn existing_date_is_kept_and_missing_request_id_is_added() {
    let mut headers = HeaderMap::new();
    headers.insert(
        "date",
        HeaderValue::from_static("Mon, 01 Jan 2024 00:00:00 GMT"),
    );
    hook().sign_headers(&mut headers, b"{}").expect("signs");
    assert_eq!(headers["date"], "Mon, 01 Jan 2024 00:00:00 GMT");
    let id = headers["x-request-id"].to_str().expect("ascii");
    let uuid = uuid::Uuid::parse_str(id).expect("a uuid");
    assert_eq!(uuid.get_version_num(), 4);
    verify_request("POST", "/v1/consents", &headers, b"{}", CERT).expect("verifies");
}

#[test]
fn headers_list_has_the_required_order_and_only_present_headers() {
    let all = signed(
        &[
            (
                "tpp-redirect-uri",
                HeaderValue::from_static("https://tpp.example/cb"),
            ),
            ("psu-corporate-id", HeaderValue::from_static("5560000001")),
            ("psu-id", HeaderValue::from_static("corporate-1")),
            ("content-type", HeaderValue::from_static("application/json")),
        ],
        b"{\"access\":{}}",
    );
    assert_eq!(
        signature_params(&all).headers,
        vec![
            "digest",
            "x-request-id",
            "psu-id",
            "psu-corporate-id",
            "tpp-redirect-uri",
            "date"
        ]
    );
    verify_request("POST", "/v1/consents", &all, b"{\"access\":{}}", CERT).expect("verifies");

    let some = signed(&[("PSU-ID", HeaderValue::from_static("private-1"))], b"");
    assert_eq!(
        signature_params(&some).headers,
        vec!["digest", "x-request-id", "psu-id", "date"]
    );
    verify_request("GET", "/v1/accounts", &some, b"", CERT).expect("verifies");
}

#[test]
fn non_ascii_psu_id_is_sent_and_signed_rfc2047_encoded() {
    let raw = HeaderValue::from_bytes("Åsa Öberg".as_bytes()).expect("obs-text allowed");
    let headers = signed(&[("psu-id", raw)], b"");
    assert_eq!(headers["psu-id"], "=?utf-8?B?w4VzYSDDlmJlcmc=?=");
    assert_eq!(
        rfc2047::decode(headers["psu-id"].to_str().expect("ascii")).as_deref(),
        Some("Åsa Öberg")
    );
    verify_request("GET", "/v1/accounts", &headers, b"", CERT).expect("verifies");
}

#[test]
fn non_ascii_issuer_makes_the_signature_header_an_encoded_word() {
    // A throwaway CA and leaf with a non-ASCII issuer, made with rcgen.
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.distinguished_name = rcgen::DistinguishedName::new();
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CountryName, "SE");
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Åländsk Test-CA, Ö");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("rsa key");
    let ca = ca_params.self_signed(&ca_key).expect("ca");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let mut leaf_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    leaf_params.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x00, 0xAB, 0xCD]));
    let leaf_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("rsa key");
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).expect("leaf");
    drop(ca);
    let cert_pem = leaf.pem();
    let identity =
        SigningIdentity::from_pem(&cert_pem, leaf_key.serialize_pem()).expect("identity");
    assert_eq!(identity.issuer_dn(), "CN=Åländsk Test-CA\\, Ö,C=SE");
    assert_eq!(identity.serial_hex(), "ABCD");

    let mut headers = HeaderMap::new();
    headers.insert("x-request-id", HeaderValue::from_static("r-1"));
    SigningHook::new(identity)
        .sign_headers(&mut headers, b"x")
        .expect("signs");
    let wire = headers["signature"]
        .to_str()
        .expect("the wire value is ASCII");
    assert!(
        wire.starts_with("=?utf-8?B?") && wire.ends_with("?="),
        "{wire}"
    );
    let params = signature_params(&headers);
    assert_eq!(params.key_id, "SN=ABCD,CA=CN=Åländsk Test-CA\\, Ö,C=SE");
    verify_request("PUT", "/x", &headers, b"x", &cert_pem).expect("verifies");
}

#[test]
fn tampered_body_is_a_digest_mismatch() {
    let headers = signed(&[], b"{\"amount\":\"1.00\"}");
    assert_eq!(
        verify_request("POST", "/p", &headers, b"{\"amount\":\"9.00\"}", CERT),
        Err(VerifyError::DigestMismatch)
    );
}

#[test]
fn tampered_signed_header_is_an_invalid_signature() {
    let mut headers = signed(&[("psu-id", HeaderValue::from_static("private-1"))], b"");
    headers.insert("psu-id", HeaderValue::from_static("private-2"));
    assert_eq!(
        verify_request("GET", "/v1/accounts", &headers, b"", CERT),
        Err(VerifyError::SignatureInvalid)
    );
    let mut headers = signed(&[], b"");
    headers.insert(
        "date",
        HeaderValue::from_static("Mon, 07 Nov 1994 08:49:37 GMT"),
    );
    assert_eq!(
        verify_request("GET", "/v1/accounts", &headers, b"", CERT),
        Err(VerifyError::SignatureInvalid)
    );
}

#[test]
fn wrong_key_and_wrong_certificate() {
    // Signed by the wrong key, but presenting the right certificate and keyId.
    let wrong = SigningHook::new(SigningIdentity::from_pem(WRONG_CERT, WRONG_KEY).expect("id"));
    let mut headers = HeaderMap::new();
    headers.insert("x-request-id", HeaderValue::from_static("r-1"));
    wrong.sign_headers(&mut headers, b"").expect("signs");
    let mut params = signature_params(&headers);
    params.key_id = "SN=5D2A0F11C3B7E4,CA=CN=psd2-rs Test CA,O=psd2-rs,C=SE".into();
    headers.insert(
        "signature",
        HeaderValue::from_str(&params.to_header_value()).expect("ascii"),
    );
    let right = signed(&[], b"");
    headers.insert(
        "tpp-signature-certificate",
        right["tpp-signature-certificate"].clone(),
    );
    assert_eq!(
        verify_request("GET", "/", &headers, b"", CERT),
        Err(VerifyError::SignatureInvalid)
    );

    // A correct signature checked against another configured certificate.
    assert_eq!(
        verify_request("GET", "/", &right, b"", WRONG_CERT),
        Err(VerifyError::CertificateMismatch)
    );
}

#[test]
fn key_id_mismatch_missing_headers_and_unsigned_headers() {
    let good = signed(&[], b"");

    let mut headers = good.clone();
    let mut params = signature_params(&headers);
    params.key_id = "SN=01,CA=CN=psd2-rs Test CA,O=psd2-rs,C=SE".into();
    headers.insert(
        "signature",
        HeaderValue::from_str(&params.to_header_value()).expect("ascii"),
    );
    assert_eq!(
        verify_request("GET", "/", &headers, b"", CERT),
        Err(VerifyError::KeyIdMismatch {
            expected: "SN=5D2A0F11C3B7E4,CA=CN=psd2-rs Test CA,O=psd2-rs,C=SE".into(),
            found: "SN=01,CA=CN=psd2-rs Test CA,O=psd2-rs,C=SE".into(),
        })
    );

    // Serial written with colons and lowercase still names the same certificate.
    let mut headers = good.clone();
    let mut params = signature_params(&headers);
    params.key_id = "SN=00:5d:2a:0f:11:c3:b7:e4,CA=CN=psd2-rs Test CA,O=psd2-rs,C=SE".into();
    headers.insert(
        "signature",
        HeaderValue::from_str(&params.to_header_value()).expect("ascii"),
    );
    assert_eq!(verify_request("GET", "/", &headers, b"", CERT), Ok(()));

    for name in [
        "digest",
        "date",
        "x-request-id",
        "signature",
        "tpp-signature-certificate",
    ] {
        let mut headers = good.clone();
        headers.remove(name);
        assert_eq!(
            verify_request("GET", "/", &headers, b"", CERT),
            Err(VerifyError::MissingHeader(name.into())),
            "{name}"
        );
    }

    // PSU-ID added after signing: present but not covered.
    let mut headers = good.clone();
    headers.insert("psu-id", HeaderValue::from_static("private-1"));
    assert_eq!(
        verify_request("GET", "/", &headers, b"", CERT),
        Err(VerifyError::HeaderNotSigned("psu-id".into()))
    );

    // headers= without date.
    let mut headers = good.clone();
    let mut params = signature_params(&headers);
    params.headers.retain(|h| h != "date");
    headers.insert(
        "signature",
        HeaderValue::from_str(&params.to_header_value()).expect("ascii"),
    );
    assert_eq!(
        verify_request("GET", "/", &headers, b"", CERT),
        Err(VerifyError::HeaderNotSigned("date".into()))
    );

    let mut headers = good.clone();
    let mut params = signature_params(&headers);
    params.algorithm = Some("hmac-sha256".into());
    headers.insert(
        "signature",
        HeaderValue::from_str(&params.to_header_value()).expect("ascii"),
    );
    assert_eq!(
        verify_request("GET", "/", &headers, b"", CERT),
        Err(VerifyError::UnsupportedAlgorithm("hmac-sha256".into()))
    );

    let mut headers = good.clone();
    headers.insert("signature", HeaderValue::from_static("keyId=nope"));
    assert!(matches!(
        verify_request("GET", "/", &headers, b"", CERT),
        Err(VerifyError::BadSignatureHeader(_))
    ));

    let mut headers = good;
    headers.insert("digest", HeaderValue::from_static("MD5=abc"));
    assert_eq!(
        verify_request("GET", "/", &headers, b"", CERT),
        Err(VerifyError::UnsupportedDigest)
    );
    assert!(matches!(
        verify_request("GET", "/", &HeaderMap::new(), b"", "not a pem"),
        Err(VerifyError::BadCertificate(_))
    ));
}

#[test]
fn request_target_is_supported_when_listed() {
    // A signer that also covers (request-target): rebuild the signature by hand.
    let identity = SigningIdentity::from_pem(CERT, KEY).expect("identity");
    let mut headers = signed(&[], b"");
    let mut params = signature_params(&headers);
    params.headers.insert(0, "(request-target)".into());
    let text = format!(
        "(request-target): get /v1/accounts?withBalance=true\ndigest: {}\nx-request-id: {}\ndate: {}",
        headers["digest"].to_str().expect("ascii"),
        headers["x-request-id"].to_str().expect("ascii"),
        headers["date"].to_str().expect("ascii"),
    );
    params.signature = STANDARD.encode(identity.sign(text.as_bytes()).expect("sign"));
    headers.insert(
        "signature",
        HeaderValue::from_str(&params.to_header_value()).expect("ascii"),
    );
    verify_request("GET", "/v1/accounts?withBalance=true", &headers, b"", CERT).expect("ok");
    assert_eq!(
        verify_request("GET", "/v1/accounts", &headers, b"", CERT),
        Err(VerifyError::SignatureInvalid)
    );
}

#[tokio::test]
async fn hook_signs_a_reqwest_request_through_the_hook_chain() {
    let hooks = Hooks::new().with(hook());
    let mut request = reqwest::Request::new(
        reqwest::Method::POST,
        "http://127.0.0.1/swedbank/v1/consents?x=1"
            .parse()
            .expect("url"),
    );
    request
        .headers_mut()
        .insert("x-request-id", HeaderValue::from_static("req-42"));
    *request.body_mut() = Some(reqwest::Body::from(
        b"{\"recurringIndicator\":true}".to_vec(),
    ));
    psd2_hooks::pre_request(&hooks, &mut request)
        .await
        .expect("hook runs");
    let headers = request.headers().clone();
    assert_eq!(headers["date"], "Sun, 06 Nov 1994 08:49:37 GMT");
    verify_request(
        "POST",
        "/swedbank/v1/consents?x=1",
        &headers,
        b"{\"recurringIndicator\":true}",
        CERT,
    )
    .expect("verifies");

    // No body at all: the empty-body digest.
    let mut get = reqwest::Request::new(
        reqwest::Method::GET,
        "http://127.0.0.1/v1/accounts".parse().expect("url"),
    );
    psd2_hooks::pre_request(&hooks, &mut get)
        .await
        .expect("hook runs");
    assert_eq!(
        get.headers()["digest"],
        "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    );
    verify_request("GET", "/v1/accounts", get.headers(), b"", CERT).expect("verifies");
}

#[cfg(feature = "fixtures")]
#[test]
fn fixtures_module_exposes_the_committed_files() {
    use psd2_security::fixtures;
    assert_eq!(fixtures::TEST_SIGNING_CERT_PEM, CERT);
    assert_eq!(fixtures::TEST_SIGNING_KEY_PEM, KEY);
    let id = SigningIdentity::from_pem(
        fixtures::TEST_SIGNING_CERT_PEM,
        fixtures::TEST_SIGNING_KEY_PEM,
    )
    .expect("identity");
    assert_eq!(id.key_id(), fixtures::TEST_SIGNING_KEY_ID);
}
