//! `kreishaus`: see `kreishaus --help`.

fn main() -> std::process::ExitCode {
    server::cli::main()
}
