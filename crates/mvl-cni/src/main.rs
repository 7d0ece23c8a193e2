//! `mvl-cni`: the CNI plugin binary. See the `mvl_cni` crate doc.

#![forbid(unsafe_code)]

use std::io::{Read, Write};

use anyhow::Context;

fn main() -> anyhow::Result<()> {
    if std::env::var_os("CNI_COMMAND").is_none_or(|c| c.is_empty()) {
        // Run by hand: say what this is instead of failing, and leave stdin alone.
        eprint!("{}", mvl_cni::about());
        return Ok(());
    }
    let mut stdin = Vec::new();
    let reply = match std::io::stdin().read_to_end(&mut stdin) {
        Ok(_) => mvl_cni::main_with(|k| std::env::var(k).ok(), &stdin),
        Err(e) => {
            let err = mvl_cni::Error::Io(e);
            mvl_cni::Reply {
                stdout: serde_json::to_string_pretty(&err.to_json(mvl_cni::Version::LATEST.as_str()))?,
                exit_code: 1,
            }
        }
    };
    if reply.exit_code != 0 {
        let v: serde_json::Value = serde_json::from_str(&reply.stdout).unwrap_or_default();
        eprintln!(
            "mvl-cni: error {}: {}",
            v["code"],
            v["msg"].as_str().unwrap_or("")
        );
    }
    let mut out = std::io::stdout().lock();
    out.write_all(reply.stdout.as_bytes())
        .context("writing the result to stdout")?;
    out.flush().context("writing the result to stdout")?;
    drop(out);
    std::process::exit(reply.exit_code);
}
