//! `ca_file`: an HTTPS source behind an internal certificate authority. Without the CA the
//! source fails with the TLS error (nothing is collected, nothing is trusted silently); with
//! `ca_file` it is collected. The server is a local TLS listener answering Jira's search
//! with the fixture pages; its certificate (for 127.0.0.1, valid until 2126) is signed by
//! `fixtures/connectors/tls/ca.pem`, test material only.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;

use std::sync::Arc;

use conform_engine::snapshot::SourceStatus;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use support::{collect, config_error, fixtures, records};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn tls_dir() -> std::path::PathBuf {
    fixtures().join("tls")
}

/// Serves Jira's search over TLS: the first page, then the second for a `nextPageToken`.
async fn serve_jira_over_tls() -> String {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(tls_dir().join("server.pem"))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_file(tls_dir().join("server.key")).unwrap();
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that does not trust the CA aborts the handshake: nothing to serve.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = tls.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                }
                let line = String::from_utf8_lossy(&request);
                let page = if line.contains("nextPageToken=") {
                    "issues-2.json"
                } else {
                    "issues-1.json"
                };
                let body = std::fs::read(fixtures().join("jira").join(page)).unwrap();
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json;charset=UTF-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                tls.write_all(head.as_bytes()).await.unwrap();
                tls.write_all(&body).await.unwrap();
                tls.shutdown().await.ok();
            });
        }
    });
    format!("https://127.0.0.1:{port}")
}

fn config(base: &str, ca: Option<&str>) -> String {
    let ca = ca
        .map(|c| format!("ca_file = \"{c}\"\n"))
        .unwrap_or_default();
    format!(
        "[sources.jira-itsm]\nkind = \"jira\"\nurl = \"{base}\"\njql = \"project = CHG\"\n\
         username = \"svc-conform@northwind.example\"\ntoken_env = \"CONFORM_TLS_TEST_TOKEN\"\n\
         retries = 1\nbackoff = \"10ms\"\n{ca}"
    )
}

#[tokio::test]
async fn an_internal_ca_is_trusted_only_when_configured() {
    std::env::set_var("CONFORM_TLS_TEST_TOKEN", "s3cr3t-tls-Zq7XpL0w9vY2");
    let base = serve_jira_over_tls().await;
    let tmp = tempfile::tempdir().unwrap();

    let untrusted = collect(&config(&base, None), tmp.path(), &tmp.path().join("a")).await;
    let s = &untrusted.sources[0];
    assert_eq!(s.status, SourceStatus::Failed, "{:?}", s.error);
    let error = s.error.as_deref().unwrap_or_default();
    assert!(error.contains("UnknownIssuer"), "{error}");

    let ca = tls_dir().join("ca.pem");
    let trusted = collect(
        &config(&base, Some(&ca.display().to_string())),
        tmp.path(),
        &tmp.path().join("b"),
    )
    .await;
    let s = &trusted.sources[0];
    assert_eq!(s.status, SourceStatus::Partial, "{:?}", s.error);
    // Partial only because the fixture's CHG-1001 changelog needs the bulk fetch, which this
    // server does not answer; every issue arrived over TLS.
    assert!(
        s.error
            .as_deref()
            .unwrap_or_default()
            .contains("issue `10010`"),
        "{:?}",
        s.error
    );
    assert_eq!(records(&trusted, "jira-itsm").len(), 8);
}

#[test]
fn a_ca_file_that_holds_no_certificate_is_a_configuration_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("ca.pem"), "not a certificate\n").unwrap();
    let text = "[sources.jira-itsm]\nkind = \"jira\"\nurl = \"https://northwind.atlassian.net\"\n\
                jql = \"project = CHG\"\nusername = \"svc@northwind.example\"\n\
                token_env = \"CONFORM_TLS_TEST_TOKEN\"\nca_file = \"ca.pem\"\n";
    std::env::set_var("CONFORM_TLS_TEST_TOKEN", "x");
    let err = config_error(text, tmp.path(), &[]);
    assert!(
        err.contains("`ca_file`") && err.contains("holds no PEM certificate"),
        "{err}"
    );
}
