//! WireGuard transform bindings: keys, a multi-peer device handle, timers and the
//! zero-copy batch buffer. Thin: all logic lives in `eg_core::session`.
//!
//! Codes returned to JS:
//! * verdict of `handle`: 0 Nothing, 1 WriteToNetwork, 2 CookieReply, 3 SessionReady,
//!   4 Data, 5 Keepalive, `0x80 | reason` on error (reason codes: `eg_core::noise::Reason`).
//! * `encapsulate` / `initiate`: 0 ok, `0x80 | reason` on error.
//!
//! Output bytes of the last call are read with `output()` (a copy) or through
//! `outputPtr()`/`outputLen()` as a view on `wgMemory().buffer`.

use eg_core::noise::keys::{base64_encode, key_from_base64, private_from_random, public_key};
use eg_core::noise::rand_core::{CryptoRng, Error as RandError, RngCore};
use eg_core::noise::{Reason, Tai64N};
use eg_core::session::{Action, Config, Device, Verdict};
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

/// The length limits of the data path, from the core's constants so that JS never keeps its
/// own copy (docs/wire.md §5), in bytes: `[max UDP payload IPv4, max UDP payload IPv6, max
/// transport message, max plaintext, Etherguard header, max Etherguard payload]`.
#[wasm_bindgen(js_name = wgLimits)]
pub fn wg_limits() -> Vec<u32> {
    use eg_core::noise::wire;
    [
        wire::MAX_UDP_PAYLOAD_V4,
        wire::MAX_UDP_PAYLOAD_V6,
        wire::MAX_TRANSPORT_LEN,
        wire::MAX_PLAINTEXT_LEN,
        eg_core::frame::HEADER_LEN,
        eg_core::frame::MAX_FRAME_PAYLOAD,
    ]
    .iter()
    .map(|&n| n as u32)
    .collect()
}

/// The module's linear memory (for views on `outputPtr` / `batchPtr`). Views must be
/// recreated after any call that may grow memory.
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
    batch: Vec<u8>,
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
            batch: Vec::new(),
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

    /// Address of the last output in `wgMemory().buffer`.
    #[wasm_bindgen(js_name = outputPtr)]
    pub fn output_ptr(&self) -> u32 {
        self.out[self.out_start..].as_ptr() as usize as u32
    }

    /// Length of the last output.
    #[wasm_bindgen(js_name = outputLen)]
    pub fn output_len(&self) -> u32 {
        self.out_len as u32
    }

    /// Run due timers. Returns records `[peer u32 LE][kind u8][len u32 LE][len bytes]`,
    /// kind 1 = send initiation, 2 = send keepalive, 3 = handshake gave up (drop queue),
    /// 4 = keys zeroed.
    pub fn tick(&mut self, now: f64, wall_ms: f64) -> Vec<u8> {
        let mut rec = Vec::new();
        for (peer, a) in self.dev.tick(now, Tai64N::from_unix_millis(wall_ms)) {
            let (kind, bytes): (u8, &[u8]) = match &a {
                Action::SendInitiation(b) => (1, b),
                Action::SendKeepalive(b) => (2, b),
                Action::HandshakeGaveUp => (3, &[]),
                Action::KeysZeroed => (4, &[]),
            };
            rec.extend_from_slice(&(peer as u32).to_le_bytes());
            rec.push(kind);
            rec.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            rec.extend_from_slice(bytes);
        }
        rec
    }

    /// When `tick` next has work (monotonic seconds; <= now means now), or undefined.
    #[wasm_bindgen(js_name = nextDeadline)]
    pub fn next_deadline(&self) -> Option<f64> {
        self.dev.next_deadline()
    }

    /// (Re)allocate the batch buffer to `count * stride` zero bytes; returns its address.
    /// Slot layout: +0 u32 len/status, +4 u32 peer, +16 transport message, +32 plaintext.
    #[wasm_bindgen(js_name = batchAlloc)]
    pub fn batch_alloc(&mut self, count: u32, stride: u32) -> u32 {
        self.batch = vec![0u8; count as usize * stride as usize];
        self.batch_ptr()
    }

    /// Address of the batch buffer in `wgMemory().buffer`.
    #[wasm_bindgen(js_name = batchPtr)]
    pub fn batch_ptr(&self) -> u32 {
        self.batch.as_ptr() as usize as u32
    }

    /// Length of the batch buffer.
    #[wasm_bindgen(js_name = batchLen)]
    pub fn batch_len(&self) -> u32 {
        self.batch.len() as u32
    }

    /// Seal `count` slots of the internal batch buffer in place; returns slots sealed,
    /// or `0x8000_0000 | reason` if the geometry is invalid. Per-slot status in `len`.
    #[wasm_bindgen(js_name = sealBatch)]
    pub fn seal_batch(&mut self, count: u32, stride: u32, now: f64) -> u32 {
        match self
            .dev
            .seal_batch(&mut self.batch, stride as usize, count as usize, now)
        {
            Ok(s) => s.ok as u32,
            Err(r) => 0x8000_0000 | r.code() as u32,
        }
    }

    /// Open `count` slots of the internal batch buffer in place; returns slots opened.
    #[wasm_bindgen(js_name = openBatch)]
    pub fn open_batch(&mut self, count: u32, stride: u32, now: f64) -> u32 {
        match self
            .dev
            .open_batch(&mut self.batch, stride as usize, count as usize, now)
        {
            Ok(s) => s.ok as u32,
            Err(r) => 0x8000_0000 | r.code() as u32,
        }
    }

    /// Like `sealBatch` on a JS-owned buffer (copied in and back out by wasm-bindgen).
    #[wasm_bindgen(js_name = sealBuffer)]
    pub fn seal_buffer(&mut self, buf: &mut [u8], count: u32, stride: u32, now: f64) -> u32 {
        match self
            .dev
            .seal_batch(buf, stride as usize, count as usize, now)
        {
            Ok(s) => s.ok as u32,
            Err(r) => 0x8000_0000 | r.code() as u32,
        }
    }

    /// Like `openBatch` on a JS-owned buffer.
    #[wasm_bindgen(js_name = openBuffer)]
    pub fn open_buffer(&mut self, buf: &mut [u8], count: u32, stride: u32, now: f64) -> u32 {
        match self
            .dev
            .open_batch(buf, stride as usize, count as usize, now)
        {
            Ok(s) => s.ok as u32,
            Err(r) => 0x8000_0000 | r.code() as u32,
        }
    }
}

/// Compares this build's ChaCha20-Poly1305 (the SIMD128 kernel in wasm) with RustCrypto's on
/// `count` pseudo-random cases; returns the number of disagreements (0 = identical).
#[wasm_bindgen(js_name = wgAeadSelfTest)]
pub fn wg_aead_self_test(seed: u32, count: u32) -> u32 {
    eg_core::noise::aead_check::compare_with_reference(u64::from(seed) << 32 | 0x9e37, count)
}
