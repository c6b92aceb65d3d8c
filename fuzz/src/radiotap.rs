//! Radiotap: the reader on arbitrary bytes, and the writer's output read back.

use hwsim_frame::radiotap::{
    bit, tlv, AmpduStatus, Bandwidth, ChainSignal, ChannelRepr, Coding, Field, Fields,
    GuardInterval, PhyInfo, RadiotapRepr, MAX_CHAINS, MAX_LEN,
};
use libfuzzer_sys::arbitrary::{Result, Unstructured};

/// Splits `buf` into fields: what `Fields::new` accepts iterates to the end or one error,
/// every field inside the header.
pub fn check_read(buf: &[u8]) {
    let Ok(fields) = Fields::new(buf) else {
        return;
    };
    let len = fields.header_len();
    assert!((8..=buf.len()).contains(&len), "it_len within the buffer");
    let hdr = &buf[..len];
    let mut errors = 0;
    for f in fields.take(4096) {
        match f {
            Ok(Field::Bit { data, .. }) | Ok(Field::Tlv { data, .. }) => {
                assert!(inside(hdr, data), "a field lies inside the header")
            }
            Err(_) => errors += 1,
        }
    }
    assert!(errors <= 1, "the walk ends after its first error");
}

fn inside(hdr: &[u8], data: &[u8]) -> bool {
    let start = data.as_ptr() as usize;
    let h = hdr.as_ptr() as usize;
    start >= h && start + data.len() <= h + hdr.len()
}

/// A radiotap header the writer accepts, drawn from the fuzzer's bytes.
pub fn arbitrary_repr(u: &mut Unstructured<'_>) -> Result<RadiotapRepr> {
    let mut chains = [None; MAX_CHAINS];
    for c in chains.iter_mut() {
        if u.arbitrary()? {
            *c = Some(ChainSignal {
                antenna: u.arbitrary()?,
                signal_dbm: u.arbitrary()?,
            });
        }
    }
    let phy = if u.arbitrary()? {
        Some(arbitrary_phy(u)?)
    } else {
        None
    };
    Ok(RadiotapRepr {
        tsft: u.arbitrary()?,
        flags: u.arbitrary()?,
        channel: match u.int_in_range(0..=2u8)? {
            0 => None,
            1 => Some(ChannelRepr::for_phy(u.arbitrary()?, phy.as_ref())),
            _ => Some(ChannelRepr {
                freq_mhz: u.arbitrary()?,
                flags: u.arbitrary()?,
            }),
        },
        antenna_signal_dbm: u.arbitrary()?,
        antenna_noise_dbm: u.arbitrary()?,
        antenna: u.arbitrary()?,
        rx_flags: u.arbitrary()?,
        ampdu: if u.arbitrary()? {
            Some(AmpduStatus {
                reference: u.arbitrary()?,
                flags: u.arbitrary()?,
                delim_crc: u.arbitrary()?,
            })
        } else {
            None
        },
        phy,
        chains,
    })
}

fn arbitrary_phy(u: &mut Unstructured<'_>) -> Result<PhyInfo> {
    let bw = *u.choose(&[
        Bandwidth::Mhz20,
        Bandwidth::Mhz40,
        Bandwidth::Mhz80,
        Bandwidth::Mhz160,
        Bandwidth::Mhz320,
    ])?;
    let gi = *u.choose(&[
        GuardInterval::Ns400,
        GuardInterval::Ns800,
        GuardInterval::Ns1600,
        GuardInterval::Ns3200,
    ])?;
    let coding = if u.arbitrary()? {
        Coding::Ldpc
    } else {
        Coding::Bcc
    };
    let (mcs, nss) = (u.arbitrary()?, u.arbitrary()?);
    Ok(match u.int_in_range(0..=4u8)? {
        0 => PhyInfo::Legacy {
            rate_500kbps: u.arbitrary()?,
        },
        1 => PhyInfo::Ht {
            mcs,
            bw,
            gi,
            coding,
        },
        2 => PhyInfo::Vht {
            mcs,
            nss,
            bw,
            gi,
            coding,
        },
        3 => PhyInfo::He {
            mcs,
            nss,
            bw,
            gi,
            coding,
        },
        _ => PhyInfo::Eht {
            mcs,
            nss,
            bw,
            gi,
            coding,
        },
    })
}

