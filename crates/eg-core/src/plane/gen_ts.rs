//! The TypeScript module `ts/core/generated.ts`: every constant the runtime shares with the core
//! (reason codes and names, verdict and tick codes, header layout, reserved NodeIDs, kinds, length
//! limits, the data plane's record/event/summary layouts and drop reasons), written from the Rust
//! definitions. `cargo test` fails when the committed file differs from [`typescript`]; run it
//! with `EG_REGEN=1` to rewrite the file (crates/eg-core/tests/plane_ts.rs).

use std::fmt::Write;

use super::drop::Drop;
use super::layout::{self, summary, tick, Ev, Hs, Mode};
use crate::frame::{self, Kind};
use crate::noise::{wire, Reason};
use crate::route;
use crate::session::Verdict;

fn enum_block(out: &mut String, doc: &str, name: &str, items: &[(&str, u32)]) {
    let _ = writeln!(out, "/** {doc} */\nexport enum {name} {{");
    for (k, v) in items {
        let _ = writeln!(out, "  {k} = {v},");
    }
    out.push_str("}\n\n");
}

fn const_block(out: &mut String, doc: &str, name: &str, items: &[(&str, usize)]) {
    let _ = writeln!(out, "/** {doc} */\nexport const {name} = {{");
    for (k, v) in items {
        let _ = writeln!(out, "  {k}: {v},");
    }
    out.push_str("} as const;\n\n");
}

