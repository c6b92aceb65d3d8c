//! The input format of the sequence targets (MLD tracker, AP MLD sessions): a run of
//! records `op: u8, arg: u8, len: u16 (little-endian), len bytes`. A record whose length
//! runs past the end takes what is left. Plain bytes rather than `arbitrary` so that a seed
//! is just real frames behind four-byte headers (`fuzz/seeds.py` writes them), and a
//! mutation of one record's bytes leaves the others' meaning alone.

/// One record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// What to do (each target gives the values their meaning, modulo its op count).
    pub op: u8,
    /// A small argument: a link, a radio, a subtype.
    pub arg: u8,
    /// The bytes: a frame, a body, an Ethernet frame, a time step.
    pub data: &'a [u8],
}

/// The records of `input`, at most `max` of them.
pub fn records(input: &[u8], max: usize) -> impl Iterator<Item = Record<'_>> {
    let mut rest = input;
    core::iter::from_fn(move || {
        let (&[op, arg, l0, l1], tail) = rest.split_first_chunk::<4>()?;
        let len = usize::from(u16::from_le_bytes([l0, l1])).min(tail.len());
        let (data, tail) = tail.split_at(len);
        rest = tail;
        Some(Record { op, arg, data })
    })
    .take(max)
}

/// Appends one record (for seeds and reproducers).
pub fn push(out: &mut Vec<u8>, op: u8, arg: u8, data: &[u8]) {
    let len = u16::try_from(data.len()).expect("a record holds at most 65535 bytes");
    out.extend_from_slice(&[op, arg]);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(data);
}

/// A little-endian number from up to the first eight bytes of `data` (missing bytes zero).
pub fn number(data: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = data.len().min(8);
    b[..n].copy_from_slice(&data[..n]);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_split_and_the_last_takes_what_is_left() {
        let mut input = Vec::new();
        push(&mut input, 1, 2, b"abc");
        push(&mut input, 3, 4, b"");
        input.extend_from_slice(&[5, 6, 9, 0, b'x', b'y']);
        let got: Vec<_> = records(&input, 10).collect();
        assert_eq!(
            got,
            [
                Record {
                    op: 1,
                    arg: 2,
                    data: b"abc"
                },
                Record {
                    op: 3,
                    arg: 4,
                    data: b""
                },
                Record {
                    op: 5,
                    arg: 6,
                    data: b"xy"
                },
            ]
        );
        assert_eq!(records(&input, 2).count(), 2);
        assert_eq!(
            records(&[1, 2, 3], 10).count(),
            0,
            "no record without a whole header"
        );
    }

    #[test]
    fn number_reads_little_endian_with_missing_bytes_zero() {
        assert_eq!(number(&[]), 0);
        assert_eq!(number(&[1, 2]), 0x0201);
        assert_eq!(number(&[1; 9]), 0x0101_0101_0101_0101);
    }
}
