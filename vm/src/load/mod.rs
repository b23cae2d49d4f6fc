//! Loading: parse and validate a module, and lower its functions to the flat op array that the
//! machine steps through and the module hash commits to.

pub mod code;
pub(crate) mod module;
pub(crate) mod translate;
