//! `stowage`: look into, operate and migrate any Stowage store by URL.
//!
//! ```text
//! stowage get disk:///tmp/s.redb tokens alice
//! stowage copy disk:///tmp/s.redb redis://127.0.0.1:6379/ --collection tokens
//! stowage health redis://127.0.0.1:6379/
//! ```
//!
//! Modules by role: [`args`] (the command line), [`help`] (examples and exit codes in `--help`), [`commands`] (one module per group of
//! subcommands), [`layers`] (URL + layer flags → store), [`output`] (tables and JSON),
//! [`exit`] (exit codes), [`redact`] (secrets out of everything printed), [`logging`] (`-v`).

#![deny(unsafe_code)]

mod args;
mod commands;
mod exit;
mod help;
mod layers;
mod logging;
mod output;
mod redact;

use std::process::ExitCode;

use clap::error::ErrorKind as ClapErrorKind;

fn main() -> ExitCode {
    // Every URL on the command line is a possible source of secrets, whatever position it is in.
    let argv: Vec<String> = std::env::args().collect();
    redact::remember_urls(argv.iter().map(String::as_str));
    let cli = match args::parse(&argv) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version are our own text; an error may quote an argument, so it is masked.
            let (code, text) = match e.kind() {
                ClapErrorKind::DisplayHelp | ClapErrorKind::DisplayVersion => {
                    (exit::OK, e.render().to_string())
                }
                _ => (exit::USAGE, redact::text(&e.render().to_string())),
            };
            if code == exit::OK {
                output::line(text.trim_end());
            } else {
                eprintln!("{}", text.trim_end());
            }
            return ExitCode::from(code);
        }
    };
    logging::init(cli.global.verbose);
    let json = cli.global.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::BACKEND);
        }
    };
    let outcome = runtime.block_on(commands::run(cli));
    // Stores may hold background tasks (connection pools, sweepers): do not wait for them.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let message = redact::text(&f.message);
            if json {
                // Scripts read one JSON document from standard error too.
                let doc = serde_json::json!({"error": message, "exit_code": f.code});
                eprintln!("{doc}");
            } else {
                eprintln!("error: {message}");
            }
            ExitCode::from(f.code)
        }
    }
}
