//! The `xacthuc` binary: only the CLI lives here; everything else is in the library.

fn main() -> std::process::ExitCode {
    xacthuc::cli::main()
}
