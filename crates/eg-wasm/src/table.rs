//! A configured or downloaded next-hop table (static mode; super mode's pulled table), checked by
//! the route engine. The edge's data plane gets the same rows (`WgDevice.setRoutes`) and derives
//! the broadcast sets itself (`eg_core::plane::forward::Routes`).

use eg_core::route::Solution;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct NextHopTable {
    sol: Solution,
}

#[wasm_bindgen]
impl NextHopTable {
    /// `triples` = [src, dst, next, src, dst, next, ...].
    #[wasm_bindgen(constructor)]
    pub fn new(triples: &[u16]) -> Result<NextHopTable, JsError> {
        if triples.len() % 3 != 0 {
            return Err(JsError::new("next-hop table: expected (src, dst, next) triples"));
        }
        let rows: Vec<(u16, u16, u16)> = triples.chunks_exact(3).map(|c| (c[0], c[1], c[2])).collect();
        let sol = Solution::from_next_hops(&rows).map_err(|e| JsError::new(&format!("next-hop table: {e}")))?;
        Ok(NextHopTable { sol })
    }

    /// 65532 when there is no entry.
    #[wasm_bindgen(js_name = nextHop)]
    pub fn next_hop(&self, src: u16, dst: u16) -> u16 {
        self.sol.next_hop(src, dst)
    }
}
