//! Fault options on the command line: `--KEY VALUE` pairs whose keys are the
//! fault's TOML keys.
//!
//! The arguments become a TOML table with `kind = NAME`, which deserializes
//! into a [`Fault`] exactly as a scenario file would, so the command line and
//! the files share one vocabulary and no fault has flag code of its own.

use anyhow::{Context, Result, anyhow, bail};
use toml::{Table, Value};

use crate::cli::keys::{Shorthand, keys, unknown_option};
use crate::fault::Fault;
use crate::words::plain;

/// One `--KEY VALUE` (or `--KEY=VALUE`) pair, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pair {
    /// The key, without its leading `--`.
    pub key: String,
    /// The value, as typed.
    pub value: String,
}

/// Splits `--KEY VALUE` and `--KEY=VALUE` arguments into pairs.
///
/// A value may not start with `--`, so that a forgotten value is reported as
/// such rather than swallowing the next option; `--KEY=--VALUE` allows one.
pub(crate) fn pairs(args: &[String]) -> Result<Vec<Pair>> {
    let mut pairs = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let Some(option) = arg.strip_prefix("--").filter(|option| !option.is_empty()) else {
            bail!("unexpected {arg:?}; fault options look like --KEY VALUE, see `outage list`");
        };
        let (key, value) = match option.split_once('=') {
            Some((key, value)) => (key, value.to_owned()),
            None => match args.next() {
                Some(value) if !value.starts_with("--") => (option, value.clone()),
                _ => bail!("option \"--{option}\" is missing its value; write --{option} VALUE"),
            },
        };
        pairs.push(Pair {
            key: key.to_owned(),
            value,
        });
    }
    Ok(pairs)
}

/// The fault called `name`, with the options in `pairs`.
pub(crate) fn fault(name: &str, pairs: &[Pair]) -> Result<Fault> {
    Value::Table(table(name, pairs)?)
        .try_into()
        .map_err(|e| anyhow!("invalid {name} options: {}", e.message().trim()))
}

/// One option, resolved to the parameter it sets.
struct Setting {
    /// Where it goes: a parameter, or `param.key` inside a table parameter.
    path: String,
    /// The value typed as TOML where it parses as TOML.
    typed: Value,
    /// The value as a string, for parameters that want one (`--body 42`).
    string: Value,
    /// True when it sets the whole parameter rather than one entry of it.
    whole: bool,
}

impl Setting {
    fn new(pair: &Pair, params: &[String]) -> Result<Setting> {
        if let Some(shorthand) = Shorthand::find(&pair.key, params) {
            let (path, value) = shorthand.entry(&pair.value)?;
            return Ok(Setting {
                path,
                typed: value.clone(),
                string: value,
                whole: false,
            });
        }
        Ok(Setting {
            path: pair.key.clone(),
            typed: typed_value(&pair.value),
            string: Value::String(pair.value.clone()),
            whole: !pair.key.contains('.'),
        })
    }

    /// The parameter it sets.
    fn param(&self) -> &str {
        self.path
            .split_once('.')
            .map_or(&self.path, |(param, _)| param)
    }
}

/// The TOML table `{ kind = name, ... }` for `pairs`, each value checked.
fn table(name: &str, pairs: &[Pair]) -> Result<Table> {
    Fault::named(name)?;
    let params = keys(name);
    let mut typed = Table::new();
    let mut strings = Table::new();
    // Each parameter set so far, with its first option and whether that set it whole.
    let mut seen: Vec<(String, &str, bool)> = Vec::new();
    for pair in pairs {
        let setting = Setting::new(pair, &params)?;
        let param = setting.param();
        if !params.iter().any(|p| p == param) {
            return Err(unknown_option(name, &pair.key, &params));
        }
        match seen.iter().find(|(p, _, _)| p == param) {
            Some((_, first, _)) if setting.whole && *first == pair.key => {
                bail!("option \"--{first}\" is given twice; give it once")
            }
            Some((_, first, first_whole)) if setting.whole || *first_whole => {
                bail!(
                    "options \"--{first}\" and \"--{}\" both set {param}; give one",
                    pair.key
                )
            }
            Some(_) => {}
            None => seen.push((param.to_owned(), &pair.key, setting.whole)),
        }
        insert(&mut typed, &setting.path, setting.typed, &pair.key)?;
        insert(&mut strings, &setting.path, setting.string, &pair.key)?;
    }
    for (param, _, _) in seen {
        // A value that parsed as TOML but is not what the parameter wants may
        // still be a fine string: `--body 42`, `--body true`.
        if let Err(error) = check(name, &param, typed[&param].clone()) {
            let string = strings[&param].clone();
            if check(name, &param, string.clone()).is_err() {
                bail!(
                    "bad value for {name} --{param}: {}",
                    plain(error.message().trim())
                );
            }
            typed.insert(param, string);
        }
    }
    typed.insert("kind".into(), Value::String(name.into()));
    Ok(typed)
}

