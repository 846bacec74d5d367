//! `tls::build_client` against a loopback rustls server that demands a client certificate.

use psd2_security::tls::{ClientIdentity, ClientTlsConfig, TlsError, build_client};
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Pki {
    ca_pem: String,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: PrivateKeyDer<'static>,
    ca_der: CertificateDer<'static>,
    client_cert_pem: String,
    client_key_pem: String,
    stranger_cert_pem: String,
    stranger_key_pem: String,
}

fn make_ca(name: &str) -> (rcgen::Certificate, rcgen::Issuer<'static, rcgen::KeyPair>) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("ca cert");
    (cert, rcgen::Issuer::new(params, key))
}

fn leaf(
    cn: &str,
    usage: rcgen::ExtendedKeyUsagePurpose,
    issuer: &rcgen::Issuer<'static, rcgen::KeyPair>,
) -> (rcgen::Certificate, rcgen::KeyPair) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params.subject_alt_names = vec![rcgen::SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST))];
    params.extended_key_usages = vec![usage];
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, issuer).expect("leaf");
    (cert, key)
}

fn pki() -> Pki {
    let (ca_cert, ca) = make_ca("psd2-rs mTLS Test CA");
    let (server, server_key) = leaf("127.0.0.1", rcgen::ExtendedKeyUsagePurpose::ServerAuth, &ca);
    let (client, client_key) = leaf(
        "tpp-client",
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        &ca,
    );
    let (_, other_ca) = make_ca("Some Other CA");
    let (stranger, stranger_key) = leaf(
        "stranger",
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        &other_ca,
    );
    Pki {
        ca_pem: ca_cert.pem(),
        ca_der: ca_cert.der().clone(),
        server_chain: vec![server.der().clone()],
        server_key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        client_cert_pem: client.pem(),
        client_key_pem: client_key.serialize_pem(),
        stranger_cert_pem: stranger.pem(),
        stranger_key_pem: stranger_key.serialize_pem(),
    }
}

/// Serves a fixed answer over TLS to at most `max_conns` connections, demanding client certs
/// issued by the test CA. Returns the address and a channel reporting each handshake result.
async fn serve(
    pki: &Pki,
    max_conns: usize,
) -> (
    SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<Result<(), String>>,
) {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca_der.clone()).expect("ca");
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .expect("verifier");
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(pki.server_chain.clone(), pki.server_key.clone_key())
        .expect("server cert");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        for _ in 0..max_conns {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            match acceptor.accept(tcp).await {
                Ok(mut tls) => {
                    let _ = tx.send(Ok(()));
                    let mut buf = vec![0u8; 4096];
                    let _ = tls.read(&mut buf).await;
                    let _ = tls
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\nconnection: close\r\n\r\nmtls-ok!\n",
                        )
                        .await;
                    let _ = tls.shutdown().await;
                }
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                }
            }
        }
    });
    (addr, rx)
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(" | ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn config(pki: &Pki, identity: Option<ClientIdentity>, only: bool) -> ClientTlsConfig {
    ClientTlsConfig {
        identity,
        extra_root_ca_pem: Some(pki.ca_pem.clone()),
        only_extra_roots: only,
        timeout: Some(Duration::from_secs(10)),
        user_agent: Some("psd2-rs-test".into()),
    }
}

#[tokio::test]
async fn call_succeeds_with_the_client_identity() {
    let pki = pki();
    let (addr, mut handshakes) = serve(&pki, 2).await;
    let identity =
        ClientIdentity::from_pem(&pki.client_cert_pem, &pki.client_key_pem).expect("identity");
    assert_eq!(identity.chain_len(), 1);
    for only in [true, false] {
        let client = build_client(config(&pki, Some(identity.clone()), only)).expect("client");
        let response = client
            .get(format!("https://{addr}/v1/accounts"))
            .send()
            .await
            .expect("mTLS call succeeds");
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.expect("body"), "mtls-ok!\n");
        assert_eq!(
            handshakes.recv().await,
            Some(Ok(())),
            "only_extra_roots={only}"
        );
    }
}

#[tokio::test]
async fn call_fails_clearly_without_a_client_identity() {
    let pki = pki();
    let (addr, mut handshakes) = serve(&pki, 1).await;
    let client = build_client(config(&pki, None, true)).expect("client");
    let err = client
        .get(format!("https://{addr}/v1/accounts"))
        .send()
        .await
        .expect_err("the server demands a client certificate");
    let chain = error_chain(&err);
    assert!(err.is_connect() || err.is_request(), "{chain}");
    println!("without identity: {chain}");
    assert!(chain.contains("CertificateRequired"), "{chain}");
    let server_side = handshakes
        .recv()
        .await
        .expect("one handshake")
        .expect_err("refused");
    assert!(
        server_side.contains("peer sent no certificates"),
        "{server_side}"
    );
}

#[tokio::test]
async fn call_fails_with_a_certificate_from_another_ca() {
    let pki = pki();
    let (addr, mut handshakes) = serve(&pki, 1).await;
    let stranger =
        ClientIdentity::from_pem(&pki.stranger_cert_pem, &pki.stranger_key_pem).expect("id");
    let client = build_client(config(&pki, Some(stranger), true)).expect("client");
    let err = client
        .get(format!("https://{addr}/"))
        .send()
        .await
        .expect_err("unknown issuer");
    let chain = error_chain(&err);
    assert!(
        chain.contains("UnknownCA") || chain.contains("BadCertificate"),
        "{chain}"
    );
    let server_side = handshakes
        .recv()
        .await
        .expect("one handshake")
        .expect_err("refused");
    assert!(server_side.contains("UnknownIssuer"), "{server_side}");
}

#[test]
fn identity_and_config_errors_are_clear_and_debug_hides_the_key() {
    let pki = pki();
    let id = ClientIdentity::from_pem(&pki.client_cert_pem, &pki.client_key_pem).expect("id");
    let debug = format!("{id:?} {:?}", config(&pki, Some(id.clone()), true));
    assert!(debug.contains("<redacted>"), "{debug}");
    for line in pki
        .client_key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
    {
        assert!(!debug.contains(line), "key material in Debug");
    }
    assert!(matches!(
        ClientIdentity::from_pem(&pki.client_key_pem, &pki.client_key_pem),
        Err(TlsError::Certificate(_))
    ));
    assert!(matches!(
        ClientIdentity::from_pem(&pki.client_cert_pem, &pki.client_cert_pem),
        Err(TlsError::Key(_))
    ));
    assert!(matches!(
        ClientIdentity::from_files("/nonexistent/chain.pem", "/nonexistent/key.pem"),
        Err(TlsError::Io {
            what: "certificate chain",
            ..
        })
    ));
    let dir = tempfile::tempdir().expect("dir");
    let chain = dir.path().join("chain.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&chain, &pki.client_cert_pem).expect("write");
    std::fs::write(&key, &pki.client_key_pem).expect("write");
    assert_eq!(
        ClientIdentity::from_files(&chain, &key)
            .expect("from files")
            .chain_len(),
        1
    );
    assert!(matches!(
        build_client(ClientTlsConfig {
            only_extra_roots: true,
            ..Default::default()
        }),
        Err(TlsError::NoRoots)
    ));
    assert!(matches!(
        build_client(ClientTlsConfig {
            extra_root_ca_pem: Some("garbage".into()),
            ..Default::default()
        }),
        Err(TlsError::RootCa(_))
    ));
    build_client(ClientTlsConfig::default()).expect("plain client builds");
}
