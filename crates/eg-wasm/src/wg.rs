//! WireGuard transform bindings: keys, a multi-peer device handle with its data plane, timers.
//! Thin: all logic lives in `eg_core::session` and `eg_core::plane`.
//!
//! The data path is `process`: one call per batch of TAP frames, UDP datagrams or plaintexts
//! staged in WASM memory (`stage`), leaving send areas, a TAP area and events whose addresses and
//! sizes are in the summary words (`summaryPtr`); layouts in `eg_core::plane::layout`, mirrored
//! to TypeScript by the generated `ts/core/generated.ts`.
//!
//! Codes returned to JS (also in the generated module):
//! * verdict of `handle`: 0 Nothing, 1 WriteToNetwork, 2 CookieReply, 3 SessionReady,
//!   4 Data, 5 Keepalive, `0x80 | reason` on error (reason codes: `eg_core::noise::Reason`).
//! * `encapsulate` / `initiate`: 0 ok, `0x80 | reason` on error; the output is read with
//!   `output()` (a copy: these are the single-message API, not the data path).

use eg_core::noise::keys::{base64_encode, key_from_base64, private_from_random, public_key};
use eg_core::noise::rand_core::{CryptoRng, Error as RandError, RngCore};
use eg_core::noise::{Reason, Tai64N};
use eg_core::plane::{layout, EdgeConfig, Endpoint, Mode, Output, Plane, Routes, TapOffload};
use eg_core::session::{aead, Action, Config, Device, Verdict};
use wasm_bindgen::prelude::*;

/// Randomness from the platform (Web Crypto / Node crypto through getrandom "js").
struct PlatformRng;

impl RngCore for PlatformRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        getrandom::getrandom(dest).expect("platform randomness unavailable");
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), RandError> {
        getrandom::getrandom(dest).map_err(|e| RandError::from(e.code()))
    }
}

impl CryptoRng for PlatformRng {}

fn key32(bytes: &[u8], what: &str) -> Result<[u8; 32], JsError> {
    bytes
        .try_into()
        .map_err(|_| JsError::new(&format!("{what} must be 32 bytes")))
}

fn err_code(r: Reason) -> u32 {
    0x80 | r.code() as u32
}

/// A fresh private key (32 bytes, clamped) from platform randomness.
#[wasm_bindgen(js_name = wgGeneratePrivateKey)]
pub fn wg_generate_private_key() -> Result<Vec<u8>, JsError> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).map_err(|e| JsError::new(&e.to_string()))?;
    Ok(private_from_random(b).to_vec())
}

/// Public key of a 32-byte private key.
#[wasm_bindgen(js_name = wgPublicKey)]
pub fn wg_public_key(private_key: &[u8]) -> Result<Vec<u8>, JsError> {
    Ok(public_key(&key32(private_key, "private key")?).to_vec())
}

/// Standard base64 of a key.
#[wasm_bindgen(js_name = wgKeyToBase64)]
pub fn wg_key_to_base64(key: &[u8]) -> String {
    base64_encode(key)
}

/// 32 bytes from a base64 key; throws if malformed.
#[wasm_bindgen(js_name = wgKeyFromBase64)]
pub fn wg_key_from_base64(s: &str) -> Result<Vec<u8>, JsError> {
    key_from_base64(s)
        .map(|k| k.to_vec())
        .ok_or_else(|| JsError::new("invalid base64 key"))
}

/// Name of a reason code (the low 7 bits of an error code), e.g. "Replayed".
#[wasm_bindgen(js_name = wgReasonName)]
pub fn wg_reason_name(code: u32) -> String {
    match Reason::from_code((code & 0x7f) as u8) {
        Some(r) => format!("{r:?}"),
        None => "Unknown".to_string(),
    }
}

/// The module's linear memory (for views on the staging area and the outputs of `process`).
/// Views must be recreated after any call that may grow memory.
#[wasm_bindgen(js_name = wgMemory)]
pub fn wg_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// A WireGuard interface with its peers.
#[wasm_bindgen]
pub struct WgDevice {
    dev: Device,
    out: Vec<u8>,
    out_start: usize,
    out_len: usize,
    last_peer: i32,
    last_reason: u32,
    plane: Plane,
    stage: Vec<u8>,
    result: Output,
    summary: Vec<u32>,
    /// Bytes of the batch the last `processDeferred` took (the staged input of its opens).
    open_len: usize,
}

