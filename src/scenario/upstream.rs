//! `upstream`: the real service behind the fault, given by its address or
//! by the command that starts it for the scenario.

use std::net::SocketAddr;

use toml::de::DeValue;

use crate::scenario::error::{Errors, Place};
use crate::scenario::raw::{Value, typed, unknown_keys};

const UPSTREAM_KEYS: &[&str] = &["run"];

/// Where a scenario's fault forwards the requests it lets through.
#[derive(Debug, Clone, PartialEq)]
pub enum Upstream {
    /// A service already listening at this `host:port`.
    Address(String),
    /// A program the runner starts for the scenario, on a free loopback
    /// port that replaces `{port}` in its arguments.
    Run {
        /// The program and its arguments, `{port}` among them.
        run: Vec<String>,
        /// Where `run` is written in the file, for the runner's checks of
        /// the machine (is the program installed?).
        at: Place,
    },
}

/// `upstream = "host:port"` or `upstream = { run = [...] }`.
pub(super) fn upstream_of(errors: &mut Errors, value: &Value) -> Option<Upstream> {
    match value.get_ref() {
        DeValue::String(address) => address_of(errors, value, address),
        DeValue::Table(table) => {
            unknown_keys(errors, table, "upstream", UPSTREAM_KEYS);
            let Some(run) = table.get("run") else {
                errors.at(
                    value.span(),
                    "`upstream` needs `run`, the command that starts the service, \
                     such as run = [\"python3\", \"-m\", \"http.server\", \"{port}\"]",
                );
                return None;
            };
            run_of(errors, run)
        }
        other => {
            errors.at(
                value.span(),
                format!(
                    "`upstream` must be the service's address, such as \"127.0.0.1:8080\", \
                     or {{ run = [...] }} to start it, found a {}",
                    other.type_str()
                ),
            );
            None
        }
    }
}

fn address_of(errors: &mut Errors, value: &Value, address: &str) -> Option<Upstream> {
    if is_address(address) {
        return Some(Upstream::Address(address.to_owned()));
    }
    errors.at(
        value.span(),
        format!(
            "upstream {address:?} is not host:port with a port from 1 to 65535; \
             give the service's address, such as \"127.0.0.1:8080\""
        ),
    );
    None
}

/// True for `host:port`: an IP address (IPv6 in brackets) or a host name,
/// and a port other than 0. Nothing is looked up.
fn is_address(address: &str) -> bool {
    if let Ok(addr) = address.parse::<SocketAddr>() {
        return addr.port() != 0;
    }
    let Some((host, port)) = address.rsplit_once(':') else {
        return false;
    };
    let name = |host: &str| {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    };
    name(host) && port.parse::<u16>().is_ok_and(|port| port != 0)
}

fn run_of(errors: &mut Errors, value: &Value) -> Option<Upstream> {
    let run: Vec<String> = typed(errors, value)?;
    if run.is_empty() {
        errors.at(
            value.span(),
            "`run` in `upstream` is empty; give the program that serves and its arguments, \
             \"{port}\" among them",
        );
        return None;
    }
    if !run.iter().any(|arg| arg.contains("{port}")) {
        errors.at(
            value.span(),
            "`run` in `upstream` never says where to listen; give \"{port}\" among its \
             arguments, the free loopback port the fault forwards to",
        );
        return None;
    }
    let at = errors.place(value.span());
    Some(Upstream::Run { run, at })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::parse;

    /// The upstream of a scenario whose `upstream` line is `line`, or its errors.
    fn upstream(line: &str) -> Result<Option<Upstream>, String> {
        let text = format!(
            "description = \"x\"\nfault = \"ok\"\n{line}\nclient = {{ reqwest = {{}} }}\n\
             [expect]\nstatus = 200\n"
        );
        parse(Path::new("s.toml"), &text)
            .map(|scenario| scenario.upstream)
            .map_err(|errors| errors.to_string())
    }

    #[test]
    fn an_address_is_host_and_port() {
        for address in ["127.0.0.1:8080", "[::1]:80", "localhost:1", "api.test:443"] {
            let line = format!("upstream = {address:?}");
            assert_eq!(
                upstream(&line),
                Ok(Some(Upstream::Address(address.to_owned())))
            );
        }
    }

    #[test]
    fn an_address_without_a_usable_port_is_refused() {
        for address in [
            "localhost",
            "127.0.0.1:0",
            "127.0.0.1:99999",
            ":80",
            "a b:80",
        ] {
            let error = upstream(&format!("upstream = {address:?}")).unwrap_err();
            assert_eq!(
                error,
                format!(
                    "s.toml:3:12: upstream {address:?} is not host:port with a port from 1 to \
                     65535; give the service's address, such as \"127.0.0.1:8080\""
                )
            );
        }
    }

    #[test]
    fn a_command_is_kept_with_its_place() {
        let found = upstream("upstream = { run = [\"srv\", \"{port}\"] }");
        let run = vec!["srv".to_owned(), "{port}".to_owned()];
        let at = Place {
            line: 3,
            column: 20,
        };
        assert_eq!(found, Ok(Some(Upstream::Run { run, at })));
    }

    #[test]
    fn no_upstream_is_none() {
        assert_eq!(upstream(""), Ok(None));
    }

    #[test]
    fn each_wrong_shape_is_located() {
        let cases = [
            (
                "upstream = 8080",
                "3:12: `upstream` must be the service's address",
            ),
            (
                "upstream = { run = [] }",
                "3:20: `run` in `upstream` is empty",
            ),
            (
                "upstream = { run = \"srv\" }",
                "3:20: invalid type: string \"srv\"",
            ),
            (
                "upstream = { run = [\"srv\"] }",
                "3:20: `run` in `upstream` never says",
            ),
            ("upstream = {}", "3:12: `upstream` needs `run`"),
        ];
        for (line, expected) in cases {
            let error = upstream(line).unwrap_err();
            assert!(error.starts_with(&format!("s.toml:{expected}")), "{error}");
        }
    }

    #[test]
    fn an_unknown_key_in_the_table_is_named() {
        let error = upstream("upstream = { run = [\"srv\", \"{port}\"], rn = 1 }").unwrap_err();
        assert_eq!(
            error,
            "s.toml:3:39: unknown key \"rn\" in [upstream]; did you mean \"run\"?; \
             expected one of run"
        );
    }
}
