//! MCP over stdio, one JSON-RPC message per line, that answers every line it cannot use.
//!
//! rmcp's own stdio transport drops a line it cannot decode without a word, so a client waiting
//! for that reply hangs. Here a line that is not valid UTF-8 or JSON (nesting deeper than 128,
//! `1e400`, a lone surrogate), is longer than [`MAX_LINE_BYTES`], or is JSON but not a JSON-RPC
//! message gets a JSON-RPC error (-32700 parse error or -32600 invalid request) with the request's
//! id whenever one can be recovered from the line, and the server keeps serving. Only the writer
//! task touches stdout.

use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use rmcp::model::{ClientJsonRpcMessage, ErrorCode, ErrorData, RequestId, ServerJsonRpcMessage};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

/// The longest line read; a longer one is discarded (and answered with a parse error).
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// How much of an over-long line is kept to look for its id.
const KEPT_OF_LONG_LINE: usize = 64 * 1024;

const CHANNEL_CAPACITY: usize = 64;

/// One line read from the input.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A complete line (without its newline).
    Complete(Vec<u8>),
    /// A line longer than the limit: its start, for finding an id.
    TooLong(Vec<u8>),
}

/// Read the next line, at most `max` bytes kept; `None` at end of input.
pub async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    max: usize,
) -> std::io::Result<Option<Line>> {
    let mut line: Vec<u8> = Vec::new();
    let mut too_long = false;
    let mut any = false;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(if !any {
                None
            } else if too_long {
                Some(Line::TooLong(line))
            } else {
                Some(Line::Complete(line))
            });
        }
        any = true;
        let (chunk, found) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (buf.get(..i).unwrap_or_default(), Some(i + 1)),
            None => (buf, None),
        };
        if !too_long && line.len() + chunk.len() > max {
            too_long = true;
            line.truncate(KEPT_OF_LONG_LINE);
        }
        let room = if too_long {
            KEPT_OF_LONG_LINE.saturating_sub(line.len())
        } else {
            chunk.len()
        };
        line.extend(chunk.iter().take(room));
        let used = found.unwrap_or(buf.len());
        reader.consume(used);
        if found.is_some() {
            return Ok(Some(if too_long {
                Line::TooLong(line)
            } else {
                Line::Complete(line)
            }));
        }
    }
}

/// What to do with one line.
#[derive(Debug)]
pub enum Decoded {
    Message(Box<ClientJsonRpcMessage>),
    /// Nothing to do (a blank line, or a broken notification, which gets no reply).
    Skip,
    /// Answer with this error.
    Reply(Box<ServerJsonRpcMessage>),
}

fn error_reply(code: ErrorCode, message: String, id: Option<RequestId>) -> Decoded {
    Decoded::Reply(Box::new(ServerJsonRpcMessage::error(
        ErrorData::new(code, message, None),
        id,
    )))
}

/// Decode one line.
pub fn decode(line: Line) -> Decoded {
    let (bytes, too_long) = match line {
        Line::Complete(b) => (b, false),
        Line::TooLong(b) => (b, true),
    };
    if !too_long && bytes.iter().all(u8::is_ascii_whitespace) {
        return Decoded::Skip;
    }
    let id = || recover_id(&bytes).and_then(|v| serde_json::from_value::<RequestId>(v).ok());
    if too_long {
        return error_reply(
            ErrorCode::PARSE_ERROR,
            format!("Parse error: the message is longer than {MAX_LINE_BYTES} bytes"),
            id(),
        );
    }
    if std::str::from_utf8(&bytes).is_err() {
        return error_reply(
            ErrorCode::PARSE_ERROR,
            "Parse error: the message is not valid UTF-8".into(),
            id(),
        );
    }
    match serde_json::from_slice::<ClientJsonRpcMessage>(&bytes) {
        Ok(m) => return Decoded::Message(Box::new(m)),
        Err(e) if e.is_syntax() || e.is_eof() => {
            return error_reply(
                ErrorCode::PARSE_ERROR,
                format!("Parse error: the message is not valid JSON ({e})"),
                id(),
            );
        }
        Err(_) => {}
    }
    // Valid JSON (as far as serde_json goes) but not a message we understand.
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) => {
            let is_notification = v.get("method").is_some() && v.get("id").is_none();
            if is_notification {
                tracing::warn!("ignored a malformed notification on stdin");
                return Decoded::Skip;
            }
            let id = v
                .get("id")
                .cloned()
                .and_then(|v| serde_json::from_value::<RequestId>(v).ok());
            error_reply(
                ErrorCode::INVALID_REQUEST,
                "Invalid Request: expected one JSON-RPC 2.0 request, notification or response with a known method and valid params".into(),
                id,
            )
        }
        Err(e) => error_reply(
            ErrorCode::PARSE_ERROR,
            format!("Parse error: the message cannot be read as JSON ({e})"),
            id(),
        ),
    }
}

