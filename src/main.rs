use std::process::ExitCode;

fn main() -> ExitCode {
    altr_mcp::cli::main()
}
