//! A client of the preview's event stream (`/__atelier/events`) over a raw
//! socket: [`Events`] reads messages with deadlines from a stream the test
//! opened its own way; [`subscribe`] opens one and hands every event over a
//! channel, which [`wait_for`] reads.
#![allow(dead_code)]

use std::error::Error;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// One event stream, read with deadlines.
pub(crate) struct Events {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Events {
    /// Reads from `stream`, on which the request was sent.
    pub(crate) fn new(stream: TcpStream) -> Events {
        Events {
            stream,
            buffer: Vec::new(),
        }
    }

    /// Reads until `end`, returns everything up to it and keeps the rest.
    pub(crate) fn until(&mut self, end: &[u8], deadline: Instant) -> Result<Vec<u8>> {
        loop {
            if let Some(at) = self.buffer.windows(end.len()).position(|w| w == end) {
                let rest = self.buffer.split_off(at + end.len());
                return Ok(std::mem::replace(&mut self.buffer, rest));
            }
            let left = deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
                .ok_or("timed out waiting for the event stream")?;
            self.stream.set_read_timeout(Some(left))?;
            let mut chunk = [0u8; 4096];
            let read = self.stream.read(&mut chunk)?;
            if read == 0 {
                return Err("event stream closed".into());
            }
            self.buffer.extend_from_slice(&chunk[..read]);
        }
    }

    /// The next message (comments skipped), as text.
    pub(crate) fn next(&mut self, deadline: Instant) -> Result<String> {
        loop {
            let text = String::from_utf8(self.until(b"\n\n", deadline)?)?;
            if !text.starts_with(':') {
                return Ok(text);
            }
        }
    }
}

/// Opens the event stream of the preview on `port` and sends each complete
/// event, as its `event` name and `data`, on the returned channel.
pub(crate) fn subscribe(port: u16) -> Receiver<(String, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stream,
        "GET /__atelier/events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n"
    )
    .expect("send");
    let (sender, receiver) = channel();
    std::thread::spawn(move || {
        let mut event = String::new();
        for line in BufReader::new(stream)
            .lines()
            .map_while(std::result::Result::ok)
        {
            if let Some(name) = line.strip_prefix("event: ") {
                event = name.to_string();
            } else if let Some(data) = line.strip_prefix("data: ")
                && sender.send((event.clone(), data.to_string())).is_err()
            {
                return;
            }
        }
    });
    receiver
}

/// The data of the next event named `name` whose data is `wanted`, within
/// `within`; panics when none comes.
pub(crate) fn wait_for(
    events: &Receiver<(String, String)>,
    name: &str,
    within: Duration,
    wanted: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok((event, data)) = events.recv_timeout(Duration::from_millis(100))
            && event == name
            && wanted(&data)
        {
            return data;
        }
    }
    panic!("no `{name}` event within {within:?}");
}
