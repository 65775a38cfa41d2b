//! # shenbao-sdk — write a Shenbao program plugin in Rust
//!
//! A program plugin is a WebAssembly component that exports the
//! `shenbao:program/plugin@0.1.0` interface (see `wit/0.1.0/program.wit`). This
//! crate hides the WIT bindings: implement [`Program`] for a type, register it with
//! [`export_program!`], and build with `cargo build --target wasm32-wasip2`.
//!
//! ```
//! use shenbao_sdk::prelude::*;
//!
//! /// The rule table reads like the notice's clause list.
//! const RULES: &[RuleDef] = &[RuleDef {
//!     id: "demo.staff.min-20",
//!     severity: Severity::Blocking,
//!     clause: "demo 第三条",
//!     zh: "研发团队不少于 20 人",
//!     en: "an R&D team of at least 20",
//! }];
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct DemoForm {
//!     /// Size of the R&D team.
//!     #[schemars(title = "研发人员数（人）")]
//!     rd_staff: u32,
//! }
//!
//! struct Demo;
//! impl Program for Demo {
//!     fn manifest() -> Manifest {
//!         ManifestBuilder::new("demo", Text::new("示例项目", "Demo program"), "0.1.0")
//!             .form(form::<DemoForm>("main", Text::new("申报表", "Application form")))
//!             .rules(RULES)
//!             .build()
//!     }
//!     fn check(req: &CheckRequest) -> Result<CheckResult, PluginError> {
//!         let form: DemoForm = parse_form(req)?;
//!         let mut c = Checker::new(RULES);
//!         c.ensure("demo.staff.min-20", "$.rd_staff", form.rd_staff >= 20, || msg(
//!             format!("研发人员 {} 人，要求不少于 20 人", form.rd_staff),
//!             format!("R&D staff {}, at least 20 required", form.rd_staff),
//!         ));
//!         Ok(c.finish())
//!     }
//! }
//! shenbao_sdk::export_program!(Demo);
//!
//! # let mut req = shenbao_sdk::testing::request("main", serde_json::json!({"rd_staff": 12}));
//! let result = Demo::check(&req).unwrap();
//! assert_eq!(result.findings[0].rule_id, "demo.staff.min-20");
//! assert_eq!(result.findings[0].message.zh, "研发人员 12 人，要求不少于 20 人");
//! ```
//!
//! The same `impl Program` runs natively (for unit tests and benchmarks) and,
//! through the exported component, inside the kernel's sandbox.

extern crate self as shenbao_sdk;

#[cfg_attr(not(all(target_family = "wasm", not(target_feature = "atomics"), feature = "arena")), allow(dead_code))]
mod arena;
mod checker;
#[doc(hidden)]
pub mod glue;
pub mod graph;
mod helpers;
mod manifest;
mod money;
pub mod testing;

pub use checker::{Checker, RuleDef, msg};
pub use graph::{Library, PlatformGraph};
pub use helpers::{Count, JsonPath, Quoted, at_least, attachments_of, has_tag, one_of, parse_form, parse_json, quoted};
pub use manifest::{ManifestBuilder, for_people, form, form_schema, form_with};
pub use money::Wan;
pub use shenbao_contract::*;

/// Everything a plugin usually needs.
pub mod prelude {
    pub use crate::{
        Applicant, AttachmentType, Category, CheckRequest, CheckResult, Checker, Date, Direction, Finding, Form,
        JsonPath, Manifest, ManifestBuilder, PluginError, Program, RoundCheck, RoundInfo, RuleDef, Severity, Signal,
        Text, Wan, at_least, attachments_of, credit_code, form, form_with, has_tag, msg, one_of, parse_form,
        parse_json, project_key, quoted,
    };
}

/// A yearly program, as a plugin author writes it.
pub trait Program {
    /// Describe the program: forms, directions, rules, quotas, default graph.
    fn manifest() -> Manifest;

    /// Check one application. Must be a pure function of `request`: read dates from
    /// `request.as_of`, never from a clock.
    fn check(request: &CheckRequest) -> Result<CheckResult, PluginError>;

    /// Check a round's configuration and return the directions in force.
    /// The default accepts any configuration and returns the manifest's directions
    /// for the round's edition.
    fn check_round(round: &RoundInfo) -> Result<RoundCheck, PluginError> {
        let manifest = Self::manifest();
        if !manifest.editions.is_empty() && !manifest.editions.iter().any(|e| e.id == round.edition) {
            return Err(PluginError::new(
                "unknown-edition",
                format!("未知的版本“{}”", round.edition),
                format!("unknown edition {:?}", round.edition),
            ));
        }
        let directions = manifest
            .directions
            .into_iter()
            .filter(|d| d.editions.is_empty() || d.editions.contains(&round.edition))
            .collect();
        Ok(RoundCheck { findings: Vec::new(), directions })
    }
}

/// The wit-bindgen bindings of `wit/0.1.0`. Not part of the SDK's API.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/0.1.0",
        world: "shenbao:program/program",
        pub_export_macro: true,
        export_macro_name: "__export_program_0_1",
        default_bindings_module: "shenbao_sdk::bindings",
        runtime_path: "shenbao_sdk::__wit_bindgen::rt",
    });
}

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

/// Register a [`Program`] as the component's export.
///
/// Expands to nothing on targets other than wasm32, so the same crate can be
/// linked natively next to other programs (tests, benchmarks).
#[macro_export]
macro_rules! export_program {
    ($program:ty) => {
        #[cfg(target_arch = "wasm32")]
        #[doc(hidden)]
        mod __shenbao_export {
            #[allow(unused_imports)]
            use super::*;
            use $crate::bindings::exports::shenbao::program::plugin as p;
            use $crate::bindings::shenbao::program::types as t;
            pub struct Export;
            impl p::Guest for Export {
                fn describe() -> t::Manifest {
                    $crate::glue::describe::<$program>()
                }
                fn check_application(request: t::CheckRequest) -> Result<t::CheckResult, t::PluginError> {
                    $crate::glue::check_application::<$program>(request)
                }
                fn check_round(round: t::RoundInfo) -> Result<t::RoundCheck, t::PluginError> {
                    $crate::glue::check_round::<$program>(round)
                }
            }
            $crate::bindings::__export_program_0_1!(Export with_types_in $crate::bindings);
        }
    };
}
