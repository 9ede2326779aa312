//! `rpl man [COMMAND]`: a manual page, in roff, on stdout: `rpl`'s own,
//! which lists the subcommands as `rpl-check(1)` and so on, or one of
//! those.

use clap::{Args, CommandFactory as _};

use super::{Cli, ExitCode, write_stdout};

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  rpl man | man -l -                          read it now
  rpl man check | man -l -                    the page of `rpl check`
  mkdir -p ~/.local/share/man/man1
  rpl man > ~/.local/share/man/man1/rpl.1     install it: then `man rpl`
  for c in check eval explain test fmt completions man; do
    rpl man $c > ~/.local/share/man/man1/rpl-$c.1
  done

Exit codes:
  0  the page was written
  2  no such subcommand, or the output could not be written")]
pub struct ManArgs {
    /// A subcommand whose page to print (`check`, `eval`, …) [default: rpl's]
    pub command: Option<String>,
}

pub fn run(args: &ManArgs) -> ExitCode {
    let page = match &args.command {
        None => clap_mangen::Man::new(Cli::command()),
        Some(name) => {
            // Built, a subcommand knows its full name (`rpl-check`) and how
            // it is called (`rpl check`).
            let mut cli = Cli::command();
            cli.build();
            let Some(sub) = cli.find_subcommand(name).cloned() else {
                let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
                eprintln!(
                    "error: no subcommand `{}`; the pages are: {}",
                    crate::report::escape::visible(name),
                    names.join(", ")
                );
                return ExitCode::Usage;
            };
            clap_mangen::Man::new(sub).source(concat!("rpl ", env!("CARGO_PKG_VERSION")))
        }
    };
    let mut text = Vec::new();
    match page.render(&mut text) {
        Ok(()) => write_stdout(&text),
        Err(e) => {
            eprintln!("error: cannot render the manual page: {e}");
            ExitCode::Usage
        }
    }
}