#[wasm_bindgen]
impl WgDevice {
    /// Device with a 32-byte private key and default timers.
    #[wasm_bindgen(constructor)]
    pub fn new(private_key: &[u8]) -> Result<WgDevice, JsError> {
        let k = key32(private_key, "private key")?;
        Ok(WgDevice {
            dev: Device::new(k, Config::default(), Box::new(PlatformRng)),
            out: vec![0u8; 65_536 + 64],
            out_start: 0,
            out_len: 0,
            last_peer: -1,
            last_reason: 0,
            plane: Plane::new(),
            stage: Vec::new(),
            result: Output::default(),
            summary: vec![0; layout::summary::WORDS],
            open_len: 0,
        })
    }

    /// Override timer constants (seconds); used by tests to shorten them.
    #[wasm_bindgen(js_name = setTimers)]
    pub fn set_timers(
        &mut self,
        rekey_after_time: f64,
        reject_after_time: f64,
        rekey_attempt_time: f64,
        rekey_timeout: f64,
        keepalive_timeout: f64,
        cookie_refresh_time: f64,
    ) {
        let c = Config {
            rekey_after_time,
            reject_after_time,
            rekey_attempt_time,
            rekey_timeout,
            keepalive_timeout,
            cookie_refresh_time,
            zero_key_material_after: reject_after_time * 3.0,
            ..self.dev.config().clone()
        };
        self.dev.set_config(c);
    }

    /// Our public key.
    #[wasm_bindgen(js_name = publicKey)]
    pub fn public_key(&self) -> Vec<u8> {
        self.dev.public_key().to_vec()
    }

    /// Add a peer; returns its id. `psk` may be undefined; keepalive in seconds, 0 = off
    /// (nonzero: the first keepalive, or a handshake initiation, is due at the next `tick`).
    #[wasm_bindgen(js_name = addPeer)]
    pub fn add_peer(
        &mut self,
        public_key: &[u8],
        psk: Option<Vec<u8>>,
        persistent_keepalive: f64,
    ) -> Result<u32, JsError> {
        let pk = key32(public_key, "public key")?;
        let psk = match psk {
            Some(p) => Some(key32(&p, "psk")?),
            None => None,
        };
        self.dev
            .add_peer(pk, psk, persistent_keepalive)
            .map(|id| id as u32)
            .map_err(|r| JsError::new(&format!("{r:?}")))
    }

    /// Remove a peer (keys erased).
    #[wasm_bindgen(js_name = removePeer)]
    pub fn remove_peer(&mut self, peer: u32) -> bool {
        self.plane.remove_peer(peer as usize);
        self.dev.remove_peer(peer as usize)
    }

    /// Set a peer's persistent keepalive interval in seconds (0 = off). Turning it on
    /// (0 → n) makes a keepalive — or, without a session, a handshake initiation — due at
    /// the next `tick` (re-read `nextDeadline`). Throws for an unknown peer.
    #[wasm_bindgen(js_name = setPersistentKeepalive)]
    pub fn set_persistent_keepalive(&mut self, peer: u32, secs: f64) -> Result<(), JsError> {
        self.dev
            .set_persistent_keepalive(peer as usize, secs)
            .map_err(|r| JsError::new(&format!("{r:?}")))
    }

    /// Peer id of a public key, or -1.
    #[wasm_bindgen(js_name = peerByKey)]
    pub fn peer_by_key(&self, public_key: &[u8]) -> i32 {
        match <[u8; 32]>::try_from(public_key) {
            Ok(k) => self.dev.peer_by_key(&k).map_or(-1, |i| i as i32),
            Err(_) => -1,
        }
    }

    /// Whether the peer has a usable session.
    #[wasm_bindgen(js_name = hasSession)]
    pub fn has_session(&self, peer: u32, now: f64) -> bool {
        self.dev.has_session(peer as usize, now)
    }

    /// Build a handshake initiation (output: 148 bytes). `wall_ms` = `Date.now()`.
    pub fn initiate(&mut self, peer: u32, now: f64, wall_ms: f64) -> u32 {
        let r = self.dev.format_initiation(
            peer as usize,
            now,
            Tai64N::from_unix_millis(wall_ms),
            &mut self.out,
        );
        self.finish_len(peer as i32, r)
    }

