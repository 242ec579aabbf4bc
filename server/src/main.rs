//! The `motcua-server` binary: a thin command line over the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    motcua_server::cli::Cli::parse().run()
}