/// Writes `repr` and reads it back: the writer refuses only an invalid PHY, fills
/// `buffer_len` bytes with `it_len` saying so, and the reader finds every field it wrote.
pub fn check_write(repr: &RadiotapRepr) {
    let mut buf = [0u8; MAX_LEN + 1];
    let n = match repr.emit(&mut buf) {
        Ok(n) => n,
        Err(e) => {
            assert!(
                repr.phy.is_some_and(|p| p.check().is_err()),
                "emit refused {repr:?}: {e}"
            );
            return;
        }
    };
    assert_eq!(n, repr.buffer_len());
    assert!(n <= MAX_LEN, "a header fits MAX_LEN");
    assert_eq!(
        usize::from(u16::from_le_bytes([buf[2], buf[3]])),
        n,
        "it_len"
    );
    let fields = Fields::new(&buf[..n]).expect("the reader accepts the writer's header");
    assert_eq!(fields.header_len(), n);
    let read: Vec<Field<'_>> = fields
        .collect::<core::result::Result<_, _>>()
        .unwrap_or_else(|e| panic!("reading back {repr:?}: {e}"));
    let find = |b: u32, ns: u32| {
        read.iter().find_map(|f| match *f {
            Field::Bit {
                bit,
                ns_index,
                data,
            } if bit == b && ns_index == ns => Some(data),
            _ => None,
        })
    };
    assert_eq!(
        find(bit::TSFT, 0),
        repr.tsft.map(u64::to_le_bytes).as_ref().map(|b| &b[..])
    );
    assert_eq!(
        find(bit::FLAGS, 0),
        repr.flags.as_ref().map(core::slice::from_ref)
    );
    let channel = repr.channel.map(|c| {
        let (f, g) = (c.freq_mhz.to_le_bytes(), c.flags.to_le_bytes());
        [f[0], f[1], g[0], g[1]]
    });
    assert_eq!(find(bit::CHANNEL, 0), channel.as_ref().map(|c| &c[..]));
    let signal = repr.antenna_signal_dbm.map(|s| s.to_le_bytes());
    assert_eq!(find(bit::DBM_ANTSIGNAL, 0), signal.as_ref().map(|s| &s[..]));
    let noise = repr.antenna_noise_dbm.map(|s| s.to_le_bytes());
    assert_eq!(find(bit::DBM_ANTNOISE, 0), noise.as_ref().map(|s| &s[..]));
    assert_eq!(
        find(bit::ANTENNA, 0),
        repr.antenna.as_ref().map(core::slice::from_ref)
    );
    let rx_flags = repr.rx_flags.map(u16::to_le_bytes);
    assert_eq!(find(bit::RX_FLAGS, 0), rx_flags.as_ref().map(|f| &f[..]));
    assert_eq!(find(bit::AMPDU_STATUS, 0).is_some(), repr.ampdu.is_some());
    let chains: Vec<_> = repr.chains.iter().flatten().collect();
    for (i, c) in chains.iter().enumerate() {
        let ns = u32::try_from(i + 1).expect("few chains");
        assert_eq!(
            find(bit::DBM_ANTSIGNAL, ns),
            Some(&c.signal_dbm.to_le_bytes()[..])
        );
        assert_eq!(
            find(bit::ANTENNA, ns),
            Some(core::slice::from_ref(&c.antenna))
        );
    }
    let has_tlv = |ty: u16| {
        read.iter()
            .any(|f| matches!(*f, Field::Tlv { ty: t, .. } if t == ty))
    };
    match repr.phy {
        None => {}
        Some(PhyInfo::Legacy { rate_500kbps }) => {
            assert_eq!(
                find(bit::RATE, 0),
                Some(core::slice::from_ref(&rate_500kbps))
            )
        }
        Some(PhyInfo::Ht { .. }) => assert!(find(bit::MCS, 0).is_some()),
        Some(PhyInfo::Vht { .. }) => assert!(find(bit::VHT, 0).is_some()),
        Some(PhyInfo::He { .. }) => assert!(find(bit::HE, 0).is_some()),
        Some(PhyInfo::Eht { .. }) => assert!(has_tlv(tlv::USIG) && has_tlv(tlv::EHT)),
    }
}
