//! The `outage` command line.
//!
//! `main.rs` calls [`run`] and turns an error into exit code
//! [`NOTHING_RAN`]. The subcommands live in their own modules:
//!
//! - `serve`: one fault on loopback until a signal;
//! - `proxy`: Toxiproxy's HTTP API until a signal;
//! - `options`: `--KEY VALUE` fault options, turned into the fault's TOML table;
//! - `keys`: which options each fault takes;
//! - `list`: the catalogue;
//! - `run`: scenarios, and the table, JSON, JUnit and HTML of their results;
//! - `matrix`: every fault against every client.

mod explain;
mod keys;
mod list;
mod matrix;
mod options;
mod proxy;
mod run;
mod serve;
mod signals;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::fault::{CATALOGUE, Fault};

/// Exit code when a scenario failed (reserved for `outage run`).
pub const FAILED: u8 = 1;
/// Exit code when nothing could run: bad usage, bad fault or option, bind failure.
pub const NOTHING_RAN: u8 = 2;

const EXIT_CODES: &str = "\
Exit codes:
  0  success (`serve` and `proxy` exit 0 on SIGINT or SIGTERM); `run`: no
     scenario failed, skipped ones are listed with their reason
  1  a scenario failed
  2  nothing could run: bad usage, unknown fault or option, bad value, port in use,
     or every scenario broken or skipped
  130, 143  `run` was interrupted by SIGINT or SIGTERM: every client was killed,
     and the report lists what finished, the rest as INTERRUPTED";

/// Fault-injecting HTTP servers on 127.0.0.1: refused, hung, reset, truncated
/// and garbled connections, on purpose.
#[derive(Debug, Parser)]
#[command(name = "outage", version, after_help = EXIT_CODES)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve one fault on 127.0.0.1 until SIGINT or SIGTERM.
    ///
    /// Prints the base URL alone on the first line of stdout, then one line
    /// per attempt on stderr as each attempt ends.
    ///
    /// Writing never stalls the server: attempt lines wait in a queue of 1024
    /// for a writer of their own, and when stderr is not read (a pipe nobody
    /// drains) the lines that find the queue full are dropped, and a line
    /// "outage: N lines dropped" says so once stderr moves again. For a record
    /// a program can rely on, give `--journal FILE`: one JSON line per attempt,
    /// through the same kind of queue (lines dropped only when the disk is
    /// slower than attempts end, and counted on stderr at exit).
    ///
    /// Fault options are the fault's TOML keys: `--KEY VALUE` or
    /// `--KEY=VALUE`. A VALUE that is a TOML value (503, 1.5, true, [..],
    /// {..}) is one; anything else is a string. `--TABLE.KEY VALUE` sets one
    /// entry of a table. Repeatable shorthands: `--header 'Name: value'` for
    /// `status`, `--step SPEC` for `sequence`, where SPEC is a fault written
    /// as here. `outage serve FAULT --help` lists the fault's options.
    #[command(
        disable_help_flag = true,
        override_usage = "outage serve [--port N] [--tls] [--http2] [--write-ca FILE] [--journal FILE] FAULT [--KEY VALUE]...",
        after_help = "Examples:\n  \
            outage serve status --code 503 --header 'Retry-After: 2' --body busy\n  \
            outage serve reset --when after-body-bytes --body-bytes 10\n  \
            outage serve slow-headers --delay 2s --port 8080\n  \
            outage serve sequence --step reset --step 'status --code 503' --step ok\n  \
            outage serve tls-ok --write-ca ca.pem\n  \
            outage serve reset --tls --write-ca ca.pem\n  \
            outage serve h2-reset-stream --code cancel\n  \
            outage serve ok --http2\n  \
            outage serve hang --journal attempts.jsonl\n\n\
            Exit codes:\n  \
            0  stopped by SIGINT or SIGTERM\n  \
            2  unknown fault or option, bad value, or the server could not start"
    )]
    Serve(ServeArgs),
    /// Serve Toxiproxy's HTTP API (2.12.0) until SIGINT or SIGTERM, for
    /// Toxiproxy's clients to create TCP proxies with toxics; or, with
    /// `--upstream`, one fault in front of a real service.
    ///
    /// Prints the API's URL alone on the first line of stdout once it
    /// listens and the proxies of `--config` listen too. With `--upstream
    /// HOST:PORT [FAULT [--KEY VALUE]...]` (FAULT defaults to `ok`), it is
    /// `outage serve FAULT` in front of that service: the proxy's URL on
    /// stdout, one line per attempt on stderr with its upstream leg.
    #[command(after_help = "Examples:\n  \
            outage proxy\n  \
            outage proxy --port 0 --config proxies.json\n  \
            outage proxy --upstream 127.0.0.1:5432                 # ok: pass through\n  \
            outage proxy --upstream localhost:8080 sequence --step 'status --code 503' --step ok\n  \
            outage proxy --upstream localhost:8080 truncate --sent 100 --journal attempts.jsonl\n\n\
            Exit codes:\n  \
            0  stopped by SIGINT or SIGTERM\n  \
            2  the API could not listen, or the config file is bad or its proxies could not start")]
    Proxy(proxy::ProxyArgs),
    /// Run scenario files: each starts its fault, runs its client against
    /// it, and checks what happened.
    #[command(after_help = EXIT_CODES)]
    Run(run::RunArgs),
    /// Explain a fault: what happens on the wire, what each client raises
    /// (from the scenario catalogue), and how to handle it.
    #[command(after_help = EXIT_CODES)]
    Explain(explain::ExplainArgs),
    /// List the faults: what happens on the wire, what clients see, and
    /// their options.
    #[command(after_help = EXIT_CODES)]
    List(ListArgs),
    /// The exception matrix: every fault against every client, the error
    /// each raised and its class, as Markdown or an HTML page.
    ///
    /// Runs the scenarios (`--runs N` times, saying of each cell whether it
    /// was stable), reads saved results (`--from`), or shows what the
    /// scenario files expect (`--expected`).
    #[command(after_help = MATRIX_EXIT_CODES)]
    Matrix(matrix::MatrixArgs),
}

