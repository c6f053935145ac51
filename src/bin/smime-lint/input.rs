//! Reading a message from standard input (or any reader) within a size limit.

use std::io::{self, Read};

/// The largest message read from standard input unless told otherwise: 64 MiB, above every
/// common submission limit (Postfix's default is 10 MB, Gmail's and Exchange Online's defaults
/// 25-35 MB), and small enough to hold in memory.
pub const DEFAULT_MAX_MESSAGE: u64 = 64 * 1024 * 1024;

/// Why a message could not be read whole.
#[derive(Debug)]
pub enum ReadError {
    /// More than `limit` bytes: `head` holds the first `limit + 1` bytes read, the rest is
    /// still unread in the source.
    TooLarge { limit: u64, head: Vec<u8> },
    /// Reading failed.
    Io(io::Error),
}

/// Reads `source` to its end, refusing to hold more than `limit` bytes.
pub fn read_limited(source: &mut impl Read, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut head = Vec::new();
    match source.take(limit.saturating_add(1)).read_to_end(&mut head) {
        Err(error) => Err(ReadError::Io(error)),
        Ok(_) if head.len() as u64 > limit => Err(ReadError::TooLarge { limit, head }),
        Ok(_) => Ok(head),
    }
}

/// `n` bytes for people: `64 MiB`, `1.5 KiB`, `512 bytes`.
pub fn human_size(n: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if n >= size {
            let whole = n / size;
            let tenth = (n % size) * 10 / size;
            return if tenth == 0 {
                format!("{whole} {unit}")
            } else {
                format!("{whole}.{tenth} {unit}")
            };
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_refuses_one_byte_more() {
        let data = [b'x'; 100];
        assert_eq!(read_limited(&mut &data[..], 100).unwrap().len(), 100);
        match read_limited(&mut &data[..], 99) {
            Err(ReadError::TooLarge { limit: 99, head }) => assert_eq!(head.len(), 100),
            other => panic!("{other:?}"),
        }
        assert!(read_limited(&mut &b""[..], 10).unwrap().is_empty());
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(DEFAULT_MAX_MESSAGE), "64 MiB");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(512), "512 bytes");
    }
}
