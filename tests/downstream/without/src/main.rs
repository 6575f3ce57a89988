//! Prints the header lines a default reqwest client sends, with no outage in the tree.

#[path = "../../headers.rs"]
mod headers;

#[tokio::main]
async fn main() {
    println!("{}", headers::default_client_headers().await);
}
