//! The daemon's control protocol: one JSON object per line over a Unix
//! socket, a request and its answer. The server side serves an [`Engine`];
//! [`Client`] is what `mvl --backend user` uses.
//!
//! ```text
//! → {"op":"add","name":"c1","link":{"netns":null,"name":"eth0"},"netns":"ns1","macvlan":{"mode":"bridge"}}
//! ← {"ok":true,"result":{"name":"c1",...}}
//! → {"op":"set","dev":{"netns":"ns1","name":"c1"},"up":true}
//! ← {"ok":false,"error":{"errno":98,"message":"c1: MAC ... is already used by ..."}}
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::{AddRequest, DevSpec, SetRequest};
use crate::engine::Engine;
use crate::error::{Error, Result};

/// Longest request line the server reads; longer ones get an error reply.
pub const MAX_REQUEST: usize = 1 << 20;

/// A request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Create a child.
    Add(AddRequest),
    /// Change a child.
    Set(SetRequest),
    /// Delete a child.
    Del {
        /// The child.
        dev: DevSpec,
    },
    /// List children (or one).
    Show {
        /// Only this child.
        #[serde(default)]
        dev: Option<DevSpec>,
        /// Only the children in this namespace (without `dev`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        netns: Option<String>,
    },
    /// Refuse (EBUSY) enslaving a lower that has children.
    CheckEnslave {
        /// The device to enslave.
        dev: DevSpec,
        /// The bridge or bond.
        master: String,
    },
}

/// A refusal as carried on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    /// The errno the kernel gives for the same request, when there is one.
    pub errno: Option<i32>,
    /// What went wrong, naming the devices and the rule.
    pub message: String,
}

/// An answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Whether the request succeeded.
    pub ok: bool,
    /// Its result, on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReply>,
}

impl Response {
    fn ok(v: Value) -> Response {
        Response {
            ok: true,
            result: Some(v),
            error: None,
        }
    }

    fn err(errno: Option<i32>, message: String) -> Response {
        Response {
            ok: false,
            result: None,
            error: Some(ErrorReply { errno, message }),
        }
    }
}

/// Serves one request.
pub fn handle(engine: &Engine, req: Request) -> Response {
    let r = match req {
        Request::Add(a) => engine.add(&a).and_then(to_value),
        Request::Set(s) => engine.set(&s).map(|()| Value::Null),
        Request::Del { dev } => engine.del(&dev).map(|()| Value::Null),
        Request::Show {
            dev: None,
            netns: Some(ns),
        } => engine.show_netns(&ns).and_then(to_value),
        Request::Show { dev, .. } => engine.show(dev.as_ref()).and_then(to_value),
        Request::CheckEnslave { dev, master } => engine.check_enslave(&dev, &master).map(|()| Value::Null),
    };
    match r {
        Ok(v) => Response::ok(v),
        Err(e) => Response::err(e.errno(), e.to_string()),
    }
}

fn to_value<T: Serialize>(t: T) -> Result<Value> {
    serde_json::to_value(t).map_err(|e| Error::Invalid(e.to_string()))
}

/// Serves one line of input: a malformed or unknown request gets an error
/// reply, never a crash.
pub fn handle_line(engine: &Engine, line: &str) -> Response {
    match serde_json::from_str::<Request>(line) {
        Ok(req) => handle(engine, req),
        Err(e) => Response::err(Some(22), format!("bad request: {e}")),
    }
}

/// Serves a connection until it closes: request lines in, answer lines out.
pub fn serve_connection(engine: &Engine, stream: UnixStream) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut r = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut r)
            .take(MAX_REQUEST as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(());
        }
        let resp = if line.len() > MAX_REQUEST {
            // Skip the rest of the oversized line, then answer.
            let mut rest = Vec::new();
            r.read_until(b'\n', &mut rest)?;
            Response::err(Some(7), format!("request longer than {MAX_REQUEST} bytes"))
        } else {
            match std::str::from_utf8(&line) {
                Ok(s) if s.trim().is_empty() => continue,
                Ok(s) => handle_line(engine, s),
                Err(_) => Response::err(Some(22), "bad request: not UTF-8".into()),
            }
        };
        let mut text = serde_json::to_string(&resp).unwrap_or_else(|_| "{\"ok\":false}".into());
        text.push('\n');
        out.write_all(text.as_bytes())?;
    }
}

/// A connection to a daemon.
pub struct Client {
    r: BufReader<UnixStream>,
    w: UnixStream,
}

impl Client {
    /// Connects to the daemon's socket.
    pub fn connect(path: &Path) -> Result<Client> {
        let s = UnixStream::connect(path).map_err(Error::io(format!(
            "connecting to the mvl daemon at {} (is `mvl daemon` running?)",
            path.display()
        )))?;
        let w = s.try_clone().map_err(Error::io("socket"))?;
        Ok(Client {
            r: BufReader::new(s),
            w,
        })
    }

    /// Sends a request and waits for its answer; a refusal becomes an error.
    pub fn call(&mut self, req: &Request) -> Result<Value> {
        let mut text = serde_json::to_string(req).map_err(|e| Error::Invalid(e.to_string()))?;
        text.push('\n');
        self.w
            .write_all(text.as_bytes())
            .map_err(Error::io("writing to the daemon"))?;
        let mut line = String::new();
        self.r
            .read_line(&mut line)
            .map_err(Error::io("reading from the daemon"))?;
        if line.is_empty() {
            return Err(Error::Invalid("the daemon closed the connection".into()));
        }
        let resp: Response =
            serde_json::from_str(&line).map_err(|e| Error::Invalid(format!("daemon answer: {e}")))?;
        match (resp.ok, resp.error) {
            (true, _) => Ok(resp.result.unwrap_or(Value::Null)),
            (false, Some(e)) => Err(Error::Remote {
                errno: e.errno,
                message: e.message,
            }),
            (false, None) => Err(Error::Invalid("the daemon refused without a reason".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_serialize_as_documented() {
        let r = Request::Del {
            dev: DevSpec::new(Some("ns1"), "c1"),
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"op":"del","dev":{"netns":"ns1","name":"c1"}}"#
        );
        let back: Request = serde_json::from_str(r#"{"op":"show"}"#).unwrap();
        assert_eq!(
            back,
            Request::Show {
                dev: None,
                netns: None
            }
        );
        assert!(serde_json::from_str::<Request>(r#"{"op":"explode"}"#).is_err());
    }

    #[test]
    fn bad_lines_get_error_replies() {
        let engine = Engine::new(crate::Options::default()).unwrap();
        for line in ["", "{", "[1,2]", r#"{"op":"explode"}"#, r#"{"op":"del"}"#] {
            let r = handle_line(&engine, line);
            assert!(!r.ok, "{line}");
            assert_eq!(r.error.unwrap().errno, Some(22));
        }
        let r = handle_line(&engine, r#"{"op":"show"}"#);
        assert!(r.ok);
        assert_eq!(r.result, Some(Value::Array(vec![])));
    }
}
