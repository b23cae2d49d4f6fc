//! L1 providers a node may be given that are not honest or not generous: one that forges the
//! logs it returns, one that caps `eth_getLogs` as public providers do. Both pass everything else
//! through to the real chain.

#![allow(dead_code)]

use verifier::l1::{Address, Bytes, L1Error, Log, Revert, TxReceipt, Wallet, B256, L1, U256};

/// What a provider does to a `logs` answer: the logs to return, or a refusal.
pub type LogFilter = Box<dyn FnMut(u64, u64, Vec<Log>) -> Result<Vec<Log>, L1Error>>;

pub struct Provider<'a> {
    pub inner: &'a mut dyn L1,
    pub filter: &'a mut LogFilter,
    /// `logs` requests answered and refused.
    pub requests: u64,
    pub refused: u64,
    /// Flip the last byte of every transaction's calldata it returns.
    pub forge_calldata: bool,
}

impl<'a> Provider<'a> {
    pub fn new(inner: &'a mut dyn L1, filter: &'a mut LogFilter) -> Provider<'a> {
        Provider {
            inner,
            filter,
            requests: 0,
            refused: 0,
            forge_calldata: false,
        }
    }
}

/// Logs as they are.
pub fn honest() -> LogFilter {
    Box::new(|_, _, logs| Ok(logs))
}

/// A provider's limits on one `eth_getLogs`: blocks spanned and logs returned.
pub fn capped(max_blocks: u64, max_results: usize) -> LogFilter {
    Box::new(move |from, to, logs| {
        if to.saturating_sub(from) + 1 > max_blocks {
            return Err(L1Error::Node(format!(
                "block range too large: at most {max_blocks} blocks"
            )));
        }
        if logs.len() > max_results {
            return Err(L1Error::Node(format!(
                "query returned more than {max_results} results"
            )));
        }
        Ok(logs)
    })
}

impl L1 for Provider<'_> {
    fn chain_id(&self) -> u64 {
        self.inner.chain_id()
    }
    fn head(&mut self) -> Result<(u64, u64), L1Error> {
        self.inner.head()
    }
    fn balance(&mut self, who: Address) -> Result<U256, L1Error> {
        self.inner.balance(who)
    }
    fn deploy(&mut self, from: &Wallet, init_code: Vec<u8>) -> Result<Address, L1Error> {
        self.inner.deploy(from, init_code)
    }
    fn send(
        &mut self,
        from: &Wallet,
        to: Address,
        value: U256,
        data: Vec<u8>,
    ) -> Result<TxReceipt, L1Error> {
        self.inner.send(from, to, value, data)
    }
    fn call(&mut self, to: Address, data: Vec<u8>) -> Result<Result<Bytes, Revert>, L1Error> {
        self.inner.call(to, data)
    }
    fn logs(&mut self, address: Address, from: u64, to: u64) -> Result<Vec<Log>, L1Error> {
        let logs = self.inner.logs(address, from, to)?;
        let answer = (self.filter)(from, to, logs);
        match answer {
            Ok(_) => self.requests += 1,
            Err(_) => self.refused += 1,
        }
        answer
    }
    fn transaction_input(&mut self, hash: B256) -> Result<Bytes, L1Error> {
        let input = self.inner.transaction_input(hash)?;
        if !self.forge_calldata {
            return Ok(input);
        }
        let mut forged = input.to_vec();
        if let Some(last) = forged.last_mut() {
            *last ^= 1;
        }
        Ok(forged.into())
    }
    fn fee(&mut self, hash: B256) -> Result<U256, L1Error> {
        self.inner.fee(hash)
    }
    fn advance_time(&mut self, seconds: u64) -> Result<(), L1Error> {
        self.inner.advance_time(seconds)
    }
    fn set_balance(&mut self, who: Address, wei: U256) -> Result<(), L1Error> {
        self.inner.set_balance(who, wei)
    }
    fn send_blobs(
        &mut self,
        from: &Wallet,
        to: Address,
        data: Vec<u8>,
        blobs: Vec<Vec<u8>>,
    ) -> Result<TxReceipt, L1Error> {
        self.inner.send_blobs(from, to, data, blobs)
    }
    fn blobs(&mut self, hash: B256) -> Result<Vec<Vec<u8>>, L1Error> {
        self.inner.blobs(hash)
    }
    fn fees(&mut self) -> Result<verifier::l1::Fees, L1Error> {
        self.inner.fees()
    }
}

/// A contract that forwards any call (and its value) to `target` and hands back what it
/// returned or reverted with: a smart wallet, as far as the inbox can tell. Assembled by hand
/// (PUSH0 needs Shanghai): CALLDATACOPY the input, CALL target, RETURNDATACOPY, RETURN or REVERT.
pub fn forwarder_init_code(target: Address) -> Vec<u8> {
    let mut runtime = vec![0x36, 0x5f, 0x5f, 0x37, 0x5f, 0x5f, 0x36, 0x5f, 0x34, 0x73];
    runtime.extend_from_slice(target.as_slice());
    runtime.extend_from_slice(&[
        0x5a, 0xf1, 0x3d, 0x5f, 0x5f, 0x3e, 0x60, 0x2a, 0x57, 0x3d, 0x5f, 0xfd, 0x5b, 0x3d, 0x5f,
        0xf3,
    ]);
    assert_eq!(runtime.len(), 46);
    assert_eq!(runtime[42], 0x5b, "the jump lands on its JUMPDEST");
    // CODECOPY the runtime (46 bytes from offset 9) to memory 0 and RETURN it.
    let mut init = vec![0x60, 0x2e, 0x80, 0x60, 0x09, 0x5f, 0x39, 0x5f, 0xf3];
    init.extend_from_slice(&runtime);
    init
}