    /// Seal one plaintext for `peer` (output: the transport message).
    pub fn encapsulate(&mut self, peer: u32, plaintext: &[u8], now: f64) -> u32 {
        let need = plaintext.len() + 64;
        if self.out.len() < need {
            self.out.resize(need, 0);
        }
        let r = self
            .dev
            .encapsulate(peer as usize, plaintext, now, &mut self.out);
        self.finish_len(peer as i32, r)
    }

    fn finish_len(&mut self, peer: i32, r: Result<usize, Reason>) -> u32 {
        self.last_peer = peer;
        self.out_start = 0;
        match r {
            Ok(n) => {
                self.out_len = n;
                self.last_reason = 0;
                0
            }
            Err(e) => {
                self.out_len = 0;
                self.last_reason = e.code() as u32;
                err_code(e)
            }
        }
    }

    /// Process one received datagram; returns the verdict code. `src` is any stable byte
    /// encoding of the sender's address (keys cookies). Output per verdict: response,
    /// cookie reply, keepalive to send, or the (padded) plaintext.
    pub fn handle(&mut self, datagram: &[u8], src: &[u8], now: f64, under_load: bool) -> u32 {
        let need = datagram.len().max(256);
        if self.out.len() < need {
            self.out.resize(need, 0);
        }
        let (peer, v) = self
            .dev
            .decapsulate(datagram, src, now, under_load, &mut self.out);
        self.last_peer = peer.map_or(-1, |p| p as i32);
        self.last_reason = 0;
        let (start, len) = match &v {
            Verdict::WriteToNetwork(n) | Verdict::SessionReady(n) => (0, *n),
            Verdict::CookieReply { len, reason } => {
                self.last_reason = reason.code() as u32;
                (0, *len)
            }
            Verdict::Data(r) => (r.start, r.len()),
            Verdict::Err(r) => {
                self.last_reason = r.code() as u32;
                (0, 0)
            }
            Verdict::Nothing | Verdict::Keepalive => (0, 0),
        };
        self.out_start = start;
        self.out_len = len;
        v.code()
    }

    /// Peer concerned by the last call, or -1.
    #[wasm_bindgen(js_name = lastPeer)]
    pub fn last_peer(&self) -> i32 {
        self.last_peer
    }

    /// Reason code of the last error / cookie reply (0 if none).
    #[wasm_bindgen(js_name = lastReason)]
    pub fn last_reason(&self) -> u32 {
        self.last_reason
    }

    /// Copy of the last output.
    pub fn output(&self) -> Vec<u8> {
        self.out[self.out_start..self.out_start + self.out_len].to_vec()
    }

    /// Run due timers. Returns records `[peer u32 LE][kind u8][len u32 LE][len bytes]`,
    /// kind 1 = send initiation, 2 = send keepalive, 3 = handshake gave up (drop queue),
    /// 4 = keys zeroed.
    pub fn tick(&mut self, now: f64, wall_ms: f64) -> Vec<u8> {
        let mut rec = Vec::new();
        for (peer, a) in self.dev.tick(now, Tai64N::from_unix_millis(wall_ms)) {
            let (kind, bytes): (u8, &[u8]) = match &a {
                Action::SendInitiation(b) => (layout::tick::SEND_INITIATION, b),
                Action::SendKeepalive(b) => (layout::tick::SEND_KEEPALIVE, b),
                Action::HandshakeGaveUp => (layout::tick::HANDSHAKE_GAVE_UP, &[]),
                Action::KeysZeroed => (layout::tick::KEYS_ZEROED, &[]),
            };
            rec.extend_from_slice(&(peer as u32).to_le_bytes());
            rec.push(kind);
            rec.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            rec.extend_from_slice(bytes);
        }
        rec
    }

    /// Counters of the under-load defence (eg_core::session::ratelimit), as 5 numbers:
    /// handshake messages counted, of them under load, cookie replies sent, messages refused by
    /// their address's bucket, times the device went under load.
    #[wasm_bindgen(js_name = loadStats)]
    pub fn load_stats(&self) -> Vec<f64> {
        let s = self.dev.load_stats();
        vec![s.handshakes as f64, s.under_load as f64, s.cookie_replies as f64, s.rate_limited as f64, s.load_episodes as f64]
    }

    /// The under-load limits: handshake messages per second before cookies are demanded, and
    /// under load the per-address rate (per second) and burst. Tests lower them.
    #[wasm_bindgen(js_name = setHandshakeLimits)]
    pub fn set_handshake_limits(&mut self, budget: u32, source_rate: f64, source_burst: f64) {
        let c = Config {
            handshake_budget: budget,
            handshake_source_rate: source_rate,
            handshake_source_burst: source_burst,
            ..self.dev.config().clone()
        };
        self.dev.set_config(c);
    }

