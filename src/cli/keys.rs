//! Which options a fault takes on the command line, and what to say when an
//! option is not one of them.
//!
//! The options are the fault's TOML keys, as its derived `Deserialize` lists
//! them ([`parameters`]), plus the
//! repeatable [`Shorthand`]s for parameters that hold a table or a list.

use crate::fault::parameters;

/// The TOML keys of the fault called `name`, which must be a known fault.
pub(crate) fn keys(name: &str) -> Vec<String> {
    parameters(name)
        .unwrap_or_default()
        .iter()
        .map(|&key| key.to_owned())
        .collect()
}

/// A repeatable shorthand for a parameter that holds a table or a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shorthand {
    /// `--header 'Name: value'` adds `Name = "value"` to `headers`.
    Header,
    /// `--step SPEC` adds the fault `SPEC` to `steps`.
    Step,
    /// `--route 'PATH=SPEC'` adds a route from `PATH` to the fault `SPEC` to `routes`.
    Route,
}

impl Shorthand {
    const ALL: [Shorthand; 3] = [Shorthand::Header, Shorthand::Step, Shorthand::Route];

    /// The option's name, without `--`.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Shorthand::Header => "header",
            Shorthand::Step => "step",
            Shorthand::Route => "route",
        }
    }

    /// The parameter it fills.
    pub(crate) fn param(self) -> &'static str {
        match self {
            Shorthand::Header => "headers",
            Shorthand::Step => "steps",
            Shorthand::Route => "routes",
        }
    }

    /// The shorthand spelled `key`, if the fault with these `params` has its parameter.
    pub(crate) fn find(key: &str, params: &[String]) -> Option<Shorthand> {
        Shorthand::ALL
            .into_iter()
            .find(|s| s.key() == key && params.iter().any(|p| p == s.param()))
    }
}

/// Every option spelling for these parameters, each shorthand before its parameter.
fn spellings(params: &[String]) -> Vec<String> {
    let mut spellings = Vec::new();
    for param in params {
        let shorthands = Shorthand::ALL.into_iter().filter(|s| s.param() == param);
        spellings.extend(shorthands.map(|s| s.key().to_owned()));
        spellings.push(param.clone());
    }
    spellings
}

/// The options of the fault called `name` as typed, each followed by its
/// default where that is short enough to read: `--length 1024`.
pub(crate) fn usage(name: &str) -> Vec<String> {
    let defaults = crate::Fault::named(name)
        .ok()
        .and_then(|fault| toml::Value::try_from(fault).ok())
        .and_then(|written| written.as_table().cloned())
        .unwrap_or_default();
    spellings(&keys(name))
        .into_iter()
        .map(|key| match defaults.get(&key).and_then(shown) {
            Some(default) => format!("--{key} {default}"),
            None => format!("--{key}"),
        })
        .collect()
}

/// A default as typed on the command line, unless it is empty or too long to
/// read in a list.
fn shown(value: &toml::Value) -> Option<String> {
    let text = match value {
        toml::Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let empty = text.is_empty() || text == "{}" || text == "[]";
    (!empty && text.chars().count() <= 30 && !text.contains('\n')).then_some(text)
}

/// The error for `--key`, which the fault `name` with these `params` lacks.
pub(crate) fn unknown_option(name: &str, key: &str, params: &[String]) -> anyhow::Error {
    if params.is_empty() {
        return anyhow::anyhow!("unknown option \"--{key}\" for {name}; {name} takes no options");
    }
    let spellings = spellings(params);
    let nearest = crate::words::nearest(key, spellings.iter().map(String::as_str))
        .map(|s| format!("; did you mean \"--{s}\"?"))
        .unwrap_or_default();
    let listed: Vec<String> = spellings.iter().map(|s| format!("--{s}")).collect();
    // `--port` is an option of `serve`, taken before the fault's options; it
    // only lands here inside a `--step`.
    let hint = if key == "port" {
        "; --port belongs to serve itself, not to a --step"
    } else {
        ""
    };
    anyhow::anyhow!(
        "unknown option \"--{key}\" for {name}{nearest}; expected one of {}{hint}",
        listed.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_toml_keys_of_the_fault() {
        assert_eq!(
            keys("status"),
            ["code", "headers", "body", "retry-after", "retry-after-date"]
        );
        assert_eq!(keys("reset"), ["when", "body-bytes"]);
        assert_eq!(keys("ok"), ["body", "seed"]);
        assert!(keys("hang").is_empty());
    }

    #[test]
    fn every_fault_with_parameters_has_keys() {
        // A leaf whose fields its Debug shows must list them as keys, and one
        // without fields none: the keys come from the derive, never a list.
        for name in crate::fault::names() {
            let fault = crate::Fault::named(name).expect("a catalogued name");
            let has_fields = format!("{fault:?}").contains(" { ");
            assert_eq!(!keys(name).is_empty(), has_fields, "{name}: {fault:?}");
        }
    }

    #[test]
    fn usage_shows_the_defaults_short_enough_to_read() {
        assert_eq!(usage("truncate"), ["--length 1024", "--sent 512"]);
        assert_eq!(usage("reset"), ["--when after-request", "--body-bytes 100"]);
        assert_eq!(usage("sequence"), ["--step", "--steps"]);
        assert!(usage("hang").is_empty());
    }

    #[test]
    fn usage_lists_each_shorthand_before_its_parameter() {
        assert_eq!(
            usage("status"),
            [
                "--code 500",
                "--header",
                "--headers",
                "--body",
                "--retry-after",
                "--retry-after-date"
            ]
        );
        assert_eq!(usage("sequence"), ["--step", "--steps"]);
        assert_eq!(usage("routes"), ["--route", "--routes", "--fallback"]);
        assert_eq!(usage("garbage"), ["--length 256", "--seed 0"]);
    }

    #[test]
    fn an_unknown_option_suggests_the_nearest() {
        let error = unknown_option("status", "cod", &keys("status"));
        assert_eq!(
            error.to_string(),
            "unknown option \"--cod\" for status; did you mean \"--code\"?; \
             expected one of --code, --header, --headers, --body, --retry-after, --retry-after-date"
        );
    }
}