const MATRIX_EXIT_CODES: &str = "\
Exit codes:
  0  the matrix was written; when it ran the scenarios, none failed
  1  it ran the scenarios and one failed (the matrix was written)
  2  nothing could be shown: bad usage, a bad scenario or results file, a file
     that cannot be written, or every scenario broken or skipped
  130, 143  interrupted by SIGINT or SIGTERM: the matrix shows what finished";

#[derive(Debug, Args)]
struct ServeArgs {
    /// Listen on this port instead of one the OS picks; may also follow the fault.
    #[arg(long, value_name = "N")]
    port: Option<u16>,
    /// Serve the fault behind TLS, on an https URL; may also follow the fault.
    #[arg(long)]
    tls: bool,
    /// Serve HTTP/2 as well: prior knowledge on http, ALPN h2 with --tls
    /// (the h2-* faults always do); may also follow the fault.
    #[arg(long)]
    http2: bool,
    /// Write the server's CA certificate (PEM) to FILE before printing the
    /// URL, for https servers; may also follow the fault.
    #[arg(long, value_name = "FILE")]
    write_ca: Option<PathBuf>,
    /// Write one JSON line per attempt to FILE as it ends (FILE is created or
    /// truncated); may also follow the fault.
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    /// Print help; after FAULT, print the fault's description and options.
    #[arg(short, long)]
    help: bool,
    /// The fault to serve; `outage list` shows them all.
    #[arg(value_name = "FAULT", required_unless_present = "help")]
    fault: Option<String>,
    /// The fault's options, `--KEY VALUE`, named as in a scenario file.
    #[arg(
        value_name = "--KEY VALUE",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    options: Vec<String>,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Print the names alone, one per line.
    #[arg(long, conflicts_with = "json")]
    names: bool,
    /// Print the catalogue as JSON, each fault with its parameter names.
    #[arg(long)]
    json: bool,
}

/// Parses the command line and runs it. Errors mean nothing could run; the
/// caller prints them after `outage: ` and exits with [`NOTHING_RAN`].
pub fn run() -> Result<ExitCode> {
    match Cli::parse().command {
        Command::Serve(args) => serve_command(args, None),
        Command::Proxy(mut args) => match args.upstream.take() {
            Some(upstream) => proxy_upstream(args, upstream),
            None => proxy::proxy(args),
        },
        Command::Run(args) => run::run(args),
        Command::Explain(args) => explain::explain(args),
        Command::Matrix(args) => matrix::matrix(args),
        Command::List(args) => {
            let mut out = io::stdout().lock();
            let written = if args.names {
                list::names(&mut out)
            } else if args.json {
                list::json(&mut out)
            } else {
                list::catalogue(&mut out)
            };
            finish(written.and_then(|()| out.flush()))
        }
    }
}

/// `outage proxy --upstream HOST:PORT [FAULT ...]`: `outage serve` with an
/// upstream, the fault `ok` unless one is given.
fn proxy_upstream(args: proxy::ProxyArgs, upstream: String) -> Result<ExitCode> {
    // `--bad-gateway` may also follow FAULT, like `serve`'s own options.
    let bad_gateway = args.bad_gateway || args.fault.iter().any(|a| a == "--bad-gateway");
    let mut rest = args
        .fault
        .into_iter()
        .filter(|a| a != "--bad-gateway")
        .peekable();
    // With FAULT left out, what follows are `ok`'s options and `serve`'s.
    let fault = match rest.peek() {
        Some(first) if !first.starts_with('-') => rest.next(),
        _ => None,
    };
    let serve = ServeArgs {
        port: args.port,
        tls: false,
        http2: false,
        write_ca: None,
        journal: None,
        help: false,
        fault: Some(fault.unwrap_or_else(|| "ok".to_owned())),
        options: rest.collect(),
    };
    serve_command(serve, Some((upstream, bad_gateway)))
}