    /// When `tick` next has work (monotonic seconds; <= now means now), or undefined.
    #[wasm_bindgen(js_name = nextDeadline)]
    pub fn next_deadline(&self) -> Option<f64> {
        self.dev.next_deadline()
    }

    /// Data plane, edge mode: this node's NodeID, DefaultTTL, L2FIBTimeout and DupCheckTimeout
    /// (seconds), and whether `normal` / `transit` log events are wanted. Without this call the
    /// device is in host mode: every authenticated plaintext becomes a Plain event.
    #[wasm_bindgen(js_name = configureEdge)]
    pub fn configure_edge(&mut self, me: u16, default_ttl: u8, fib_timeout: f64, dedup_timeout: f64, log_normal: bool, log_transit: bool) {
        self.plane.configure_edge(EdgeConfig { me, default_ttl, fib_timeout, dedup_timeout, log_normal, log_transit });
    }

    /// Replaces the next-hop table: `triples` = [src, dst, next, ...]. Throws naming the problem
    /// (not triples, a reserved NodeID).
    #[wasm_bindgen(js_name = setRoutes)]
    pub fn set_routes(&mut self, triples: &[u16]) -> Result<(), JsError> {
        if triples.len() % 3 != 0 {
            return Err(JsError::new("next-hop table: expected (src, dst, next) triples"));
        }
        let rows: Vec<(u16, u16, u16)> = triples.chunks_exact(3).map(|c| (c[0], c[1], c[2])).collect();
        let r = Routes::from_rows(&rows).map_err(|e| JsError::new(&format!("next-hop table: {e}")))?;
        self.plane.set_routes(r);
        Ok(())
    }

    /// Next hop from `src` to `dst` in the plane's table, 65532 when none.
    #[wasm_bindgen(js_name = nextHop)]
    pub fn next_hop(&mut self, src: u16, dst: u16) -> u16 {
        self.plane.routes().next_hop(src, dst).unwrap_or(eg_core::route::INVALID)
    }

    /// Ties WireGuard peer `peer` to NodeID `node` (`is_super`: a supernode session).
    #[wasm_bindgen(js_name = setPeerNode)]
    pub fn set_peer_node(&mut self, peer: u32, node: u16, is_super: bool) {
        self.plane.set_peer(peer as usize, node, is_super);
    }

    /// Sets where datagrams for `peer` go: family 4 or 6, port, address bytes (4 or 16); family 0
    /// clears it. Throws on a bad family or address length.
    #[wasm_bindgen(js_name = setEndpoint)]
    pub fn set_endpoint(&mut self, peer: u32, family: u8, port: u16, addr: &[u8]) -> Result<(), JsError> {
        let ep = match (family, addr.len()) {
            (0, _) => None,
            (4, 4) | (4, 16) | (6, 16) => {
                let mut a = [0u8; 16];
                a[..addr.len()].copy_from_slice(addr);
                if family == 4 {
                    a[4..].fill(0);
                }
                Some(Endpoint { family, port, addr: a })
            }
            _ => return Err(JsError::new(&format!("endpoint: family {family} with {} address bytes", addr.len()))),
        };
        self.plane.set_endpoint(peer as usize, ep);
        Ok(())
    }

    /// TAP offloads (the TAP was opened with `IFF_VNET_HDR`): TAP records in both directions
    /// carry a 10-byte virtio_net_hdr; super-frames read are segmented to IP packets of at most
    /// `mtu` bytes (the interface's L3 MTU) before sealing, and delivered TCP segments are
    /// coalesced into super-frames (eg_core::offload). `vnet` false turns both off.
    #[wasm_bindgen(js_name = setTapOffload)]
    pub fn set_tap_offload(&mut self, vnet: bool, mtu: u32) {
        self.plane.set_tap_offload(TapOffload { vnet, mtu: mtu as usize });
    }

    /// L2FIB and flood-filter housekeeping; returns the number of L2FIB entries expired.
    pub fn sweep(&mut self, now: f64) -> u32 {
        self.plane.sweep(now) as u32
    }

    /// Makes the staging area at least `len` bytes; returns its address (stable until the next
    /// `stage` that grows it).
    pub fn stage(&mut self, len: u32) -> u32 {
        if self.stage.len() < len as usize {
            self.stage.resize(len as usize, 0);
        }
        self.stage.as_ptr() as usize as u32
    }

