//! `rpl completions SHELL`: the shell's completion script, on stdout.

use clap::{Args, CommandFactory as _};
use clap_complete::Shell;

use super::{Cli, ExitCode, write_stdout};

#[derive(Args, Debug)]
#[command(
    after_help = "Installing (the script completes every subcommand and flag):
  bash        rpl completions bash > ~/.local/share/bash-completion/completions/rpl
  zsh         rpl completions zsh > ~/.zfunc/_rpl   (with fpath+=~/.zfunc before compinit)
  fish        rpl completions fish > ~/.config/fish/completions/rpl.fish
  powershell  rpl completions powershell >> $PROFILE
  elvish      rpl completions elvish >> ~/.config/elvish/rc.elv

Exit codes:
  0  the script was written
  2  usage error (an unknown shell) or the output could not be written"
)]
pub struct CompletionsArgs {
    /// The shell to write the script for
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: &CompletionsArgs) -> ExitCode {
    // Into memory first: clap_complete panics on a write error, and a
    // closed pipe is no reason to.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "rpl", &mut script);
    write_stdout(&script)
}
