use clap::Parser as _;

fn main() -> std::process::ExitCode {
    let cli = rpl::cli::Cli::parse();
    let code = rpl::cli::run(cli);
    std::process::ExitCode::from(code as u8)
}
