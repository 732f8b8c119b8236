//! The `clwe-bench` binary: all command-line code lives in [`cli`]; this hands over the exit code.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