impl Shorthand {
    /// The parameter path and the value that `value` given to this shorthand stands for.
    fn entry(self, value: &str) -> Result<(String, Value)> {
        match self {
            Shorthand::Header => {
                let (header, text) = value
                    .split_once(':')
                    .filter(|(header, _)| !header.trim().is_empty())
                    .with_context(|| {
                        format!(
                            "bad value {value:?} for --header; write it as 'Name: value', \
                             such as --header 'Retry-After: 2'"
                        )
                    })?;
                let text = Value::String(text.trim().to_owned());
                Ok((format!("{}.{}", self.param(), header.trim()), text))
            }
            Shorthand::Step => {
                let step = step_table(value).with_context(|| format!("in --step {value:?}"))?;
                Ok((
                    self.param().to_owned(),
                    Value::Array(vec![Value::Table(step)]),
                ))
            }
            Shorthand::Route => {
                let (path, spec) = value.split_once('=').with_context(|| {
                    format!(
                        "bad value {value:?} for --route; write it as 'PATH=FAULT', \
                         such as --route '/api/*=status --code 503'"
                    )
                })?;
                let fault = step_table(spec).with_context(|| format!("in --route {value:?}"))?;
                let mut route = Table::new();
                route.insert("path".into(), Value::String(path.trim().to_owned()));
                route.insert("fault".into(), Value::Table(fault));
                Ok((
                    self.param().to_owned(),
                    Value::Array(vec![Value::Table(route)]),
                ))
            }
        }
    }
}

/// A fault written as on the command line, `NAME --KEY VALUE ...`, as a table.
fn step_table(spec: &str) -> Result<Table> {
    let words = shell_words::split(spec).map_err(|e| anyhow!("cannot split it into words: {e}"))?;
    let Some((name, args)) = words.split_first() else {
        bail!("the step is empty; name a fault, such as --step 'status --code 503'");
    };
    table(name, &pairs(args)?)
}

/// Inserts `value` at `path`, one level of `param.key` deep; lists grow.
fn insert(table: &mut Table, path: &str, value: Value, key: &str) -> Result<()> {
    let (parent, leaf) = match path.split_once('.') {
        Some((param, leaf)) => {
            let nested = table
                .entry(param)
                .or_insert_with(|| Value::Table(Table::new()));
            let Value::Table(nested) = nested else {
                bail!("option \"--{key}\" sets part of {param}, which is not a table");
            };
            (nested, leaf)
        }
        None => (table, path),
    };
    match (parent.get_mut(leaf), value) {
        (None, value) => {
            parent.insert(leaf.to_owned(), value);
        }
        (Some(Value::Array(items)), Value::Array(more)) => items.extend(more),
        (Some(_), _) if key == path => bail!("option \"--{key}\" is given twice; give it once"),
        (Some(_), _) => {
            bail!("{path} is given twice, the second time by \"--{key}\"; give it once")
        }
    }
    Ok(())
}

/// Checks one parameter alone, which works because every other one has a default.
fn check(name: &str, param: &str, value: Value) -> Result<(), toml::de::Error> {
    let mut table = Table::new();
    table.insert("kind".into(), Value::String(name.into()));
    table.insert(param.into(), value);
    Value::Table(table).try_into::<Fault>().map(drop)
}