/// The `id` of a top-level JSON object, found without parsing the rest of the text (which may be
/// too deep, too long or invalid). Only a string or an integer id is returned.
pub fn recover_id(bytes: &[u8]) -> Option<Value> {
    let mut i = skip_ws(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(bytes, i);
        if bytes.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = skip_string(bytes, i)?;
        let key = bytes.get(i..key_end)?;
        i = skip_ws(bytes, key_end);
        if bytes.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(bytes, i + 1);
        let value_end = skip_value(bytes, i)?;
        if key == b"\"id\"" {
            let v: Value = serde_json::from_slice(bytes.get(i..value_end)?).ok()?;
            return match &v {
                Value::String(_) => Some(v),
                Value::Number(n) if n.is_i64() || n.is_u64() => Some(v),
                _ => None,
            };
        }
        i = skip_ws(bytes, value_end);
        match bytes.get(i) {
            Some(b',') => i += 1,
            _ => return None,
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

/// The index just past the string starting at `i` (which is a `"`).
fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        match b.get(j)? {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
}

/// The index just past the value starting at `i`, nesting counted without a depth limit.
fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b.get(j)? {
                    b'"' => {
                        j = skip_string(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while b
                .get(j)
                .is_some_and(|c| !matches!(c, b',' | b'}' | b']') && !c.is_ascii_whitespace())
            {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

/// The transport halves rmcp takes, over any reader and writer, and the writer task (await it
/// after the service ends so the last replies are flushed).
pub fn transport<R, W>(
    input: R,
    output: W,
) -> (
    mpsc::Sender<ServerJsonRpcMessage>,
    mpsc::Receiver<ClientJsonRpcMessage>,
    tokio::task::JoinHandle<()>,
)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (to_client, mut outgoing) = mpsc::channel::<ServerJsonRpcMessage>(CHANNEL_CAPACITY);
    let (mut to_server, incoming) = mpsc::channel::<ClientJsonRpcMessage>(CHANNEL_CAPACITY);
    let writer = tokio::spawn(async move {
        let mut output = output;
        while let Some(message) = outgoing.next().await {
            let mut line = match serde_json::to_vec(&message) {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!(error = %e, "could not serialize a message for stdout");
                    continue;
                }
            };
            line.push(b'\n');
            if output.write_all(&line).await.is_err() || output.flush().await.is_err() {
                break;
            }
        }
    });
    let mut replies = to_client.clone();
    tokio::spawn(async move {
        let mut reader = BufReader::with_capacity(64 * 1024, input);
        loop {
            let line = match read_line(&mut reader, MAX_LINE_BYTES).await {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "stdin could not be read; ending the session");
                    break;
                }
            };
            match decode(line) {
                Decoded::Message(m) => {
                    if to_server.send(*m).await.is_err() {
                        break;
                    }
                }
                Decoded::Skip => {}
                Decoded::Reply(r) => {
                    tracing::warn!("answered an unreadable message on stdin with a JSON-RPC error");
                    if replies.send(*r).await.is_err() {
                        break;
                    }
                }
            }
        }
    });
    (to_client, incoming, writer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reply_of(line: &[u8]) -> Value {
        match decode(Line::Complete(line.to_vec())) {
            Decoded::Reply(r) => serde_json::to_value(&*r).unwrap(),
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    #[test]
    fn ids_are_recovered_from_broken_lines() {
        assert_eq!(
            recover_id(br#"{"jsonrpc":"2.0","id":7,"x":1e400}"#),
            Some(json!(7))
        );
        assert_eq!(
            recover_id(br#" { "params": {"a": [[["}"]]]}, "id" : "abc", "method": "x""#),
            Some(json!("abc"))
        );
        assert_eq!(recover_id(br#"{"id": 1.5}"#), None);
        assert_eq!(recover_id(b"[1,2]"), None);
        assert_eq!(recover_id(b"garbage"), None);
    }

    #[test]
    fn unreadable_lines_get_errors_with_their_id() {
        let deep = format!(
            r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{}{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        let r = reply_of(deep.as_bytes());
        assert_eq!(
            (r["id"].clone(), r["error"]["code"].clone()),
            (json!(3), json!(-32700))
        );
        let r = reply_of(br#"{"jsonrpc":"2.0","id":4,"method":"ping","params":{"x":1e400}}"#);
        assert_eq!(
            (r["id"].clone(), r["error"]["code"].clone()),
            (json!(4), json!(-32700))
        );
        let r = reply_of(br#"{"jsonrpc":"2.0","id":5,"method":"ping","params":{"x":"\ud800"}}"#);
        assert_eq!(
            (r["id"].clone(), r["error"]["code"].clone()),
            (json!(5), json!(-32700))
        );
        let r = reply_of(b"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\",\"x\":\"\xff\"}");
        assert_eq!(
            (r["id"].clone(), r["error"]["code"].clone()),
            (json!(6), json!(-32700))
        );
        let r = reply_of(br#"{"jsonrpc":"2.0","id":8,"nomethod":true}"#);
        assert_eq!(
            (r["id"].clone(), r["error"]["code"].clone()),
            (json!(8), json!(-32600))
        );
        let r = reply_of(b"{not json");
        assert_eq!(
            (r["id"].clone(), r["error"]["code"].clone()),
            (json!(null), json!(-32700))
        );
        assert!(matches!(
            decode(Line::Complete(b"  ".to_vec())),
            Decoded::Skip
        ));
        assert!(matches!(
            decode(Line::Complete(
                br#"{"jsonrpc":"2.0","method":"x/y","params":5}"#.to_vec()
            )),
            Decoded::Skip | Decoded::Message(_)
        ));
    }

    #[tokio::test]
    async fn long_lines_are_cut_and_reading_goes_on() {
        let mut input = br#"{"id":9,"method":"ping","params":{"pad":""#.to_vec();
        input.extend(std::iter::repeat_n(b'x', 300));
        input.extend(b"\"}}\n{\"id\":10}\n");
        let mut reader = BufReader::with_capacity(16, &input[..]);
        let first = read_line(&mut reader, 100).await.unwrap().unwrap();
        let Line::TooLong(start) = &first else {
            panic!("{first:?}")
        };
        assert!(start.starts_with(br#"{"id":9"#));
        let Decoded::Reply(r) = decode(first) else {
            panic!()
        };
        let r = serde_json::to_value(&*r).unwrap();
        assert_eq!(
            (r["id"].clone(), r["error"]["code"].clone()),
            (json!(9), json!(-32700))
        );
        assert_eq!(
            read_line(&mut reader, 100).await.unwrap(),
            Some(Line::Complete(br#"{"id":10}"#.to_vec()))
        );
        assert_eq!(read_line(&mut reader, 100).await.unwrap(), None);
    }
}
