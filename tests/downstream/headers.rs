//! The request a default reqwest client sends, as a server reads it.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The header lines of a GET from `reqwest::Client::new()`, one per line,
/// with the port in `host` left out so two runs compare equal.
pub async fn default_client_headers() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let port = listener.local_addr().expect("a bound address").port();
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("the client connects");
        let mut head = Vec::new();
        let mut buffer = [0; 4096];
        while !head.ends_with(b"\r\n\r\n") {
            let read = stream.read(&mut buffer).await.expect("the request arrives");
            assert!(read > 0, "the client closed before its request head ended");
            head.extend_from_slice(&buffer[..read]);
        }
        let _ = stream
            .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
            .await;
        String::from_utf8(head).expect("a request head is text")
    });
    let client = reqwest::Client::builder().no_proxy().build().expect("a client");
    let url = format!("http://127.0.0.1:{port}/");
    tokio::time::timeout(Duration::from_secs(10), client.get(url).send())
        .await
        .expect("the server answers within 10 s")
        .expect("the request succeeds");
    let head = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server reads the head within 10 s")
        .expect("the server task ends");
    head.lines()
        .skip(1)
        .filter(|line| !line.is_empty())
        .map(|line| match line.split_once(':') {
            Some((name, _)) if name.eq_ignore_ascii_case("host") => "host: 127.0.0.1".to_owned(),
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