/// The whole module text.
pub fn typescript() -> String {
    let mut o = String::new();
    o.push_str(
        "// GENERATED from crates/eg-core (src/plane/gen_ts.rs) — do not edit. Regenerate with\n\
         // `EG_REGEN=1 cargo test -p etherguard-core --test plane_ts`; that test fails while this file is stale.\n\n",
    );

    let reasons: Vec<(String, u32)> = (1u8..=127)
        .filter_map(Reason::from_code)
        .map(|r| (format!("{r:?}"), r.code() as u32))
        .collect();
    let rs: Vec<(&str, u32)> = reasons.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    enum_block(&mut o, "WireGuard reason codes (eg_core::noise::Reason; docs/wire.md §4).", "Reason", &rs);

    let verdicts = [
        ("Nothing", Verdict::Nothing.code()),
        ("WriteToNetwork", Verdict::WriteToNetwork(0).code()),
        ("CookieReply", Verdict::CookieReply { len: 0, reason: Reason::NeedCookie }.code()),
        ("SessionReady", Verdict::SessionReady(0).code()),
        ("Data", Verdict::Data(0..0).code()),
        ("Keepalive", Verdict::Keepalive.code()),
        ("Error", 0x80),
    ];
    enum_block(&mut o, "Verdict codes of WgDevice.handle (errors are 0x80 | reason).", "Verdict", &verdicts);

    enum_block(
        &mut o,
        "Kinds of the records WgDevice.tick returns.",
        "TickKind",
        &[
            ("SendInitiation", tick::SEND_INITIATION as u32),
            ("SendKeepalive", tick::SEND_KEEPALIVE as u32),
            ("HandshakeGaveUp", tick::HANDSHAKE_GAVE_UP as u32),
            ("KeysZeroed", tick::KEYS_ZEROED as u32),
        ],
    );

    let kinds = [
        ("Normal", Kind::NormalPacket),
        ("Register", Kind::Register),
        ("ServerUpdate", Kind::ServerUpdate),
        ("Ping", Kind::PingPacket),
        ("Pong", Kind::PongPacket),
        ("QueryPeer", Kind::QueryPeer),
        ("BroadcastPeer", Kind::BroadcastPeer),
    ];
    let ks: Vec<(&str, u32)> = kinds.iter().map(|(k, v)| (*k, *v as u32)).collect();
    enum_block(&mut o, "Etherguard message kinds (header byte 0; docs/wire.md §2).", "Kind", &ks);

    let _ = writeln!(
        o,
        "/** Etherguard header length (docs/wire.md §2). */\nexport const HEADER_LEN = {};\n\
         /** Reserved NodeIDs (docs/wire.md §2). */\nexport const NODE_INVALID = {};\nexport const NODE_SUPER = {};\nexport const NODE_SPREAD = {};\nexport const NODE_BROADCAST = {};\n",
        frame::HEADER_LEN,
        route::INVALID,
        route::SUPER_NODE,
        route::SPREAD,
        route::BROADCAST
    );

    const_block(
        &mut o,
        "Length limits of the data path in bytes (docs/wire.md §5).",
        "LIMITS",
        &[
            ("maxUdpPayloadV4", wire::MAX_UDP_PAYLOAD_V4),
            ("maxUdpPayloadV6", wire::MAX_UDP_PAYLOAD_V6),
            ("maxTransport", wire::MAX_TRANSPORT_LEN),
            ("maxPlaintext", wire::MAX_PLAINTEXT_LEN),
            ("headerLen", frame::HEADER_LEN),
            ("maxFrame", frame::MAX_FRAME_PAYLOAD),
            ("transportHeader", wire::TRANSPORT_HEADER_LEN),
            ("tag", wire::TAG_LEN),
        ],
    );

    enum_block(
        &mut o,
        "Input record layouts of a data-plane batch (eg_core::plane::layout).",
        "Mode",
        &[("Tap", Mode::Tap as u32), ("Udp", Mode::Udp as u32), ("Plain", Mode::Plain as u32)],
    );
    const_block(
        &mut o,
        "Record header lengths: TAP `[len u16 BE]`, UDP `[len u16 BE][port u16 BE][addr 16]`, plaintext `[peer u32 LE][len u32 LE]`.",
        "REC",
        &[("TAP", layout::TAP_REC), ("UDP", layout::UDP_REC), ("PLAIN", layout::PLAIN_REC)],
    );
    let evs = [
        ("Drop", Ev::Drop),
        ("Control", Ev::Control),
        ("Plain", Ev::Plain),
        ("Queue", Ev::Queue),
        ("Handshake", Ev::Handshake),
        ("Roam", Ev::Roam),
        ("Peer", Ev::Peer),
        ("LogSend", Ev::LogSend),
        ("LogDeliver", Ev::LogDeliver),
        ("LogForward", Ev::LogForward),
        ("Fib", Ev::Fib),
    ];
    let es: Vec<(&str, u32)> = evs.iter().map(|(k, v)| (*k, *v as u8 as u32)).collect();
    enum_block(&mut o, "Data-plane event types (eg_core::plane::layout::Ev).", "Ev", &es);
    enum_block(
        &mut o,
        "Sub-kinds of a Handshake event.",
        "Hs",
        &[
            ("Consumed", Hs::Consumed as u32),
            ("Response", Hs::Response as u32),
            ("CookieReply", Hs::CookieReply as u32),
            ("SessionReady", Hs::SessionReady as u32),
        ],
    );
    const_block(
        &mut o,
        "Event header field offsets (little-endian) and the header length.",
        "EV",
        &[
            ("TYPE", layout::EV_TYPE),
            ("KIND", layout::EV_KIND),
            ("REASON", layout::EV_REASON),
            ("PEER", layout::EV_PEER),
            ("SRC", layout::EV_SRC),
            ("DST", layout::EV_DST),
            ("FROM", layout::EV_FROM),
            ("NODE", layout::EV_NODE),
            ("LEN", layout::EV_LEN),
            ("AUX", layout::EV_AUX),
            ("MAX", layout::EV_MAX),
            ("SIZE", layout::EV_SIZE),
            ("HEADER", layout::EV_HEADER),
        ],
    );
    let _ = writeln!(o, "/** Peer id meaning none. */\nexport const NO_PEER = {:#x};\n", layout::NO_PEER);
    const_block(
        &mut o,
        "Indices of the u32 summary words a batch call leaves.",
        "SUMMARY",
        &[
            ("SEND4_PTR", summary::SEND4_PTR),
            ("SEND4_LEN", summary::SEND4_LEN),
            ("SEND4_COUNT", summary::SEND4_COUNT),
            ("SEND6_PTR", summary::SEND6_PTR),
            ("SEND6_LEN", summary::SEND6_LEN),
            ("SEND6_COUNT", summary::SEND6_COUNT),
            ("TAP_PTR", summary::TAP_PTR),
            ("TAP_LEN", summary::TAP_LEN),
            ("TAP_COUNT", summary::TAP_COUNT),
            ("EV_PTR", summary::EV_PTR),
            ("EV_BYTES", summary::EV_BYTES),
            ("EV_COUNT", summary::EV_COUNT),
            ("FROM_IFACE", summary::FROM_IFACE),
            ("FORWARDED", summary::FORWARDED),
            ("SUPER_IN", summary::SUPER_IN),
            ("SUPER_OUT", summary::SUPER_OUT),
            ("WORDS", summary::WORDS),
        ],
    );
    let ds: Vec<(&str, u32)> = Drop::ALL.iter().map(|d| (d.ident(), d.code() as u32)).collect();
    enum_block(&mut o, "Data-plane drop reasons (eg_core::plane::Drop).", "Drop", &ds);
    o.push_str("/** Name templates of the drop reasons, by code ({me} {src} {dst} {from} {node} {kind} {wg}). */\nexport const DROP_TEMPLATES: readonly string[] = [\n  '',\n");
    for d in Drop::ALL {
        let _ = writeln!(o, "  {:?},", d.template());
    }
    o.push_str("];\n");
    o.push_str("/** Drop reasons that are part of normal operation (eg_core::plane::Drop::expected): counted, logged at debug only. */\nexport const DROP_EXPECTED: ReadonlySet<number> = new Set([");
    let ex: Vec<String> = Drop::ALL.iter().filter(|d| d.expected()).map(|d| d.code().to_string()).collect();
    o.push_str(&ex.join(", "));
    o.push_str("]);\n");
    o
}
