//! `GET /metrics`: the proxies in Prometheus' text format.
//!
//! Bytes each way under Toxiproxy's names
//! (`toxiproxy_proxy_received_bytes_total`, `toxiproxy_proxy_sent_bytes_total`,
//! labelled `direction`, `proxy`, `listener`, `upstream`), connections, and
//! what the API knows of each proxy: whether it is enabled, and its toxics
//! each way.

use std::fmt::Write;

use crate::proxy::{DirectionStats, ProxyStats};

use super::json::ProxyJson;
use super::reply::Reply;

/// Prometheus' text exposition format, version 0.0.4.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The metrics of `proxies`.
pub(crate) fn reply(proxies: &[(ProxyJson, ProxyStats)]) -> Reply {
    Reply::raw(200, CONTENT_TYPE, render(proxies))
}

/// One metric: its help, its type, and a value per label set.
fn family(text: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, u64)]) {
    let _ = writeln!(text, "# HELP {name} {help}");
    let _ = writeln!(text, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(text, "{name}{{{labels}}} {value}");
    }
}

fn render(proxies: &[(ProxyJson, ProxyStats)]) -> String {
    let mut text = String::new();
    let per_direction = |pick: fn(&DirectionStats) -> u64| -> Vec<(String, u64)> {
        proxies
            .iter()
            .flat_map(|(proxy, stats)| {
                [
                    ("upstream", &stats.upstream),
                    ("downstream", &stats.downstream),
                ]
                .map(|(direction, counts)| {
                    (
                        format!("direction=\"{direction}\",{}", labels(proxy)),
                        pick(counts),
                    )
                })
            })
            .collect()
    };
    let per_proxy = |pick: fn(&ProxyJson, &ProxyStats) -> u64| -> Vec<(String, u64)> {
        proxies
            .iter()
            .map(|(proxy, stats)| (labels(proxy), pick(proxy, stats)))
            .collect()
    };
    family(
        &mut text,
        "toxiproxy_proxy_received_bytes_total",
        "counter",
        "Bytes the proxy read, from the clients (upstream) or the upstream (downstream).",
        &per_direction(|d| d.received),
    );
    family(
        &mut text,
        "toxiproxy_proxy_sent_bytes_total",
        "counter",
        "Bytes the proxy wrote after its toxics, to the upstream (upstream) or the clients (downstream).",
        &per_direction(|d| d.sent),
    );
    family(
        &mut text,
        "outage_proxy_connections_total",
        "counter",
        "Connections proxied to the upstream.",
        &per_proxy(|_, s| s.connections),
    );
    family(
        &mut text,
        "outage_proxy_open_connections",
        "gauge",
        "Connections open now.",
        &per_proxy(|_, s| s.open),
    );
    family(
        &mut text,
        "outage_proxy_enabled",
        "gauge",
        "1 while the proxy accepts connections, 0 while it is disabled.",
        &per_proxy(|p, _| u64::from(p.enabled)),
    );
    let toxics: Vec<(String, u64)> = proxies
        .iter()
        .flat_map(|(proxy, _)| {
            let name = escape(&proxy.name);
            proxy
                .toxics_by_direction()
                .into_iter()
                .map(move |(direction, count)| {
                    (
                        format!("proxy=\"{name}\",direction=\"{direction}\""),
                        count as u64,
                    )
                })
        })
        .collect();
    family(
        &mut text,
        "outage_proxy_toxics",
        "gauge",
        "The toxics of the proxy, by the direction they act on.",
        &toxics,
    );
    text
}

/// The labels naming a proxy, as Toxiproxy's metrics have them.
fn labels(proxy: &ProxyJson) -> String {
    format!(
        "proxy=\"{}\",listener=\"{}\",upstream=\"{}\"",
        escape(&proxy.name),
        escape(&proxy.listen),
        escape(&proxy.upstream)
    )
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
        let text = render(&[(proxy, ProxyStats::default())]);
        assert!(text.contains(
            "outage_proxy_enabled{proxy=\"a\\\"b\",listener=\"127.0.0.1:1\",upstream=\"x:1\"} 1\n"
        ));
        assert!(text.contains("outage_proxy_toxics{proxy=\"a\\\"b\",direction=\"upstream\"} 1\n"));
        assert!(
            text.contains("outage_proxy_toxics{proxy=\"a\\\"b\",direction=\"downstream\"} 0\n")
        );
        assert!(text.contains(
            "toxiproxy_proxy_sent_bytes_total{direction=\"downstream\",proxy=\"a\\\"b\",listener=\"127.0.0.1:1\",upstream=\"x:1\"} 0\n"
        ));
    }
}
