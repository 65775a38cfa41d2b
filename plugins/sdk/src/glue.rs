//! The guest side of the boundary: wit-bindgen types ⇄ contract types ⇄ [`Program`].

use crate::Program;
use crate::bindings::shenbao::program::types as t;
use shenbao_contract::convert::Conv;

shenbao_contract::conv_contract_0_1!(crate::bindings::shenbao::program::types);

pub fn describe<P: Program>() -> t::Manifest {
    P::manifest().conv()
}

pub fn check_application<P: Program>(request: t::CheckRequest) -> Result<t::CheckResult, t::PluginError> {
    let request: shenbao_contract::CheckRequest = request.conv();
    P::check(&request).map(Conv::conv).map_err(Conv::conv)
}

pub fn check_round<P: Program>(round: t::RoundInfo) -> Result<t::RoundCheck, t::PluginError> {
    let round: shenbao_contract::RoundInfo = round.conv();
    P::check_round(&round).map(Conv::conv).map_err(Conv::conv)
}