/// `text` as a TOML value (integer, float, boolean, array, inline table) if it
/// is one, otherwise as a string.
fn typed_value(text: &str) -> Value {
    // The table must hold only `v`: a newline in `text` could add other keys.
    toml::from_str::<Table>(&format!("v = {text}"))
        .ok()
        .filter(|table| table.len() == 1)
        .and_then(|mut table| table.remove("v"))
        .unwrap_or_else(|| Value::String(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<Pair> {
        pairs(&shell_words::split(line).unwrap()).unwrap()
    }

    fn serve(name: &str, line: &str) -> Result<Fault> {
        fault(name, &args(line))
    }

    fn from_toml(toml: &str) -> Fault {
        toml::from_str::<Table>(toml).unwrap().try_into().unwrap()
    }

    #[test]
    fn options_are_the_toml_keys() {
        let fault = serve("reset", "--when after-body-bytes --body-bytes=10").unwrap();
        assert_eq!(
            fault,
            from_toml("kind = 'reset'\nwhen = 'after-body-bytes'\nbody-bytes = 10")
        );
    }

    #[test]
    fn values_that_want_a_string_keep_what_was_typed() {
        let fault = serve("status", "--code 503 --body 42").unwrap();
        assert_eq!(fault, from_toml("kind = 'status'\ncode = 503\nbody = '42'"));
        let fault = serve("slow-headers", "--delay 2s --body true").unwrap();
        assert_eq!(
            fault,
            from_toml("kind = 'slow-headers'\ndelay = '2s'\nbody = 'true'")
        );
    }

    #[test]
    fn headers_come_from_the_shorthand_and_from_dotted_keys() {
        let fault = serve("status", "--header 'Retry-After: 2' --headers.X-Id 7").unwrap();
        let expected = "kind = 'status'\nheaders = { Retry-After = '2', X-Id = '7' }";
        assert_eq!(fault, from_toml(expected));
    }

    #[test]
    fn steps_are_faults_written_as_on_the_command_line() {
        let fault = serve(
            "sequence",
            "--step reset --step 'status --code 503' --step ok",
        )
        .unwrap();
        assert_eq!(
            fault,
            Fault::sequence([Fault::reset(), Fault::status(503), Fault::ok()])
        );
    }

    #[test]
    fn routes_are_paths_with_faults_written_as_on_the_command_line() {
        assert_eq!(
            serve(
                "routes",
                "--route '/api/*=status --code 503' --route /health=ok --fallback reset"
            )
            .unwrap(),
            from_toml(
                r#"kind = "routes"
                fallback = "reset"
                routes = [
                    { path = "/api/*", fault = { kind = "status", code = 503 } },
                    { path = "/health", fault = "ok" },
                ]"#
            )
        );
        let error = serve("routes", "--route /health").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("bad value \"/health\" for --route")
        );
    }

    #[test]
    fn a_newline_in_a_value_cannot_add_keys() {
        let fault = serve("ok", "--body '1\nkind = \"hang\"'").unwrap();
        let body = "1\nkind = \"hang\"".to_owned();
        assert_eq!(
            fault,
            Fault::Ok(crate::fault::Healthy {
                body,
                ..Default::default()
            })
        );
    }

    #[test]
    fn a_bad_value_names_the_option_and_what_it_wants() {
        let error = serve("status", "--code abc").unwrap_err();
        assert_eq!(
            error.to_string(),
            "bad value for status --code: invalid type: string \"abc\", \
             expected a status code from 200 to 999"
        );
    }

    #[test]
    fn a_code_out_of_range_names_the_codes_a_response_can_have() {
        for (fault, option, value) in [
            ("status", "code", "-1"),
            ("status", "code", "70000"),
            ("redirect-chain", "final-code", "-1"),
            ("bad-encoding", "code", "18446744073709551615"),
        ] {
            let error = serve(fault, &format!("--{option} {value}")).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!(
                    "bad value for {fault} --{option}: status code {value} cannot be a \
                     final response; use 200 to 999"
                )
            );
        }
    }

    #[test]
    fn a_missing_value_is_not_taken_from_the_next_option() {
        let error = pairs(&["--code".into(), "--body".into(), "x".into()]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "option \"--code\" is missing its value; write --code VALUE"
        );
    }
}