fn serve_command(args: ServeArgs, upstream: Option<(String, bool)>) -> Result<ExitCode> {
    let Some(name) = args.fault else {
        // Only `--help` makes FAULT optional.
        return finish(serve_help());
    };
    let after = After::parse(&args.options)?;
    if args.help || after.help {
        Fault::named(&name)?;
        let mut out = io::stdout().lock();
        let info = CATALOGUE.iter().find(|info| info.name == name);
        let written = info.map_or(Ok(()), |info| list::entry(&mut out, info));
        return finish(written.and_then(|()| out.flush()));
    }
    let port = match (args.port, after.port) {
        (Some(_), Some(_)) => bail!("option \"--port\" is given twice; give it once"),
        (port, later) => port.or(later).unwrap_or(0),
    };
    let write_ca = match (args.write_ca, after.write_ca) {
        (Some(_), Some(_)) => bail!("option \"--write-ca\" is given twice; give it once"),
        (file, later) => file.or(later),
    };
    let journal = match (args.journal, after.journal) {
        (Some(_), Some(_)) => bail!("option \"--journal\" is given twice; give it once"),
        (file, later) => file.or(later),
    };
    let fault = options::fault(&name, &after.fault)?;
    let tls = args.tls || after.tls;
    if write_ca.is_some() && !tls && !fault.is_tls() {
        bail!(
            "{name} serves plain HTTP, so it has no CA to write; add --tls to serve it behind TLS"
        );
    }
    serve::serve(
        fault,
        serve::Settings {
            port,
            tls,
            http2: args.http2 || after.http2,
            write_ca,
            journal,
            upstream,
        },
    )
}

/// What follows FAULT: the fault's options, and `serve`'s own `--port`,
/// `--tls`, `--write-ca`, `--journal` and `--help`, which may come anywhere among them.
struct After {
    /// The fault's `--KEY VALUE` options.
    fault: Vec<options::Pair>,
    /// `--port N`, when given after FAULT.
    port: Option<u16>,
    /// True when `--tls` was given after FAULT.
    tls: bool,
    /// True when `--http2` was given after FAULT.
    http2: bool,
    /// `--write-ca FILE`, when given after FAULT.
    write_ca: Option<PathBuf>,
    /// `--journal FILE`, when given after FAULT.
    journal: Option<PathBuf>,
    /// True when `--help` or `-h` was given after FAULT.
    help: bool,
}

impl After {
    fn parse(args: &[String]) -> Result<After> {
        let mut after = After {
            fault: Vec::new(),
            port: None,
            tls: false,
            http2: false,
            write_ca: None,
            journal: None,
            help: false,
        };
        // `--help`, `--tls` and `--http2` take no value, so split the options around them first.
        let is_help = |arg: &String| arg == "--help" || arg == "-h";
        let is_flag = |arg: &String| is_help(arg) || arg == "--tls" || arg == "--http2";
        for part in args.split(is_flag) {
            after.fault.extend(options::pairs(part)?);
        }
        after.help = args.iter().any(is_help);
        after.tls = args.iter().any(|arg| arg == "--tls");
        after.http2 = args.iter().any(|arg| arg == "--http2");
        if let Some(at) = after.fault.iter().position(|pair| pair.key == "write-ca") {
            let pair = after.fault.remove(at);
            if after.fault.iter().any(|pair| pair.key == "write-ca") {
                bail!("option \"--write-ca\" is given twice; give it once");
            }
            after.write_ca = Some(PathBuf::from(pair.value));
        }
        if let Some(at) = after.fault.iter().position(|pair| pair.key == "journal") {
            let pair = after.fault.remove(at);
            if after.fault.iter().any(|pair| pair.key == "journal") {
                bail!("option \"--journal\" is given twice; give it once");
            }
            after.journal = Some(PathBuf::from(pair.value));
        }
        if let Some(at) = after.fault.iter().position(|pair| pair.key == "port") {
            let pair = after.fault.remove(at);
            if after.fault.iter().any(|pair| pair.key == "port") {
                bail!("option \"--port\" is given twice; give it once");
            }
            let port = pair.value.parse().with_context(|| {
                format!(
                    "bad value {:?} for --port; give a port number from 0 to 65535",
                    pair.value
                )
            })?;
            after.port = Some(port);
        }
        Ok(after)
    }
}

/// Prints `outage serve --help`.
fn serve_help() -> io::Result<()> {
    let mut command = Cli::command();
    command.build();
    match command.find_subcommand_mut("serve") {
        Some(serve) => serve.print_long_help(),
        None => Ok(()),
    }
}

/// Exit 0 after writing to stdout, also when the reader has gone (`| head`).
pub(crate) fn finish(written: io::Result<()>) -> Result<ExitCode> {
    match written {
        Err(error) if error.kind() != io::ErrorKind::BrokenPipe => {
            Err(error).context("cannot write to stdout")
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}
