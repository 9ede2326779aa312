use clap::Parser as _;

// Checking builds many small trees on several threads at once: jemalloc
// allocates and faults in that memory faster than glibc's malloc (rpl
// check on 1,000 files: -11% wall clock, README "Performance").
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    let cli = rpl::cli::Cli::parse();
    let code = rpl::cli::run(cli);
    std::process::ExitCode::from(code as u8)
}
