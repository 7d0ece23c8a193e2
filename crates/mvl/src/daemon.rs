//! `mvl daemon`: the userspace datapath as a foreground service.
//!
//! It serves the control protocol (`mvl_datapath::control`: JSON lines) on
//! a Unix socket that only root may use (mode 0600), saves the children in
//! the state directory after every change, and watches the lowers. SIGTERM
//! or SIGINT stops it cleanly: the forwarding threads end, the socket file
//! goes, and the children — persistent TAPs with their addresses and routes —
//! stay in place for the next start, which re-attaches them. After `kill -9`
//! the same happens at the next start.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use mvl_datapath::{control, Engine, Monitor, Options};
use nix::sys::signal::{SigSet, Signal};

/// Options of `mvl daemon`.
#[derive(clap::Args)]
pub struct DaemonArgs {
    /// The control socket.
    #[arg(long, default_value = "/run/mvl/mvl.sock")]
    pub socket: PathBuf,
    /// Where the children are remembered across restarts.
    #[arg(long, default_value = "/var/lib/mvl")]
    pub state_dir: PathBuf,
    /// Queues per TAP, and forwarding threads per lower.
    #[arg(long, default_value_t = 1)]
    pub queues: usize,
    /// Do not carry virtio-net headers (no GSO pass-through; for comparison).
    #[arg(long)]
    pub no_vnet_hdr: bool,
    /// Log format on stderr: text, or one JSON object per event.
    #[arg(long, value_enum, default_value = "text")]
    pub format: crate::Format,
    /// Same as --format json.
    #[arg(short = 'j', long = "json")]
    pub json: bool,
}

/// Binds the socket; a stale socket file (nobody listening) is replaced,
/// a live daemon is not.
fn bind(path: &Path) -> Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    if path.exists() {
        if UnixStream::connect(path).is_ok() {
            bail!("another mvl daemon is serving {}", path.display());
        }
        std::fs::remove_file(path)
            .with_context(|| format!("removing the stale socket {}", path.display()))?;
    }
    let l = UnixListener::bind(path).with_context(|| format!("binding {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("chmod 0600 {}", path.display()))?;
    Ok(l)
}

/// Runs the daemon until SIGTERM or SIGINT.
pub fn run(a: DaemonArgs) -> Result<i32> {
    // Signals are taken by one thread with sigwait: block them everywhere first.
    let mut signals = SigSet::empty();
    signals.add(Signal::SIGTERM);
    signals.add(Signal::SIGINT);
    signals.thread_block().context("blocking signals")?;

    let opts = Options {
        queues: a.queues.max(1),
        vnet_hdr: !a.no_vnet_hdr,
        state_dir: Some(a.state_dir.clone()),
    };
    let engine = Arc::new(Engine::new(opts).context("starting the datapath")?);
    let restored = engine.show(None).map(|v| v.len()).unwrap_or(0);
    let mut monitor = Monitor::start(engine.clone()).context("starting the lower monitor")?;
    let listener = bind(&a.socket)?;
    tracing::info!(
        socket = %a.socket.display(),
        state = %a.state_dir.display(),
        restored,
        "mvl daemon serving"
    );

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let socket = a.socket.clone();
        std::thread::Builder::new()
            .name("mvl-signals".into())
            .spawn(move || {
                if let Ok(sig) = signals.wait() {
                    tracing::info!("{sig:?}: stopping; the children stay in place");
                }
                stop.store(true, Ordering::SeqCst);
                // Wake the accept loop.
                let _ = UnixStream::connect(&socket);
            })?;
    }

    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        match conn {
            Ok(stream) => {
                let engine = engine.clone();
                let spawned = std::thread::Builder::new()
                    .name("mvl-control".into())
                    .spawn(move || {
                        if let Err(e) = control::serve_connection(&engine, stream) {
                            tracing::debug!("control connection: {e}");
                        }
                    });
                if let Err(e) = spawned {
                    tracing::warn!("cannot serve a connection: {e}");
                }
            }
            Err(e) => tracing::warn!("accept: {e}"),
        }
    }
    monitor.stop();
    engine.shutdown();
    let _ = std::fs::remove_file(&a.socket);
    Ok(0)
}