    /// Processes the first `len` staged bytes as one batch of `mode` records (1 TAP frames,
    /// 2 UDP datagrams from a socket of `family` 4/6, 3 plaintexts). Returns 0, or 1 for a bad mode
    /// or family or a `len` beyond the staging area. Results: see `summaryPtr`.
    pub fn process(&mut self, mode: u8, len: u32, family: u8, now: f64) -> u32 {
        let Some(m) = Mode::from_u8(mode) else { return 1 };
        if len as usize > self.stage.len() {
            return 1;
        }
        let input = &mut self.stage[..len as usize];
        if self.plane.process(&mut self.dev, m, input, family, now, &mut self.result).is_err() {
            return 1;
        }
        self.fill_summary();
        0
    }

    fn fill_summary(&mut self) {
        let r = &self.result;
        let s = &mut self.summary;
        use layout::summary as w;
        let p = |v: &Vec<u8>| v.as_ptr() as usize as u32;
        s[w::SEND4_PTR] = p(&r.send[0]);
        s[w::SEND4_LEN] = r.send[0].len() as u32;
        s[w::SEND4_COUNT] = r.send_count[0];
        s[w::SEND6_PTR] = p(&r.send[1]);
        s[w::SEND6_LEN] = r.send[1].len() as u32;
        s[w::SEND6_COUNT] = r.send_count[1];
        s[w::TAP_PTR] = p(&r.tap);
        s[w::TAP_LEN] = r.tap.len() as u32;
        s[w::TAP_COUNT] = r.tap_count;
        s[w::EV_PTR] = p(&r.events);
        s[w::EV_BYTES] = r.events.len() as u32;
        s[w::EV_COUNT] = r.event_count;
        s[w::FROM_IFACE] = r.from_iface;
        s[w::FORWARDED] = r.forwarded;
        s[w::SUPER_IN] = r.super_in;
        s[w::SUPER_OUT] = r.super_out;
    }

    /// `process` with the batch's ChaCha20-Poly1305 left undone, as AEAD jobs for worker threads
    /// (eg_core::session::aead, docs/architecture.md §Worker threads). Counters, replay checks and
    /// every decision are made here, in batch order. Afterwards, for a UDP batch with
    /// `openPending()`: run table 2 (`runAeadJobs` here, or `aeadRunJobs` in a worker on a copy),
    /// then `finishOpen`, which leaves the results `process` would; then, for any batch, run
    /// every job of tables 0 and 1 before sending the send areas. Returns as `process`.
    #[wasm_bindgen(js_name = processDeferred)]
    pub fn process_deferred(&mut self, mode: u8, len: u32, family: u8, now: f64) -> u32 {
        self.plane.set_defer_aead(true);
        let r = self.process(mode, len, family, now);
        self.plane.set_defer_aead(false);
        self.open_len = len as usize;
        r
    }

    /// Whether the last `processDeferred` left a UDP batch waiting for `finishOpen`.
    #[wasm_bindgen(js_name = openPending)]
    pub fn open_pending(&self) -> bool {
        self.plane.open_pending()
    }

    fn jobs(&self, which: u8) -> &Vec<u8> {
        match which {
            0 => &self.result.jobs.seal[0],
            1 => &self.result.jobs.seal[1],
            _ => &self.result.jobs.open,
        }
    }

    /// Address of AEAD job table `which` (0: seals of the IPv4 send area, 1: of the IPv6 send
    /// area, 2: opens of the staged UDP batch); records of `aeadJobLayout()[0]` bytes.
    #[wasm_bindgen(js_name = aeadJobsPtr)]
    pub fn aead_jobs_ptr(&self, which: u8) -> u32 {
        self.jobs(which).as_ptr() as usize as u32
    }

    /// Number of jobs in table `which`.
    #[wasm_bindgen(js_name = aeadJobCount)]
    pub fn aead_job_count(&self, which: u8) -> u32 {
        (self.jobs(which).len() / aead::job::LEN) as u32
    }

    /// Address of the area the offsets of table `which` count from (the send area, or the
    /// staging area for opens).
    #[wasm_bindgen(js_name = aeadAreaPtr)]
    pub fn aead_area_ptr(&self, which: u8) -> u32 {
        (match which {
            0 => self.result.send[0].as_ptr(),
            1 => self.result.send[1].as_ptr(),
            _ => self.stage.as_ptr(),
        }) as usize as u32
    }

