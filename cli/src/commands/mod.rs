//! One module per group of subcommands; [`run`] dispatches.

mod admin;
#[cfg(feature = "bench")]
mod bench;
mod copy;
mod entry;
mod health;
mod list;

use clap::CommandFactory;

use crate::args::{Cli, Command};
use crate::exit::CmdResult;
use crate::layers::Layers;

/// What every command needs besides its own arguments.
#[derive(Debug)]
pub(crate) struct Ctx {
    /// Print JSON instead of tables.
    pub(crate) json: bool,
    /// The layers to put over every store opened.
    pub(crate) layers: Layers,
}

/// Run the command `cli` names.
pub(crate) async fn run(cli: Cli) -> CmdResult {
    if let Command::Completions(args) = &cli.command {
        let mut command = Cli::command();
        clap_complete::generate(args.shell, &mut command, "stowage", &mut std::io::stdout());
        return Ok(());
    }
    let ctx = Ctx {
        json: cli.global.json,
        layers: Layers::from_flags(&cli.global)?,
    };
    match cli.command {
        Command::Get(a) => entry::get(&ctx, a).await,
        Command::Put(a) => entry::put(&ctx, a).await,
        Command::Delete(a) => entry::delete(&ctx, a).await,
        Command::Ttl(a) => entry::ttl(&ctx, a).await,
        Command::Keys(a) => list::keys(&ctx, a).await,
        Command::Collections(a) => list::collections(&ctx, a).await,
        Command::Copy(a) => copy::run(&ctx, a).await,
        Command::Health(a) => health::run(&ctx, a).await,
        Command::Cull(a) => admin::cull(&ctx, a).await,
        Command::Destroy(a) => admin::destroy(&ctx, a).await,
        #[cfg(feature = "bench")]
        Command::Bench(a) => bench::run(&ctx, a).await,
        Command::Completions(_) => Ok(()),
    }
}
