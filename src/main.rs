//! `outage`: parse the command line and make one call into the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    match outage::cli::run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("outage: {error:#}");
            ExitCode::from(outage::cli::NOTHING_RAN)
        }
    }
}
