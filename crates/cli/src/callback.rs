//! A one-shot local HTTP listener for the redirect SCA callback.
//!
//! It answers every request with a short page and returns the first request whose path is
//! the redirect URI's path and whose query has `code`, `state` or `error`.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use url::Url;

use crate::error::CliError;

/// A bound callback listener.
pub struct CallbackServer {
    listener: TcpListener,
    path: String,
}

impl CallbackServer {
    /// Binds `127.0.0.1:port`; `redirect_uri`'s path is the one waited for.
    pub async fn bind(port: u16, redirect_uri: &Url) -> Result<Self, CliError> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
            CliError::Usage(format!(
                "cannot listen on 127.0.0.1:{port} for the SCA redirect: {e} (choose another \
                 --callback-port)"
            ))
        })?;
        Ok(Self {
            listener,
            path: redirect_uri.path().to_string(),
        })
    }

    /// Waits for the bank's redirect; the URL it came back to (with `code` and `state`).
    pub async fn wait(self, timeout: Duration) -> Result<Url, CliError> {
        let accept = async {
            loop {
                let Ok((mut stream, _)) = self.listener.accept().await else {
                    continue;
                };
                let mut buf = vec![0u8; 8192];
                let mut len = 0;
                // Read until the end of the request head (or the buffer is full).
                while len < buf.len() {
                    match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf[len..]))
                        .await
                    {
                        Ok(Ok(0)) | Err(_) | Ok(Err(_)) => break,
                        Ok(Ok(n)) => {
                            len += n;
                            if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                                break;
                            }
                        }
                    }
                }
                let head = String::from_utf8_lossy(&buf[..len]);
                let target = head
                    .lines()
                    .next()
                    .and_then(|l| l.split_whitespace().nth(1))
                    .unwrap_or("/");
                let url = Url::parse("http://127.0.0.1/").and_then(|base| base.join(target));
                let hit = url.as_ref().ok().filter(|u| {
                    u.path() == self.path
                        && u.query_pairs()
                            .any(|(k, _)| k == "code" || k == "state" || k == "error")
                });
                let (status, body) = if hit.is_some() {
                    (
                        "200 OK",
                        "<html><body><p>psd2: authorisation received. You can close this window and return to the terminal.</p></body></html>",
                    )
                } else {
                    (
                        "404 Not Found",
                        "<html><body><p>psd2: waiting for the bank's redirect.</p></body></html>",
                    )
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
                if let Some(url) = hit {
                    return url.clone();
                }
            }
        };
        tokio::time::timeout(timeout, accept).await.map_err(|_| {
            CliError::Bank(
                psd2::Error::new(psd2::ErrorKind::Timeout, "redirect", "sca").with_detail(format!(
                    "no redirect arrived within {} s",
                    timeout.as_secs()
                )),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn returns_the_callback_url_and_ignores_other_paths() {
        let uri = Url::parse("http://127.0.0.1:0/callback").expect("url");
        let server = CallbackServer::bind(0, &uri).await.expect("bind");
        let port = server.listener.local_addr().expect("addr").port();
        let waiter = tokio::spawn(server.wait(Duration::from_secs(10)));
        let client = reqwest::Client::new();
        let other = client
            .get(format!("http://127.0.0.1:{port}/favicon.ico"))
            .send()
            .await
            .expect("send");
        assert_eq!(other.status(), 404);
        let hit = client
            .get(format!("http://127.0.0.1:{port}/callback?code=c1&state=s1"))
            .send()
            .await
            .expect("send");
        assert_eq!(hit.status(), 200);
        let url = waiter.await.expect("join").expect("url");
        assert_eq!(url.query(), Some("code=c1&state=s1"));
    }
}
