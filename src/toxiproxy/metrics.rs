//! `GET /metrics`: the proxies in Prometheus' text format.
//!
//! What the API itself knows is exported: whether each proxy is enabled,
//! and how many toxics it has each way. Bytes and connections are counted
//! by the proxies' links, not here.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::json::ProxyJson;
use super::reply::Reply;

/// Prometheus' text exposition format, version 0.0.4.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The metrics of `proxies`.
pub(crate) fn reply(proxies: &BTreeMap<String, ProxyJson>) -> Reply {
    Reply::raw(200, CONTENT_TYPE, render(proxies))
}

fn render(proxies: &BTreeMap<String, ProxyJson>) -> String {
    let mut text = String::new();
    text.push_str("# HELP outage_proxy_enabled 1 while the proxy accepts connections, 0 while it is disabled.\n");
    text.push_str("# TYPE outage_proxy_enabled gauge\n");
    for proxy in proxies.values() {
        let labels = format!(
            "proxy=\"{}\",listener=\"{}\",upstream=\"{}\"",
            escape(&proxy.name),
            escape(&proxy.listen),
            escape(&proxy.upstream)
        );
        let _ = writeln!(
            text,
            "outage_proxy_enabled{{{labels}}} {}",
            u8::from(proxy.enabled)
        );
    }
    text.push_str(
        "# HELP outage_proxy_toxics The toxics of the proxy, by the direction they act on.\n",
    );
    text.push_str("# TYPE outage_proxy_toxics gauge\n");
    for proxy in proxies.values() {
        for (direction, count) in proxy.toxics_by_direction() {
            let name = escape(&proxy.name);
            let _ = writeln!(
                text,
                "outage_proxy_toxics{{proxy=\"{name}\",direction=\"{direction}\"}} {count}"
            );
        }
    }
    text
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toxic::{Direction, Toxic, ToxicKind};

    #[test]
    fn each_proxy_has_its_state_and_its_toxics_each_way() {
        let toxic = Toxic::new(ToxicKind::Noop {}, Direction::Upstream);
        let proxy = ProxyJson::new("a\"b", "127.0.0.1:1", "x:1", true, &[toxic]);
        let text = render(&BTreeMap::from([("a\"b".to_owned(), proxy)]));
        assert!(text.contains(
            "outage_proxy_enabled{proxy=\"a\\\"b\",listener=\"127.0.0.1:1\",upstream=\"x:1\"} 1\n"
        ));
        assert!(text.contains("outage_proxy_toxics{proxy=\"a\\\"b\",direction=\"upstream\"} 1\n"));
        assert!(
            text.contains("outage_proxy_toxics{proxy=\"a\\\"b\",direction=\"downstream\"} 0\n")
        );
    }
}