    /// Runs jobs `from..to` of table `which` on this thread; returns how many failed.
    #[wasm_bindgen(js_name = runAeadJobs)]
    pub fn run_aead_jobs(&mut self, which: u8, from: u32, to: u32) -> u32 {
        let l = aead::job::LEN;
        let open_len = self.open_len.min(self.stage.len());
        let (data, table, seal) = match which {
            0 => (&mut self.result.send[0][..], &mut self.result.jobs.seal[0], true),
            1 => (&mut self.result.send[1][..], &mut self.result.jobs.seal[1], true),
            _ => (&mut self.stage[..open_len], &mut self.result.jobs.open, false),
        };
        let n = table.len() / l;
        let (a, b) = ((from as usize).min(n), (to as usize).min(n));
        if a >= b {
            return 0;
        }
        aead::run_jobs(data, 0, &mut table[a * l..b * l], seal) as u32
    }

    /// Finishes the UDP batch `processDeferred` left pending once table 2 ran: 0 with the results
    /// in the summary words as after `process`, or 1 when no batch was pending. Messages it
    /// relays are sealed as jobs in tables 0 and 1, which must run before the send areas go out.
    #[wasm_bindgen(js_name = finishOpen)]
    pub fn finish_open(&mut self, now: f64) -> u32 {
        if !self.plane.open_pending() {
            return 1;
        }
        let len = self.open_len.min(self.stage.len());
        let input = &mut self.stage[..len];
        // Frames relayed from this batch are sealed as jobs too (tables 0 and 1, run after this).
        self.plane.set_defer_aead(true);
        self.plane.finish_open(&mut self.dev, input, now, &mut self.result);
        self.plane.set_defer_aead(false);
        self.fill_summary();
        0
    }

    /// Address of the summary words (u32 each; indices in `eg_core::plane::layout::summary`).
    #[wasm_bindgen(js_name = summaryPtr)]
    pub fn summary_ptr(&self) -> u32 {
        self.summary.as_ptr() as usize as u32
    }
}

/// Compares this build's ChaCha20-Poly1305 (the SIMD128 kernel in wasm) with RustCrypto's on
/// `count` pseudo-random cases; returns the number of disagreements (0 = identical).
#[wasm_bindgen(js_name = wgAeadSelfTest)]
pub fn wg_aead_self_test(seed: u32, count: u32) -> u32 {
    eg_core::noise::aead_check::compare_with_reference(u64::from(seed) << 32 | 0x9e37, count)
}

/// Checks this build's Poly1305 and ChaCha20-Poly1305 (the SIMD128 kernels in wasm):
/// `[known-answer failures (RFC 8439 §2.5.2, A.3, §2.8.2, §A.5), disagreements with RustCrypto's
/// Poly1305 over every length 0..=2048, comparisons made]` (eg_core::noise::poly1305_check).
#[wasm_bindgen(js_name = wgPoly1305SelfTest)]
pub fn wg_poly1305_self_test(seed: u32) -> Vec<u32> {
    let (bad, cases) = eg_core::noise::poly1305_check::compare_with_reference(u64::from(seed) << 32 | 0x51ed);
    vec![eg_core::noise::poly1305_check::known_answers(), bad, cases]
}

/// Runs the AEAD jobs `jobs` (a copy of part of a table, eg_core::session::aead) on `data`, a copy
/// of the area bytes from offset `base` on; both are copied back to the caller's arrays (a
/// worker thread's instance of this module works on its share of a batch this way). Returns how
/// many jobs failed; each job's status word says which.
#[wasm_bindgen(js_name = aeadRunJobs)]
pub fn aead_run_jobs(data: &mut [u8], base: u32, jobs: &mut [u8], seal: bool) -> u32 {
    aead::run_jobs(data, base as usize, jobs, seal) as u32
}

/// The AEAD job record layout (eg_core::session::aead::job), the one source for the runtime:
/// `[record length, OFF, BODY, STATUS, TODO, DONE, FAILED bit]`.
#[wasm_bindgen(js_name = aeadJobLayout)]
pub fn aead_job_layout() -> Vec<u32> {
    use aead::job;
    vec![job::LEN as u32, job::OFF as u32, job::BODY as u32, job::STATUS as u32, job::TODO, job::DONE, job::FAILED]
}
